//! The notifier reaching a real Alertmanager (Debian's 0.25) that serves only TLS, with
//! a certificate from a private CA, and asks for basic auth (its `--web.config.file`).
//! Configured as Prometheus would be (`scheme: https`, `tls_config.ca_file`,
//! `basic_auth`), our alert arrives; without the CA, or with a wrong password, it does
//! not, and the failed sends are counted as errors. The certificates are made by the
//! `openssl` command for each run.

mod common;
mod notify_support;

use common::{peer, Server};
use nodepulse::aggregator::config::{AggregatorConfig, FileConfig, Flags};
use nodepulse::aggregator::notify::{Notifier, NotifyConfig};
use notify_support::{alert, fast_retries, metric, start, wait_until};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

/// bcrypt (cost 4) of "am-secret", made once with Python's `bcrypt` package: what
/// Alertmanager's web config wants for a basic-auth user.
const PASSWORD_HASH: &str = "$2b$04$ADZ3fYJEOIt3KbHtbLJ1keHTMIGChO6tIcAI4YrX0AIxmHDc3HVoW";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 it signed (`server.pem`,
/// `server.key`), in `dir`.
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=nodepulse test CA",
    ];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend_from_slice(&ec);
    csr.extend_from_slice(&["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr);
    std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "san.cnf",
            "-out",
            "server.pem",
        ],
    );
}

/// Alertmanager serving TLS only, with one basic-auth user `prom`.
fn start_alertmanager(dir: &Path) -> Option<Server> {
    let program = peer("prometheus-alertmanager")?;
    make_certs(dir);
    let web = dir.join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\n\
             basic_auth_users:\n  prom: {PASSWORD_HASH}\n",
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

/// The names of the alerts Alertmanager holds, read over TLS with the password.
async fn alert_names(port: u16, ca: &Path) -> Vec<String> {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
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
