//! The agent binary against the fake Kubernetes API server: kube_pod_* for a full node
//! (110 pods × 3 containers) on /metrics, no duplicate series, `promtool check metrics`
//! clean on the kube families, only lists and watches in the request log; and without a
//! reachable API server: /metrics still served, `nodepulse_kube_api_up 0`, said once in
//! the log, then the cache fills when the server comes up.

mod common;

use common::fake_api::{FakeApi, NAMESPACES, PODS};
use common::pods::{namespace, node_full_of_pods, NODE};
use common::promtool::check_metrics;
use common::{parse_body, peer, spawn_agent, Server};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn metrics(agent: &Server) -> String {
    let resp = common::get(&agent.url("/metrics"), &[]);
    assert_eq!(resp.status, 200);
    resp.text()
}

/// Scrapes until `cond` holds on the body (60 s on a loaded machine); returns that body.
fn scrape_until(agent: &Server, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = metrics(agent);
        if cond(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            agent.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn agent_args(url: &str) -> Vec<String> {
    vec![format!("--kube.api={url}"), format!("--node-name={NODE}")]
}

#[test]
fn full_node_kube_pod_families_on_metrics() {
    let rt = runtime();
    let api = rt.block_on(FakeApi::start());
    api.set_items(PODS, node_full_of_pods(110));
    let ns = (0..10)
        .map(|i| namespace(&format!("ns-{i}"), &[], &[]))
        .collect();
    api.set_items(NAMESPACES, ns);
    let args = agent_args(&api.url());
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let body = scrape_until(&agent, "110 pods", |b| {
        b.contains("nodepulse_kube_cache_pods 110")
    });
    assert!(body.contains("nodepulse_kube_api_up 1"));
    let parsed = parse_body(&body);
    let count = |name: &str| parsed.samples.iter().filter(|s| s.name == name).count();
    assert_eq!(count("kube_pod_info"), 110);
    assert_eq!(count("kube_pod_status_phase"), 550);
    assert_eq!(count("kube_pod_container_status_restarts_total"), 330);
    assert_eq!(count("kube_pod_container_info"), 330);
    assert_eq!(count("kube_pod_container_status_waiting_reason"), 110);
    assert_eq!(count("kube_pod_container_resource_limits"), 220);
    let mut seen = HashSet::new();
    for s in &parsed.samples {
        assert!(
            seen.insert((s.name.clone(), s.labels.clone())),
            "duplicate series {s:?}"
        );
    }
    let sample = parsed
        .samples
        .iter()
        .find(|s| s.name == "kube_pod_container_status_last_terminated_reason")
        .expect("last terminated");
    let names: Vec<&str> = sample.labels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["namespace", "pod", "uid", "container", "reason"]);
    assert_eq!(
        parsed.types["kube_pod_container_status_restarts_total"],
        "counter"
    );
    let log = api.requests();
    assert!(
        log.iter().all(|r| r.resource().is_some()),
        "only list/watch: {log:?}"
    );
    assert_eq!(
        (api.count(PODS, false), api.count(NAMESPACES, false)),
        (1, 1)
    );
    if let Some(promtool) = peer("promtool") {
        let lint = check_metrics(&promtool, &body);
        assert_eq!(lint.parse_error, None);
        let kube: Vec<_> = lint
            .findings
            .iter()
            .filter(|(name, _)| name.starts_with("kube_") || name.starts_with("nodepulse_kube"))
            .collect();
        assert!(
            kube.is_empty(),
            "promtool findings on kube families: {kube:#?}"
        );
    }
}

#[test]
fn without_an_api_server_the_agent_serves_and_says_so_once_then_recovers() {
    let rt = runtime();
    let port = common::free_port(); // nothing listens yet: connection refused
    let args = agent_args(&format!("http://127.0.0.1:{port}"));
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let errors = |b: &str| {
        let line = b
            .lines()
            .find(|l| l.starts_with("nodepulse_kube_watch_errors_total{resource=\"pods\"}"));
        line.and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let body = scrape_until(&agent, "two failed pod lists", |b| errors(b) >= 2.0);
    assert!(body.contains("nodepulse_kube_api_up 0"));
    assert!(body.contains("node_load1"), "node metrics still served");
    let said = agent
        .log()
        .matches("Kubernetes API server unreachable")
        .count();
    assert_eq!(said, 1, "said once, not per retry; log:\n{}", agent.log());
    let api = rt.block_on(FakeApi::start_on(port));
    api.set_items(PODS, node_full_of_pods(3));
    scrape_until(&agent, "the cache after the API server came up", |b| {
        b.contains("nodepulse_kube_api_up 1") && b.contains("nodepulse_kube_cache_pods 3")
    });
}

/// Measurement, not a check (`cargo test --test kube_agent -- --ignored --nocapture`):
/// API requests in one steady-state minute after the initial sync, and the agent's RSS
/// with 110 pods cached against one with `--kube.api=off` (same build).
#[test]
#[ignore]
fn steady_state_requests_per_minute() {
    let rt = runtime();
    let api = rt.block_on(FakeApi::start());
    api.set_items(PODS, node_full_of_pods(110));
    let args = agent_args(&api.url());
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    scrape_until(&agent, "110 pods", |b| {
        b.contains("nodepulse_kube_cache_pods 110")
    });
    let before = api.requests().len();
    std::thread::sleep(Duration::from_secs(60));
    let during: Vec<_> = api.requests().into_iter().skip(before).collect();
    println!(
        "requests before steady state: {before}; during one minute: {}: {during:?}",
        during.len()
    );
    metrics(&agent);
    let off = spawn_agent(&["--kube.api=off"]);
    metrics(&off);
    println!(
        "agent RSS with 110 pods cached, after a scrape: {}",
        rss(&agent)
    );
    println!(
        "agent RSS with --kube.api=off, after a scrape: {}",
        rss(&off)
    );
}

fn rss(agent: &Server) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.pid())).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("");
    line.trim_start_matches("VmRSS:").trim().to_owned()
}
