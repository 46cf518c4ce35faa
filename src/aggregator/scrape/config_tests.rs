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
