//! A killed target is seen at once (issue 7's time to detect): a scrape loop holds its
//! own keep-alive connection to a plain http target, and when the target closes it and
//! refuses a new one, the loop scrapes at once (`up` 0, staleness markers, lastError)
//! instead of waiting for its next tick (with a 1 h interval here, only that path can
//! store `up` 0), and the rule reading `up` fires through the binary to a webhook. A
//! server that merely closes idle connections causes no extra scrape.

mod common;

use common::killable::Killable;
use common::receivers::Receiver;
use common::scrape_target::{last_value, series};
use common::Server;
use nodepulse::aggregator::model::{is_stale, MemStore};
use nodepulse::aggregator::scrape::config::Config;
use nodepulse::aggregator::scrape::run::Loop;
use nodepulse::aggregator::scrape::run::Stop;
use nodepulse::aggregator::scrape::target;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A bound on every wait (never reached when the code works).
const WAIT: Duration = Duration::from_secs(60);

fn scrape_loop(port: u16, interval: &str, store: &Arc<MemStore>) -> Loop {
    let yaml = format!(
        "scrape_configs:\n  - job_name: app\n    scrape_interval: {interval}\n    scrape_timeout: 1s\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    );
    let job = Arc::new(Config::parse(&yaml).unwrap().scrape_configs.remove(0));
    let t = target::targets(&job).remove(0);
    Loop::new(t, job, reqwest::Client::new(), store.clone())
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_target_is_scraped_at_once_and_stored_down() {
    let target = Killable::start("demo 1\n", None).await;
    let store = Arc::new(MemStore::new());
    let mut l = scrape_loop(target.port, "1h", &store);
    l.scrape_once().await;
    assert_eq!(last_value(&store, "up"), 1.0);
    let (stats, status) = (l.stats.clone(), l.status.clone());
    let mut stored = stats.scrapes_stored.subscribe();
    stored.borrow_and_update();
    let (stop, stopped) = watch::channel(Stop::Run);
    let task = tokio::spawn(l.run(stopped));

    target.kill();
    tokio::time::timeout(WAIT, stored.changed())
        .await
        .expect("a scrape stored after the kill")
        .unwrap();
    assert_eq!(last_value(&store, "up"), 0.0, "stored down at once");
    assert!(is_stale(last_value(&store, "demo")), "its series end");
    assert_eq!(stats.early_scrapes.load(Ordering::Relaxed), 1);
    let status = status.lock().unwrap().clone();
    assert_eq!(status.health, "down");
    assert!(
        status.last_error.contains("Connection refused"),
        "{:?}",
        status.last_error
    );
    let _ = stop.send(Stop::Stale);
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_idle_connections_is_scraped_only_on_its_ticks() {
    let target = Killable::start("demo 1\n", Some(Duration::from_millis(100))).await;
    let store = Arc::new(MemStore::new());
    let l = scrape_loop(target.port, "1s", &store);
    let stats = l.stats.clone();
    let (stop, stopped) = watch::channel(Stop::Run);
    let task = tokio::spawn(l.run(stopped));
    wait_until("three scrapes", || target.served() >= 3).await;
    let _ = stop.send(Stop::Stale);
    task.await.unwrap();

    // Every request served was a tick's scrape, stored; the stop stored one batch more.
    let scraped = *stats.scrapes_stored.borrow() - 1;
    assert_eq!(target.served() as u64, scraped);
    assert_eq!(stats.early_scrapes.load(Ordering::Relaxed), 0);
    // Each scrape's connection was closed idle and a new one accepted (and let go when
    // it too was closed unused): more connections than scrapes, not one extra sample.
    assert!(target.idle_closed() >= 2, "{}", target.idle_closed());
    assert!(target.accepted() > target.served(), "{}", target.accepted());
    let ups = &series(&store, "up")[0].samples;
    assert_eq!(ups.len() as u64, scraped + 1, "{ups:?}");
    assert!(ups[..ups.len() - 1].iter().all(|s| s.v == 1.0), "{ups:?}");
}

const RULES: &str = "groups:
- name: down
  rules:
  - alert: TargetDown
    expr: up{job=\"app\"} == 0
    for: 0s
";

fn aggregator(dir: &Path, target: u16, hook: &str) -> Server {
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    let config = dir.join("aggregator.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 3s\n  scrape_timeout: 1s\n  evaluation_interval: 3s\n\
             rule_files: [rules.yml]\n\
             notifications:\n  webhooks:\n  - url: {hook}\n\
             scrape_configs:\n- job_name: app\n  static_configs:\n  - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", dir.join("data").display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(
        Path::new(env!("CARGO_BIN_EXE_nodepulse-aggregator")),
        &args,
        "/-/ready",
    )
}

/// Waits until the rule group has been evaluated once (a group evaluates from its first
/// slot on, as in Prometheus, whatever is stored before it).
async fn evaluated(agg: &Server) {
    let url = agg.url("/api/v1/rules");
    let start = Instant::now();
    loop {
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        let rules: serde_json::Value = serde_json::from_str(&text).unwrap();
        let last = &rules["data"]["groups"][0]["lastEvaluation"];
        if last.as_str().is_some_and(|t| !t.starts_with("0001")) {
            return;
        }
        assert!(start.elapsed() < WAIT, "not evaluated: {rules}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_targets_up_alert_reaches_the_webhook_through_the_binary() {
    let target = Killable::start("demo 1\n", None).await;
    let hook = Receiver::json().await;
    let dir = tempfile::tempdir().unwrap();
    let (d, url, port) = (dir.path().to_owned(), hook.url(), target.port);
    let agg = tokio::task::spawn_blocking(move || aggregator(&d, port, &url))
        .await
        .unwrap();
    wait_until("the first scrape", || target.served() >= 1).await;
    evaluated(&agg).await;

    target.kill();
    wait_until("the firing alert on the webhook", || {
        !hook.script.json_with_status("firing").is_empty()
    })
    .await;
    let payload = &hook.script.json_with_status("firing")[0];
    let labels = &payload["alerts"][0]["labels"];
    assert_eq!(labels["alertname"], "TargetDown", "{payload}");
    assert_eq!(labels["instance"], format!("127.0.0.1:{port}"), "{payload}");
    // The alert came after the scrape made at once (the next tick may follow it).
    let metrics = reqwest::get(agg.url("/metrics")).await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("\nnodepulse_scrape_early_total 1\n"),
        "{metrics}"
    );
}
