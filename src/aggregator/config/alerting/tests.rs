use super::super::{AggregatorConfig, FileConfig, Flags};
use super::*;

fn load(yaml: &str) -> Result<AggregatorConfig, String> {
    let file = FileConfig::parse(yaml)?;
    AggregatorConfig::merge(Flags::default(), file).map_err(|e| e.to_string())
}

fn flags(args: &[&str]) -> Flags {
    use clap::Parser;
    let mut all = vec!["nodepulse-aggregator"];
    all.extend_from_slice(args);
    Flags::try_parse_from(all).unwrap()
}

#[test]
fn prometheus_alerting_section_with_defaults() {
    let c = load(
        "global:\n  external_labels: {cluster: prod}\n\
         alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['am1:9093', 'am2:9093']\n\
         \x20 - scheme: https\n    path_prefix: /am/\n    timeout: 3s\n    api_version: v2\n\
         \x20   static_configs: [{targets: ['am3']}]\n",
    )
    .unwrap();
    let n = &c.alerting.notify;
    let urls: Vec<&str> = n.alertmanagers.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://am1:9093/api/v2/alerts",
            "http://am2:9093/api/v2/alerts",
            "https://am3/am/api/v2/alerts"
        ]
    );
    assert_eq!(n.alertmanagers[0].timeout, Duration::from_secs(10));
    assert_eq!(n.alertmanagers[2].timeout, Duration::from_secs(3));
    assert_eq!(n.queue_capacity, 10_000);
    assert_eq!(
        n.external_labels,
        [("cluster".to_owned(), "prod".to_owned())]
    );
    assert!(n.webhooks.is_empty());
}

#[test]
fn webhooks_with_group_by_and_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let yaml = format!(
        "notifications:\n  queue_capacity: 50\n  external_url: http://agg\n  webhooks:\n\
         \x20 - url: http://hook:8080/alerts\n    name: ops\n    timeout: 2s\n\
         \x20   group_by: [alertname, namespace]\n\
         \x20   authorization: {{credentials_file: {}}}\n\
         \x20 - url: https://other/x\n    group_by: ['...']\n",
        token.display()
    );
    let c = load(&yaml).unwrap();
    let n = &c.alerting.notify;
    assert_eq!(n.queue_capacity, 50);
    let w = &n.webhooks[0];
    assert_eq!(w.target.url, "http://hook:8080/alerts");
    assert_eq!(w.target.timeout, Duration::from_secs(2));
    let auth = w.target.authorization.as_ref().unwrap().read().unwrap();
    assert_eq!(
        (auth.kind.as_str(), auth.credentials.as_str()),
        ("Bearer", "s3cret")
    );
    assert_eq!(w.receiver.name, "ops");
    assert_eq!(w.receiver.external_url, "http://agg");
    assert_eq!(
        w.receiver.group_by,
        GroupBy::Labels(vec!["alertname".into(), "namespace".into()])
    );
    assert_eq!(n.webhooks[1].receiver.group_by, GroupBy::All);
    assert_eq!(n.webhooks[1].receiver.name, "webhook");
    assert!(!format!("{:?}", c.alerting).contains("s3cret"));
}

#[test]
fn flags_add_alertmanagers_and_set_the_capacity() {
    let f = flags(&[
        "--alertmanager.url=http://am:9093",
        "--alertmanager.url=https://am.example/prefix/",
        "--alertmanager.notification-queue-capacity=7",
    ]);
    let c = AggregatorConfig::merge(f, FileConfig::default()).unwrap();
    let n = &c.alerting.notify;
    let urls: Vec<&str> = n.alertmanagers.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://am:9093/api/v2/alerts",
            "https://am.example/prefix/api/v2/alerts"
        ]
    );
    assert_eq!(n.queue_capacity, 7);
    // Shown as the alertmanagers entries they stand for.
    let yaml = super::super::render(&c);
    for want in [
        "- am:9093",
        "- am.example",
        "path_prefix: /prefix/",
        "scheme: https",
    ] {
        assert!(yaml.contains(want), "{want} not in\n{yaml}");
    }
}

#[test]
fn bad_settings_name_their_key() {
    let am = |extra: &str| {
        format!(
            "alerting:\n  alertmanagers:\n  - static_configs: [{{targets: [am:9093]}}]\n{extra}"
        )
    };
    let cases = [
        (
            am("    api_version: v1\n"),
            "api_version v1 is not supported",
        ),
        (am("    api_version: v3\n"), "one of [v2] but got v3"),
        (am("    scheme: ftp\n"), "alerting.alertmanagers"),
        (am("    timeout: 0s\n"), "alerting.alertmanagers.timeout"),
        (am("    timeout: soon\n"), "alerting.alertmanagers.timeout"),
        (
            am("    authorization: {type: Basic, credentials: x}\n"),
            "cannot be set to \"basic\"",
        ),
        (
            am("    authorization: {}\n"),
            "set credentials_file or credentials",
        ),
        (
            am("    authorization: {credentials_file: /nonexistent/token}\n"),
            "unable to read authorization credentials file /nonexistent/token",
        ),
        (
            am("    relabel_configs: [{action: hashmod, target_label: x}]\n"),
            "rule 0: relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "alerting:\n  alert_relabel_configs: [{action: labeldrop, regex: x}, {regex: '('}]\n"
                .into(),
            "rule 1: invalid regex",
        ),
        (
            "alerting:\n  alert_relabel_configs: [{action: nope}]\n".into(),
            "unknown relabel action",
        ),
        (
            "alerting:\n  alertmanagers:\n  - dns_sd_configs: [{names: [am]}]\n".into(),
            "unknown field `dns_sd_configs`",
        ),
        (
            "alerting:\n  alertmanagers:\n  - static_configs: [{targets: ['http://am']}]\n".into(),
            "is not host:port",
        ),
        (
            "notifications:\n  webhooks:\n  - url: ftp://x\n".into(),
            "notifications.webhooks.url",
        ),
        (
            "notifications:\n  webhooks:\n  - url: not a url\n".into(),
            "notifications.webhooks.url",
        ),
        (
            "notifications:\n  webhooks:\n  - url: http://x\n    group_by: ['...', a]\n".into(),
            "group_by",
        ),
        (
            "notifications:\n  webhooks:\n  - url: http://x\n    secret: y\n".into(),
            "unknown field `secret`",
        ),
        (
            "notifications:\n  queue_capacity: 0\n".into(),
            "notifications.queue_capacity",
        ),
        (
            "alerting:\n  webhooks: []\n".into(),
            "unknown field `webhooks`",
        ),
    ];
    for (yaml, want) in cases {
        let e = load(&yaml).unwrap_err();
        assert!(e.contains(want), "{yaml}\n=> {e}\nwanted {want}");
    }
    let f = flags(&["--alertmanager.url=am:9093"]);
    let e = AggregatorConfig::merge(f, FileConfig::default()).unwrap_err();
    assert!(e.to_string().contains("--alertmanager.url"), "{e}");
}

#[test]
fn shown_with_defaults_and_without_secrets() {
    let c = load(
        "alerting:\n  alertmanagers:\n  - static_configs: [{targets: [am:9093]}]\n\
         \x20   authorization: {credentials: hunter2}\nnotifications:\n  webhooks:\n  - url: http://hook/\n",
    )
    .unwrap();
    let yaml = super::super::render(&c);
    assert!(!yaml.contains("hunter2"), "{yaml}");
    assert!(!yaml.contains("null"), "{yaml}");
    for want in [
        "alerting:",
        "api_version: v2",
        "scheme: http",
        "path_prefix: /",
        "timeout: 10s",
        "credentials: <secret>",
        "type: Bearer",
        "queue_capacity: 10000",
        "- alertname",
        "name: webhook",
    ] {
        assert!(yaml.contains(want), "{want} not in\n{yaml}");
    }
    // Ours comes before Prometheus's part, which holds only Prometheus's keys.
    let prometheus_part = &yaml[yaml.find("\nglobal:").unwrap()..];
    assert!(prometheus_part.contains("targets:"), "{yaml}");
    assert!(!prometheus_part.contains("webhooks"), "{yaml}");
    // And it loads back to itself.
    let again = AggregatorConfig::merge(Flags::default(), FileConfig::parse(&yaml).unwrap());
    assert_eq!(super::super::render(&again.unwrap()), yaml);
}

#[test]
fn basic_auth_and_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "from-file\n").unwrap();
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let yaml = format!(
        "alerting:\n  alertmanagers:\n  - scheme: https\n    static_configs: [{{targets: [am:9093]}}]\n\
         \x20   basic_auth: {{username: prom, password: hunter2}}\n    tls_config: {{ca_file: {ca}}}\n\
         notifications:\n  webhooks:\n  - url: https://hook/\n\
         \x20   basic_auth: {{username: ops, password_file: {}}}\n    tls_config: {{ca_file: {ca}}}\n",
        password.display()
    );
    let c = load(&yaml).unwrap();
    let n = &c.alerting.notify;
    let (am, hook) = (&n.alertmanagers[0], &n.webhooks[0].target);
    let header = |t: &Target| t.authorization.as_ref().unwrap().read().unwrap().header();
    // base64("prom:hunter2") and base64("ops:from-file")
    assert_eq!(header(am), "Basic cHJvbTpodW50ZXIy");
    assert_eq!(header(hook), "Basic b3BzOmZyb20tZmlsZQ==");
    let pem = std::fs::read(ca).unwrap();
    assert_eq!(am.tls.ca_pem.as_deref(), Some(&pem[..]));
    assert_eq!(hook.tls.ca_pem.as_deref(), Some(&pem[..]));
    let yaml = super::super::render(&c);
    assert!(!yaml.contains("hunter2"), "{yaml}");
    for want in [
        "password: <secret>",
        "username: prom",
        "password_file:",
        "ca_file:",
    ] {
        assert!(yaml.contains(want), "{want} not in\n{yaml}");
    }
}

#[test]
fn bad_credentials_and_tls_settings_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "no certificate here\n").unwrap();
    let am = |extra: &str| {
        format!(
            "alerting:\n  alertmanagers:\n  - static_configs: [{{targets: [am:9093]}}]\n{extra}"
        )
    };
    let cases = [
        (
            am("    basic_auth: {username: a, password: b}\n    authorization: {credentials: c}\n"),
            "at most one of basic_auth, oauth2 & authorization",
        ),
        (
            am("    basic_auth: {username: a, password: b, password_file: /p}\n"),
            "at most one of basic_auth password & password_file",
        ),
        (
            am("    basic_auth: {username: 'a:b', password: c}\n"),
            "alerting.alertmanagers.basic_auth",
        ),
        (
            am("    basic_auth: {username: a, password_file: /nonexistent/pw}\n"),
            "unable to read basic auth password file /nonexistent/pw",
        ),
        (
            am("    tls_config: {ca_file: /nonexistent/ca.pem}\n"),
            "reading /nonexistent/ca.pem",
        ),
        (
            am(&format!("    tls_config: {{ca_file: {}}}\n", not_pem.display())),
            "holds no PEM certificate",
        ),
        (
            am("    tls_config: {server_name: am.example}\n"),
            "unknown field `server_name`",
        ),
        (
            "notifications:\n  webhooks:\n  - url: http://x\n    tls_config: {cert_file: /c}\n"
                .into(),
            "client cert file \"/c\" specified without client key file",
        ),
        (
            am("    tls_config: {key_file: /k}\n"),
            "client key file \"/k\" specified without client cert file",
        ),
        (
            am(&format!(
                "    tls_config: {{cert_file: {0}, key_file: {0}}}\n",
                not_pem.display()
            )),
            "not a certificate and its key",
        ),
        (
            "notifications:\n  webhooks:\n  - url: http://x\n    basic_auth: {username: a, password: b}\n\
             \x20   authorization: {credentials: c}\n"
                .into(),
            "notifications.webhooks",
        ),
    ];
    for (yaml, want) in cases {
        let e = load(&yaml).unwrap_err();
        assert!(e.contains(want), "{yaml}\n=> {e}\nwanted {want}");
    }
}

#[test]
fn alertmanager_targets_are_relabelled_as_prometheus_builds_them() {
    let c = load(
        "alerting:\n  alert_relabel_configs: [{action: labeldrop, regex: replica}]\n\
         \x20 alertmanagers:\n  - path_prefix: /pre\n    static_configs: [{targets: ['am1:9093', 'am2:9093']}]\n\
         \x20   relabel_configs:\n\
         \x20   - {source_labels: [__address__], regex: 'am2:.*', action: drop}\n\
         \x20   - {target_label: __scheme__, replacement: https}\n\
         \x20   - {source_labels: [__address__], regex: '(.*):9093', target_label: __address__, replacement: '$1.svc:9443'}\n",
    )
    .unwrap();
    let n = &c.alerting.notify;
    let urls: Vec<&str> = n.alertmanagers.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(urls, ["https://am1.svc:9443/pre/api/v2/alerts"]);
    assert_eq!(n.alert_relabel.len(), 1);
}

#[test]
fn alertmanagers_found_by_kubernetes_discovery() {
    let c = load(
        "alerting:\n  alertmanagers:\n  - scheme: https\n    path_prefix: /am\n    timeout: 4s\n\
         \x20   kubernetes_sd_configs: [{role: endpoints, namespaces: {names: [monitoring]}}]\n\
         \x20   relabel_configs: [{source_labels: [__meta_kubernetes_service_name], regex: alertmanager, action: keep}]\n",
    )
    .unwrap();
    let n = &c.alerting.notify;
    assert!(n.alertmanagers.is_empty());
    let d = &n.discovered[0];
    assert_eq!((d.sd.len(), d.relabel.len()), (1, 1));
    assert_eq!(d.sd[0].namespaces, ["monitoring"]);
    assert_eq!(d.template.timeout, Duration::from_secs(4));
    let found = |service: &str| {
        let labels = vec![
            ("__address__".to_owned(), "10.0.0.7:9093".to_owned()),
            (
                "__meta_kubernetes_service_name".to_owned(),
                service.to_owned(),
            ),
        ];
        d.target(labels).map(|t| t.url)
    };
    assert_eq!(
        found("alertmanager").as_deref(),
        Some("https://10.0.0.7:9093/am/api/v2/alerts")
    );
    assert_eq!(found("grafana"), None);
    let shown = super::super::render(&c);
    assert!(shown.contains("role: endpoints"), "{shown}");
    let again = load(&shown).unwrap();
    assert_eq!(again.alerting.notify.discovered, n.discovered, "{shown}");
}
