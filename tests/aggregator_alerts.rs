//! Alerting through the aggregator binary: it scrapes a scripted target every second,
//! evaluates a rule file on it, and notifies a real Alertmanager (Debian's
//! prometheus-alertmanager 0.25, whose webhook receiver is the test's) and a plain
//! webhook of ours. The target's value crosses the threshold: the alert reaches both
//! receivers with its labels and expanded annotations, `/api/v1/alerts` shows it
//! firing, then it resolves and the resolution reaches both. A bad rule file sent by
//! SIGHUP or `POST /-/reload` is refused with its line and the old rule keeps running.
//! A reload re-reads the configuration file too: a bad one is refused and counted, a
//! good one moves the scraping, the webhook and the external labels.

mod common;

use common::receivers::Receiver;
use common::scrape_target::{ok, serve};
use common::{peer, Server};
use nodepulse::aggregator::http::params::rfc3339;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");
const WAIT: Duration = Duration::from_secs(60);

const RULES: &str = "groups:
- name: demo
  interval: 1s
  rules:
  - alert: DemoHigh
    expr: demo_value > 50
    labels:
      severity: critical
    annotations:
      summary: 'demo at {{ $value }} on {{ $labels.instance }}'
";

fn alertmanager(dir: &Path, hook: &str) -> Option<Server> {
    let program = peer("prometheus-alertmanager")?;
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: test\n  group_by: [alertname]\n  group_wait: 100ms\n\
             \x20 group_interval: 200ms\n  repeat_interval: 1h\nreceivers:\n- name: test\n\
             \x20 webhook_configs:\n  - url: {hook}\n    send_resolved: true\n"
        ),
    )
    .unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", dir.join("am").display()),
        "--cluster.listen-address=".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Some(Server::start(&program, &args, "/-/ready"))
}

fn aggregator(dir: &Path, target: u16, am: &str, hook: &str) -> Server {
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    let config = dir.join("aggregator.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [rules.yml]\n\
             alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['{am}']\n\
             notifications:\n  webhooks:\n  - url: {hook}\n\
             scrape_configs:\n- job_name: demo\n  static_configs:\n  - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", dir.join("data").display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(Path::new(AGGREGATOR), &args, "/-/ready")
}

/// The webhook payloads with this status that `hook` received.
fn payloads(hook: &Receiver, status: &str) -> Vec<Value> {
    hook.script.json_with_status(status)
}

async fn wait_for(what: &str, server: &Server, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < WAIT,
            "{what}: not within {WAIT:?}; aggregator log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_json(url: String) -> Value {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Waits until `demo_value` is stored and the group was evaluated after that.
async fn evaluated_after_a_stored_value(agg: &Server) {
    let seconds = |v: &Value| {
        let text = v.as_str().unwrap_or_default();
        rfc3339(text).map_or(0.0, |(s, ns)| s as f64 + ns as f64 / 1e9)
    };
    let start = Instant::now();
    let mut stored_at = None;
    loop {
        assert!(start.elapsed() < WAIT, "no evaluation after a stored value");
        if stored_at.is_none() {
            let v = get_json(agg.url("/api/v1/query?query=demo_value")).await;
            stored_at = v["data"]["result"][0]["value"][0].as_f64();
        }
        let rules = get_json(agg.url("/api/v1/rules")).await;
        let last = seconds(&rules["data"]["groups"][0]["lastEvaluation"]);
        if stored_at.is_some_and(|t| last > t) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn check_alert(payload: &Value, target: u16) {
    let alert = &payload["alerts"][0];
    let instance = format!("127.0.0.1:{target}");
    assert_eq!(alert["labels"]["alertname"], "DemoHigh", "{payload}");
    assert_eq!(alert["labels"]["severity"], "critical", "{payload}");
    assert_eq!(alert["labels"]["job"], "demo", "{payload}");
    assert_eq!(alert["labels"]["instance"], instance.as_str(), "{payload}");
    let summary = format!("demo at 100 on {instance}");
    assert_eq!(
        alert["annotations"]["summary"],
        summary.as_str(),
        "{payload}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_fires_and_resolves_through_alertmanager_and_a_webhook() {
    let answer = Arc::new(Mutex::new(ok("demo_value 1\n")));
    let target = serve(answer.clone()).await;
    let (via_am, direct) = (Receiver::json().await, Receiver::json().await);
    let dir = tempfile::tempdir().unwrap();
    let (d, am_hook) = (dir.path().to_owned(), format!("{}/am", via_am.url()));
    let Some(am) = tokio::task::spawn_blocking(move || alertmanager(&d, &am_hook))
        .await
        .unwrap()
    else {
        return;
    };
    let am_addr = format!("127.0.0.1:{}", am.url("").rsplit(':').next().unwrap());
    let (d, hook) = (dir.path().to_owned(), format!("{}/hook", direct.url()));
    let agg = tokio::task::spawn_blocking(move || aggregator(&d, target, &am_addr, &hook))
        .await
        .unwrap();

    // The rule is loaded; evaluated over a stored value below the threshold, it is quiet.
    let rules = get_json(agg.url("/api/v1/rules")).await;
    assert_eq!(rules["data"]["groups"][0]["rules"][0]["name"], "DemoHigh");
    evaluated_after_a_stored_value(&agg).await;
    let alerts = get_json(agg.url("/api/v1/alerts")).await;
    assert_eq!(alerts["data"]["alerts"], serde_json::json!([]), "{alerts}");
    assert!(payloads(&via_am, "firing").is_empty() && payloads(&direct, "firing").is_empty());
    *answer.lock().unwrap() = ok("demo_value 100\n");
    wait_for("firing through Alertmanager", &agg, || {
        !payloads(&via_am, "firing").is_empty()
    })
    .await;
    wait_for("firing on our webhook", &agg, || {
        !payloads(&direct, "firing").is_empty()
    })
    .await;
    check_alert(&payloads(&via_am, "firing")[0], target);
    check_alert(&payloads(&direct, "firing")[0], target);
    let alerts = get_json(agg.url("/api/v1/alerts")).await;
    assert_eq!(alerts["data"]["alerts"][0]["state"], "firing", "{alerts}");
    let metrics = reqwest::get(agg.url("/metrics")).await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("nodepulse_notifications_sent_total{"),
        "{metrics}"
    );

    *answer.lock().unwrap() = ok("demo_value 2\n");
    wait_for("resolved through Alertmanager", &agg, || {
        !payloads(&via_am, "resolved").is_empty()
    })
    .await;
    wait_for("resolved on our webhook", &agg, || {
        !payloads(&direct, "resolved").is_empty()
    })
    .await;
    drop(am);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rule_file_is_refused_with_its_line_and_the_old_rules_keep_running() {
    let answer = Arc::new(Mutex::new(ok("demo_value 1\n")));
    let target = serve(answer).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let agg = tokio::task::spawn_blocking(move || {
        aggregator(&d, target, "127.0.0.1:9", "http://127.0.0.1:9/")
    })
    .await
    .unwrap();
    let names = |v: &Value| -> Vec<String> {
        let rules = v["data"]["groups"][0]["rules"].as_array().cloned();
        rules
            .unwrap_or_default()
            .iter()
            .map(|r| r["name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let bad = RULES.replace("demo_value > 50", "demo_value >");
    std::fs::write(dir.path().join("rules.yml"), bad).unwrap();
    let reload = reqwest::Client::new()
        .post(agg.url("/-/reload"))
        .send()
        .await;
    let reload = reload.unwrap();
    assert_eq!(reload.status().as_u16(), 500);
    let why = reload.text().await.unwrap();
    assert!(why.contains("rules.yml") && why.contains("6:"), "{why}");
    let kill = std::process::Command::new("kill")
        .args(["-HUP", &agg.pid().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for("the SIGHUP refusal logged", &agg, || {
        agg.log().contains("Configuration not reloaded")
    })
    .await;
    let rules = get_json(agg.url("/api/v1/rules")).await;
    assert_eq!(names(&rules), ["DemoHigh"], "the old rule keeps running");

    let renamed = RULES.replace("DemoHigh", "DemoVeryHigh");
    std::fs::write(dir.path().join("rules.yml"), renamed).unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-HUP", &agg.pid().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for("the new rule", &agg, || {
        agg.log().contains("Configuration reloaded")
    })
    .await;
    let rules = get_json(agg.url("/api/v1/rules")).await;
    assert_eq!(names(&rules), ["DemoVeryHigh"]);
}

/// The configuration file `aggregator` writes, with one job, one webhook, one external
/// label, and a scrape interval (a bad one makes the file invalid).
fn config_text(job: &str, target: u16, hook: &str, cluster: &str, interval: &str) -> String {
    format!(
        "global:\n  scrape_interval: {interval}\n  evaluation_interval: 1s\n\
         \x20 external_labels: {{cluster: {cluster}}}\nrule_files: [rules.yml]\n\
         notifications:\n  webhooks:\n  - url: {hook}\n\
         scrape_configs:\n- job_name: {job}\n  static_configs:\n  - targets: ['127.0.0.1:{target}']\n"
    )
}

async fn reload(agg: &Server) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(agg.url("/-/reload"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn metric(agg: &Server, name: &str) -> Option<f64> {
    let text = reqwest::get(agg.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name} ")))?;
    line.split(' ').nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_rereads_the_configuration_file_and_refuses_a_bad_one() {
    let quiet = serve(Arc::new(Mutex::new(ok("demo_value 1\n")))).await;
    let high = serve(Arc::new(Mutex::new(ok("demo_value 100\n")))).await;
    let (old_hook, new_hook) = (Receiver::json().await, Receiver::json().await);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let old_url = old_hook.url();
    let agg = tokio::task::spawn_blocking(move || aggregator(&d, quiet, "127.0.0.1:9", &old_url))
        .await
        .unwrap();
    let config = dir.path().join("aggregator.yml");
    std::fs::write(
        &config,
        config_text("quiet", quiet, &old_hook.url(), "a", "1s"),
    )
    .unwrap();
    assert_eq!(reload(&agg).await.0, 200);
    assert_eq!(
        metric(&agg, "nodepulse_config_last_reload_successful").await,
        Some(1.0)
    );

    let bad = config_text("high", high, &new_hook.url(), "b", "soon");
    std::fs::write(&config, bad).unwrap();
    let (status, why) = reload(&agg).await;
    assert_eq!(status, 500, "{why}");
    assert!(why.contains("scrape_interval"), "{why}");
    assert_eq!(
        metric(&agg, "nodepulse_config_last_reload_successful").await,
        Some(0.0)
    );
    let targets = get_json(agg.url("/api/v1/targets")).await;
    let job = &targets["data"]["activeTargets"][0]["labels"]["job"];
    assert_eq!(job, "quiet", "the old configuration runs on: {targets}");

    let good = config_text("high", high, &new_hook.url(), "b", "1s");
    std::fs::write(&config, good).unwrap();
    let (status, why) = reload(&agg).await;
    assert_eq!(status, 200, "{why}");
    assert_eq!(
        metric(&agg, "nodepulse_config_last_reload_successful").await,
        Some(1.0)
    );
    let shown = get_json(agg.url("/api/v1/status/config")).await;
    let yaml = shown["data"]["yaml"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        yaml.contains("job_name: high") && yaml.contains(&new_hook.url()),
        "{yaml}"
    );
    wait_for("the new job's alert at the new webhook", &agg, || {
        !payloads(&new_hook, "firing").is_empty()
    })
    .await;
    let labels = &payloads(&new_hook, "firing")[0]["alerts"][0]["labels"];
    assert_eq!(labels["job"], "high", "{labels}");
    assert_eq!(labels["cluster"], "b", "the new external labels: {labels}");
    assert!(
        old_hook.script.received().is_empty(),
        "nothing to the old webhook"
    );
    let targets = get_json(agg.url("/api/v1/targets")).await;
    let active = targets["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(active.len(), 1, "{targets}");
    assert_eq!(active[0]["labels"]["job"], "high");
    // /federate adds the new external labels too
    let url = agg.url("/federate?match[]=demo_value%7Bjob%3D%22high%22%7D");
    let federated = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(
        federated.contains("job=\"high\",cluster=\"b\"}"),
        "{federated}"
    );
}
