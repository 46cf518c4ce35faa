//! The notifier reaching a real Alertmanager (Debian's 0.25) that serves only TLS, with
//! a certificate from a private CA, and asks for basic auth (its `--web.config.file`).
//! Configured as Prometheus would be (`scheme: https`, `tls_config.ca_file`,
//! `basic_auth`), our alert arrives; without the CA, or with a wrong password, it does
//! not, and the failed sends are counted as errors. An Alertmanager that asks for a
//! client certificate gets ours (`cert_file`, `key_file`) and refuses a notifier without
//! one; `insecure_skip_verify` reaches it without the CA. The certificates are made by
//! the `openssl` command for each run.

mod common;
mod notify_support;

use common::certs::{make_certs, PASSWORD_HASH};
use common::{peer, Server};
use nodepulse::aggregator::config::{AggregatorConfig, FileConfig, Flags};
use nodepulse::aggregator::notify::{Notifier, NotifyConfig};
use notify_support::{alert, fast_retries, metric, start, wait_until};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Alertmanager serving TLS only, with one basic-auth user `prom`.
fn start_alertmanager(dir: &Path) -> Option<Server> {
    start_alertmanager_with(
        dir,
        &format!("basic_auth_users:\n  prom: {PASSWORD_HASH}\n"),
    )
}

/// Alertmanager serving TLS only, with `extra` in its web configuration.
fn start_alertmanager_with(dir: &Path, extra: &str) -> Option<Server> {
    let program = peer("prometheus-alertmanager")?;
    make_certs(dir);
    let web = dir.join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\n{extra}",
            dir.display()
        ),
    )
    .unwrap();
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: none\nreceivers:\n- name: none\n",
    )
    .unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--web.config.file={}", web.display()),
        format!("--storage.path={}", dir.join("data").display()),
        "--cluster.listen-address=".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // plain HTTP to a TLS-only Go server is answered 400: it serves
    Some(Server::start_answering(&program, &args, "/-/ready", 400))
}

/// The notifier a config file's `alerting` section makes, with fast retries.
fn notifier(port: u16, extra: &str) -> Notifier {
    let yaml = format!(
        "alerting:\n  alertmanagers:\n  - scheme: https\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n{extra}"
    );
    let file = FileConfig::parse(&yaml).unwrap();
    let config = AggregatorConfig::merge(Flags::default(), file).unwrap();
    start(NotifyConfig {
        retry: fast_retries(2),
        ..config.alerting.notify
    })
}

/// The names of the alerts Alertmanager holds, read over TLS with the password (and
/// the client certificate in `ca`'s directory, for one that asks for it).
async fn alert_names(port: u16, ca: &Path) -> Vec<String> {
    let dir = ca.parent().unwrap();
    let mut identity = std::fs::read(dir.join("client.pem")).unwrap();
    identity.extend(std::fs::read(dir.join("client.key")).unwrap());
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .build()
        .unwrap();
    let body = client
        .get(format!("https://127.0.0.1:{port}/api/v2/alerts"))
        .basic_auth("prom", Some("am-secret"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    let names = body.as_array().expect("a list of alerts").iter();
    names
        .map(|a| {
            a["labels"]["alertname"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_reaches_alertmanager_over_tls_with_basic_auth_and_only_so() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().to_owned();
    let started = tokio::task::spawn_blocking(move || start_alertmanager(&at));
    let Some(am) = started.await.unwrap() else {
        return;
    };
    let (port, ca) = (am.port, dir.path().join("ca.pem"));
    let url = format!("https://127.0.0.1:{port}/api/v2/alerts");
    let ends = Some(SystemTime::now() + Duration::from_secs(600));
    let trusted = format!("    tls_config: {{ca_file: {}}}\n", ca.display());

    let good = notifier(
        port,
        &format!("{trusted}    basic_auth: {{username: prom, password: am-secret}}\n"),
    );
    good.send(vec![alert("OverTls", &[], ends)]);
    wait_until("the alert sent over TLS", || {
        metric(&good, "nodepulse_notifications_sent_total", &url) == 1.0
    })
    .await;
    assert!(alert_names(port, &ca).await.contains(&"OverTls".to_owned()));

    let untrusted = notifier(
        port,
        "    basic_auth: {username: prom, password: am-secret}\n",
    );
    let wrong = notifier(
        port,
        &format!("{trusted}    basic_auth: {{username: prom, password: guess}}\n"),
    );
    untrusted.send(vec![alert("NoCa", &[], ends)]);
    wrong.send(vec![alert("WrongPassword", &[], ends)]);
    for (n, what) in [(&untrusted, "no CA"), (&wrong, "a wrong password")] {
        wait_until(what, || {
            metric(n, "nodepulse_notifications_errors_total", &url) >= 1.0
        })
        .await;
        assert_eq!(metric(n, "nodepulse_notifications_sent_total", &url), 0.0);
    }
    let names = alert_names(port, &ca).await;
    assert_eq!(names, ["OverTls"], "only the alert sent with both got in");
    assert_eq!(
        metric(&good, "nodepulse_notifications_errors_total", &url),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alertmanager_asking_for_a_client_certificate_gets_ours() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().to_owned();
    let web = format!(
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}/ca.pem\n",
        at.display()
    );
    let started = tokio::task::spawn_blocking(move || start_alertmanager_with(&at, &web));
    let Some(am) = started.await.unwrap() else {
        return;
    };
    let (port, d) = (am.port, dir.path().display());
    let url = format!("https://127.0.0.1:{port}/api/v2/alerts");
    let ends = Some(SystemTime::now() + Duration::from_secs(600));
    let client = format!("cert_file: {d}/client.pem, key_file: {d}/client.key");

    let with_cert = notifier(
        port,
        &format!("    tls_config: {{ca_file: {d}/ca.pem, {client}}}\n"),
    );
    let skipping = notifier(
        port,
        &format!("    tls_config: {{insecure_skip_verify: true, {client}}}\n"),
    );
    let without = notifier(port, &format!("    tls_config: {{ca_file: {d}/ca.pem}}\n"));
    with_cert.send(vec![alert("WithCert", &[], ends)]);
    skipping.send(vec![alert("SkipVerify", &[], ends)]);
    without.send(vec![alert("NoCert", &[], ends)]);
    for (n, what) in [
        (&with_cert, "the client certificate"),
        (&skipping, "insecure_skip_verify"),
    ] {
        wait_until(what, || {
            metric(n, "nodepulse_notifications_sent_total", &url) == 1.0
        })
        .await;
    }
    wait_until("the refusal without a certificate", || {
        metric(&without, "nodepulse_notifications_errors_total", &url) >= 1.0
    })
    .await;
    assert_eq!(
        metric(&without, "nodepulse_notifications_sent_total", &url),
        0.0
    );
    let mut names = alert_names(port, &dir.path().join("ca.pem")).await;
    names.sort();
    assert_eq!(names, ["SkipVerify", "WithCert"]);
}
