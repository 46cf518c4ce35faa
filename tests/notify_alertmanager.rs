//! The notifier against a real Alertmanager (Debian's prometheus-alertmanager 0.25),
//! started by the test with its own configuration (clustering off, short group
//! timers) and a webhook receiver of the test's with `send_resolved: true`: a firing
//! alert we send reaches the receiver through Alertmanager with its labels (external
//! ones added) and annotations, then its resolution does. Our webhook sink's
//! fingerprint is checked against Alertmanager's.

mod common;
mod notify_support;

use common::receivers::Receiver;
use common::{peer, Server};
use nodepulse::aggregator::http::params::rfc3339;
use nodepulse::aggregator::notify::alert::fingerprint;
use nodepulse::aggregator::notify::{NotifyConfig, Target};
use notify_support::{alert, fast_retries, metric, start, wait_until};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn alertmanager_config(hook: &str) -> String {
    format!(
        "route:\n  receiver: test\n  group_by: [alertname]\n  group_wait: 100ms\n\
         \x20 group_interval: 200ms\n  repeat_interval: 1h\n\
         receivers:\n- name: test\n  webhook_configs:\n  - url: {hook}\n    send_resolved: true\n"
    )
}

fn start_alertmanager(hook: &str) -> Option<(Server, tempfile::TempDir)> {
    let program = peer("prometheus-alertmanager")?;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, alertmanager_config(hook)).unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        "--cluster.listen-address=".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Some((Server::start(&program, &args, "/-/ready"), dir))
}

/// The webhook payloads with this status that `hook` received.
fn payloads(hook: &Receiver, status: &str) -> Vec<Value> {
    hook.script.json_with_status(status)
}

/// Alertmanager prints times with Go's RFC 3339 (nanoseconds); ours went out with
/// milliseconds: the same instant to the millisecond.
fn same_instant(theirs: &Value, ours: SystemTime) -> bool {
    let Some((secs, nanos)) = rfc3339(theirs.as_str().unwrap_or_default()) else {
        return false;
    };
    let ours = ours.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    secs * 1000 + nanos / 1_000_000 == ours
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_passes_our_alert_and_its_resolution_to_a_webhook() {
    let hook = Receiver::json().await;
    let hook_url = format!("{}/hook", hook.url());
    let started = tokio::task::spawn_blocking(move || start_alertmanager(&hook_url));
    let Some((am, _dir)) = started.await.unwrap() else {
        return;
    };
    let url = am.url("/api/v2/alerts");
    let n = start(NotifyConfig {
        alertmanagers: vec![Target::new(url.clone())],
        external_labels: vec![("cluster".into(), "test".into())],
        retry: fast_retries(5),
        ..NotifyConfig::default()
    });
    let extra = [("severity", "critical"), ("instance", "node-1:9101")];
    let firing = alert(
        "NodeDown",
        &extra,
        Some(SystemTime::now() + Duration::from_secs(180)),
    );
    let starts_at = firing.starts_at;
    n.send(vec![firing.clone()]);
    wait_until("the firing notification", || {
        !payloads(&hook, "firing").is_empty()
    })
    .await;
    let p = &payloads(&hook, "firing")[0];
    let labels = json!({"alertname": "NodeDown", "cluster": "test",
        "instance": "node-1:9101", "severity": "critical"});
    assert_eq!(p["version"], "4");
    assert_eq!(p["receiver"], "test");
    assert_eq!(p["groupLabels"], json!({"alertname": "NodeDown"}));
    assert_eq!(p["groupKey"], r#"{}:{alertname="NodeDown"}"#);
    assert_eq!(p["commonLabels"], labels);
    let a = &p["alerts"][0];
    assert_eq!(a["status"], "firing");
    assert_eq!(a["labels"], labels);
    assert_eq!(a["annotations"], json!({"summary": "NodeDown fired"}));
    assert_eq!(a["generatorURL"], "http://aggregator:9201/graph?g0.expr=up");
    assert!(same_instant(&a["startsAt"], starts_at), "{}", a["startsAt"]);
    // Alertmanager's fingerprint is ours (the webhook sink's).
    let with_cluster = firing.with_external_labels(&[("cluster".into(), "test".into())]);
    assert_eq!(a["fingerprint"], fingerprint(&with_cluster.labels));

    let ended = SystemTime::now() - Duration::from_secs(1);
    let mut resolved = alert("NodeDown", &extra, Some(ended));
    resolved.starts_at = starts_at;
    n.send(vec![resolved]);
    wait_until("the resolution", || !payloads(&hook, "resolved").is_empty()).await;
    let p = &payloads(&hook, "resolved")[0];
    let a = &p["alerts"][0];
    assert_eq!(a["status"], "resolved");
    assert_eq!(a["labels"], labels);
    assert!(same_instant(&a["endsAt"], ended), "{}", a["endsAt"]);
    assert_eq!(metric(&n, "nodepulse_notifications_sent_total", &url), 2.0);
    assert_eq!(
        metric(&n, "nodepulse_notifications_errors_total", &url),
        0.0
    );
}
