//! Alert relabelling against Prometheus 2.42: one configuration (an `alerting` section
//! whose `alert_relabel_configs` drop an alert, drop a label and add two, and whose
//! Alertmanager entry's `relabel_configs` drop one of its two targets and move the
//! other's path) and one rule file, run by a real Prometheus and by the aggregator
//! binary, each sending to its own pair of stand-in Alertmanagers. Both send the same
//! alerts with the same labels to the same path; the dropped target and the dropped
//! alert get nothing, and ours counts the drop. Both list the same active and dropped
//! Alertmanagers at `/api/v1/alertmanagers`.

mod common;

use common::receivers::Receiver;
use common::{peer, Server};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

const RULES: &str = "groups:
- name: r
  interval: 1s
  rules:
  - alert: Loud
    expr: vector(1)
    labels: {severity: page, team: infra}
  - alert: Quiet
    expr: vector(1)
    labels: {severity: info}
";

/// The configuration sending to the Alertmanagers at `kept` and `dropped`.
fn config(kept: &Receiver, dropped: &Receiver) -> String {
    let (kept, dropped) = (kept.addr, dropped.addr);
    format!(
        "global:\n  evaluation_interval: 1s\n  external_labels: {{cluster: c1}}\n\
         rule_files: [rules.yml]\n\
         alerting:\n  alert_relabel_configs:\n\
         \x20 - {{source_labels: [alertname], regex: Quiet, action: drop}}\n\
         \x20 - {{action: labeldrop, regex: team}}\n\
         \x20 - {{target_label: routed, replacement: 'yes'}}\n\
         \x20 - {{source_labels: [severity, cluster], separator: '/', target_label: route}}\n\
         \x20 alertmanagers:\n  - static_configs: [{{targets: ['{kept}', '{dropped}']}}]\n\
         \x20   relabel_configs:\n\
         \x20   - {{source_labels: [__address__], regex: '{dropped}', action: drop}}\n\
         \x20   - {{source_labels: [__alerts_path__], target_label: __alerts_path__, replacement: '/am$1'}}\n"
    )
}

/// Starts `program` on `config` (in `dir`) with `flags` and the storage under `dir`.
fn start(program: &Path, dir: &Path, config: &str, flags: &[&str]) -> Server {
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    let file = dir.join("config.yml");
    std::fs::write(&file, config).unwrap();
    let mut args = vec![format!("--config.file={}", file.display())];
    let storage = dir.join("data");
    args.extend(
        flags
            .iter()
            .map(|f| f.replace("{data}", &storage.display().to_string())),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(program, &args, "/-/ready")
}

/// Every alert `am` received: its labels by alert name, and the paths posted to.
fn received(am: &Receiver) -> (BTreeMap<String, Value>, Vec<String>) {
    let mut alerts = BTreeMap::new();
    let mut paths = Vec::new();
    for r in am.script.received() {
        paths.push(r.path.clone());
        for a in r
            .json
            .and_then(|j| j.as_array().cloned())
            .unwrap_or_default()
        {
            let name = a["labels"]["alertname"].as_str().unwrap_or("").to_owned();
            alerts.insert(name, a["labels"].clone());
        }
    }
    (alerts, paths)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_alertmanagers_are_relabelled_as_prometheus_does() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let (theirs, theirs_dropped) = (Receiver::json().await, Receiver::json().await);
    let (ours, ours_dropped) = (Receiver::json().await, Receiver::json().await);
    let (prom_dir, our_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (prom_config, our_config) = (
        config(&theirs, &theirs_dropped),
        config(&ours, &ours_dropped),
    );
    let (pd, od) = (prom_dir.path().to_owned(), our_dir.path().to_owned());
    let servers = tokio::task::spawn_blocking(move || {
        // Prometheus learns its Alertmanagers through discovery, 5 s after its start;
        // what fires before is dropped and sent again after the resend delay.
        let flags = [
            "--storage.tsdb.path={data}",
            "--rules.alert.resend-delay=1s",
        ];
        let p = start(&prometheus, &pd, &prom_config, &flags);
        let o = start(
            Path::new(AGGREGATOR),
            &od,
            &our_config,
            &["--storage.path={data}"],
        );
        (p, o)
    })
    .await
    .unwrap();
    let start_time = Instant::now();
    while received(&theirs).0.is_empty() || received(&ours).0.is_empty() {
        assert!(
            start_time.elapsed() < Duration::from_secs(60),
            "no alert at both ({} {} {} {} requests); Prometheus:\n{}\nours:\n{}",
            theirs.script.received().len(),
            theirs_dropped.script.received().len(),
            ours.script.received().len(),
            ours_dropped.script.received().len(),
            servers.0.log_tail(60),
            servers.1.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both evaluate every second: two more rounds for anything late to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (their_alerts, their_paths) = received(&theirs);
    let (our_alerts, our_paths) = received(&ours);
    assert_eq!(
        our_alerts, their_alerts,
        "the same alerts with the same labels"
    );
    let loud = &their_alerts["Loud"];
    let want = serde_json::json!({"alertname": "Loud", "severity": "page", "cluster": "c1",
        "routed": "yes", "route": "page/c1"});
    assert_eq!(
        loud, &want,
        "Prometheus's own result, as this test expects it"
    );
    assert_eq!(their_alerts.len(), 1, "Quiet dropped: {their_alerts:?}");
    assert!(
        their_paths.iter().all(|p| p == "/am/api/v2/alerts"),
        "{their_paths:?}"
    );
    assert!(
        our_paths.iter().all(|p| p == "/am/api/v2/alerts"),
        "{our_paths:?}"
    );
    assert!(
        theirs_dropped.script.received().is_empty(),
        "Prometheus's dropped target"
    );
    assert!(
        ours_dropped.script.received().is_empty(),
        "our dropped target"
    );

    // /api/v1/alertmanagers: the same lists, each server's own addresses named.
    let listed = |server: &Server, kept: &Receiver, dropped: &Receiver| {
        let (server, kept, dropped) =
            (server.url("/api/v1/alertmanagers"), kept.addr, dropped.addr);
        async move {
            let text = reqwest::get(server).await.unwrap().text().await.unwrap();
            text.replace(&kept.to_string(), "KEPT")
                .replace(&dropped.to_string(), "DROPPED")
        }
    };
    let theirs_listed = listed(&servers.0, &theirs, &theirs_dropped).await;
    let ours_listed = listed(&servers.1, &ours, &ours_dropped).await;
    let (a, b): (Value, Value) = (
        serde_json::from_str(&ours_listed).unwrap(),
        serde_json::from_str(&theirs_listed).unwrap(),
    );
    assert_eq!(
        a, b,
        "/api/v1/alertmanagers: ours (left), Prometheus's (right)"
    );
    assert_eq!(
        a["data"]["activeAlertmanagers"][0]["url"],
        "http://KEPT/am/api/v2/alerts"
    );

    let metrics = reqwest::get(servers.1.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("nodepulse_notifications_relabel_dropped_total "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(
        dropped.is_some_and(|d| d >= 1.0),
        "the drop counted: {dropped:?}"
    );
}
