//! A reloaded scrape configuration (`scrape::Manager::apply`) against scripted
//! targets, taken as Prometheus's scrape manager takes one: an unchanged job runs on, a
//! changed one is restarted with its loops handed over (its series go on without a
//! staleness marker), a removed one's series end stale, a new one starts; a target a
//! changed job no longer has ends stale, the ones it keeps do not.

mod common;

use common::scrape_target::{ok, serve};
use nodepulse::aggregator::model::{is_stale, MemStore, Querier};
use nodepulse::aggregator::scrape::config::Config;
use nodepulse::aggregator::scrape::{Applied, Manager};
use promql_parser::label::{MatchOp, Matcher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Jobs `(name, interval, targets' ports)`.
fn config(jobs: &[(&str, &str, &[u16])]) -> Config {
    let mut yaml = String::from("scrape_configs:\n");
    for (name, interval, ports) in jobs {
        let targets: Vec<String> = ports.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
        yaml += &format!(
            "  - job_name: {name}\n    scrape_interval: {interval}\n    scrape_timeout: 90ms\n    static_configs: [{{targets: [{}]}}]\n",
            targets.join(", ")
        );
    }
    Config::parse(&yaml).unwrap()
}

/// The values of `name` stored for `job` (and `instance` port, when given), in order.
fn values(store: &MemStore, name: &str, job: &str, port: Option<u16>) -> Vec<f64> {
    let mut m = vec![
        Matcher::new(MatchOp::Equal, "__name__", name),
        Matcher::new(MatchOp::Equal, "job", job),
    ];
    if let Some(p) = port {
        m.push(Matcher::new(
            MatchOp::Equal,
            "instance",
            &format!("127.0.0.1:{p}"),
        ));
    }
    let series = store.select(&m, 0, i64::MAX).unwrap();
    series
        .iter()
        .flat_map(|s| s.samples.iter().map(|x| x.v))
        .collect()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn target() -> u16 {
    serve(Arc::new(Mutex::new(ok("demo 1\n")))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_unchanged_and_changed_jobs_series_and_ends_removed_ones() {
    let port = target().await;
    let store = Arc::new(MemStore::new());
    let before = config(&[
        ("keep", "100ms", &[port]),
        ("change", "100ms", &[port]),
        ("gone", "100ms", &[port]),
    ]);
    let manager = Manager::start(&before, store.clone());
    let scraped = |job: &str, n: usize| values(&store, "demo", job, None).len() >= n;
    wait_until("every job scraped twice", || {
        ["keep", "change", "gone"].iter().all(|j| scraped(j, 2))
    })
    .await;

    let after = config(&[
        ("keep", "100ms", &[port]),
        ("change", "150ms", &[port]),
        ("new", "100ms", &[port]),
    ]);
    let applied = manager.apply(&after).await;
    assert_eq!(
        applied,
        Applied {
            started: vec!["new".into()],
            restarted: vec!["change".into()],
            stopped: vec!["gone".into()],
        }
    );
    let change_before = values(&store, "demo", "change", None).len();
    wait_until(
        "the changed job scraped three times more and the new one once",
        || scraped("change", change_before + 3) && scraped("new", 1),
    )
    .await;

    for name in ["demo", "up"] {
        let gone = values(&store, name, "gone", None);
        assert!(
            is_stale(*gone.last().unwrap()),
            "{name} of the removed job: {gone:?}"
        );
        for job in ["keep", "change", "new"] {
            let v = values(&store, name, job, None);
            assert!(
                !v.iter().any(|v| is_stale(*v)),
                "{name} of {job} marked stale: {v:?}"
            );
        }
    }
    let jobs: Vec<String> = manager.targets().await.into_iter().map(|t| t.job).collect();
    assert_eq!(jobs, ["keep", "change", "new"]);
    let interval = manager.targets().await[1].interval;
    assert_eq!(
        interval,
        Duration::from_millis(150),
        "the changed job runs its new config"
    );
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_job_ends_the_targets_it_no_longer_has() {
    let (kept, dropped) = (target().await, target().await);
    let store = Arc::new(MemStore::new());
    let manager = Manager::start(
        &config(&[("app", "100ms", &[kept, dropped])]),
        store.clone(),
    );
    let scraped = |port, n| values(&store, "demo", "app", Some(port)).len() >= n;
    wait_until("both targets scraped", || {
        scraped(kept, 2) && scraped(dropped, 2)
    })
    .await;

    let applied = manager.apply(&config(&[("app", "150ms", &[kept])])).await;
    assert_eq!(applied.restarted, ["app"]);
    let n = values(&store, "demo", "app", Some(kept)).len();
    wait_until("the kept target scraped again", || scraped(kept, n + 2)).await;

    let gone = values(&store, "demo", "app", Some(dropped));
    assert!(
        is_stale(*gone.last().unwrap()),
        "the dropped target: {gone:?}"
    );
    let on = values(&store, "demo", "app", Some(kept));
    assert!(!on.iter().any(|v| is_stale(*v)), "the kept target: {on:?}");
    manager.stop().await;
}
