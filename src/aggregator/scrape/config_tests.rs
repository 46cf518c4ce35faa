use super::*;

#[test]
fn defaults_are_prometheus_defaults_and_a_job_timeout_is_capped_by_its_interval() {
    let c = Config::parse(
        "global:\n  scrape_timeout: 20s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 15s\n    static_configs: [{targets: ['h:1']}]\n  - job_name: b\n",
    )
    .unwrap();
    let (a, b) = (&c.scrape_configs[0], &c.scrape_configs[1]);
    assert_eq!(
        (a.interval, a.timeout),
        (Duration::from_secs(15), Duration::from_secs(15))
    );
    assert_eq!(
        (b.interval, b.timeout),
        (Duration::from_secs(60), Duration::from_secs(20))
    );
    assert_eq!(
        (a.metrics_path.as_str(), a.scheme.as_str()),
        ("/metrics", "http")
    );
    assert!(a.honor_timestamps && !a.honor_labels);
    assert_eq!(a.body_size_limit, DEFAULT_BODY_SIZE_LIMIT);
    assert_eq!(a.static_configs[0].targets, ["h:1"]);
}

#[test]
fn mistakes_are_refused_with_their_place() {
    let cases = [
        (
            "scrape_configs:\n  - job_name: a\n    scrape_intervall: 1s\n",
            "scrape_intervall",
        ),
        (
            "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
            "multiple scrape configs",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
            "greater than scrape interval",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5 s\n",
            "scrape_configs[a].scrape_interval",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
            "unknown scheme",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n",
            "not a size",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: keep, regex: '('}]\n",
            "relabel_configs[0]: invalid regex",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: explode}]\n",
            "unknown relabel action",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: replace}]\n",
            "requires 'target_label'",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: /t\n",
            "scrape_configs[a]: at most one of bearer_token & bearer_token_file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    basic_auth: {username: u}\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    authorization: {credentials: y}\n",
            "authorization is not compatible with bearer_token",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    authorization: {credentials: y}\n    basic_auth: {username: u}\n",
            "scrape_configs[a]: at most one of basic_auth, oauth2 & authorization",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    bearer_token_file: /nonexistent/token\n",
            "scrape_configs[a].authorization: unable to read authorization credentials file /nonexistent/token",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: /c}\n",
            "scrape_configs[a].tls_config: client cert file",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    tls_config: {server_name: x}\n",
            "server_name",
        ),
    ];
    for (yaml, want) in cases {
        let err = Config::parse(yaml).unwrap_err().to_string();
        assert!(err.contains(want), "{yaml:?}: {err:?} lacks {want:?}");
    }
}

#[test]
fn sizes_are_base_two_and_zero_is_none() {
    assert_eq!(bytes("512KB"), Some(512 << 10));
    assert_eq!(bytes("10MB"), Some(10 << 20));
    assert_eq!(bytes("0"), Some(u64::MAX));
    assert_eq!(bytes("x"), None);
}

#[test]
fn a_bearer_token_is_an_authorization_read_per_scrape_and_shown_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "one\n").unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: a\n    bearer_token: s3cret\n  - job_name: b\n    bearer_token_file: {}\n  - job_name: c\n    basic_auth: {{username: u, password: p}}\n  - job_name: d\n",
        token.display()
    );
    let c = Config::parse(&yaml).unwrap();
    let header = |i: usize| c.scrape_configs[i].client.header().unwrap();
    assert_eq!(header(0).as_deref(), Some("Bearer s3cret"));
    assert_eq!(header(1).as_deref(), Some("Bearer one"));
    std::fs::write(&token, "two").unwrap();
    assert_eq!(header(1).as_deref(), Some("Bearer two"));
    assert_eq!(header(2).as_deref(), Some("Basic dTpw"));
    assert_eq!(header(3), None);
    let shown = |i: usize| {
        c.scrape_configs[i]
            .client_keys
            .authorization
            .clone()
            .unwrap()
    };
    assert_eq!(shown(0).credentials.as_deref(), Some("<secret>"));
    assert_eq!(shown(0).kind.as_deref(), Some("Bearer"));
    assert_eq!(shown(1).credentials_file, Some(token));
    let basic = c.scrape_configs[2].client_keys.basic_auth.clone().unwrap();
    assert_eq!(basic.password.as_deref(), Some("<secret>"));
}
