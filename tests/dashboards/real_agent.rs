//! Dashboards over a real agent, scraped by the aggregator as the Prometheus Operator
//! component's PodMonitor scrapes it (`/metrics/node` as `job="node-exporter"`,
//! `/metrics/cadvisor` as `job="cadvisor"` and `/metrics/kube-state` as
//! `job="kube-state-metrics"`, those two with honor_labels), so every panel must find
//! the labels the agent really writes: the node dashboard over this machine's /proc and
//! /sys, the pods dashboard over a node of pods (fake API server) and their containers
//! (a cgroup tree in a temp dir). And the logs dashboard over lines the agent tailed
//! from a kubelet log tree and shipped to the aggregator's Loki push API.

use super::cgroup_tree::node::big_node;
use super::cgroup_tree::uid as tree_uid;
use super::common::cri::{Container, Dirs};
use super::common::fake_api::{FakeApi, NAMESPACES, PODS};
use super::common::pods::{namespace, pod, NODE};
use super::common::{spawn_agent, Server};
use super::{api::run_panels, data, model, AGGREGATOR};
use std::path::Path;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long the first scrapes may take to give every panel data on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(90);

/// The aggregator scraping `agent` every second as the PodMonitor's three endpoints.
fn aggregator_scraping(agent: &Server) -> (Server, TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("aggregator.yml");
    let mut text = String::from("global:\n  scrape_interval: 1s\nscrape_configs:\n");
    for (job, path, honor) in [
        ("node-exporter", "/metrics/node", false),
        ("cadvisor", "/metrics/cadvisor", true),
        ("kube-state-metrics", "/metrics/kube-state", true),
    ] {
        text.push_str(&format!(
            "  - job_name: {job}\n    metrics_path: {path}\n    honor_labels: {honor}\n    \
             static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            agent.port
        ));
    }
    std::fs::write(&config, text).expect("writing the config");
    let args = [
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--config.file={}", config.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (Server::start(Path::new(AGGREGATOR), &args, "/-/ready"), dir)
}

/// Polls until every panel of dashboard `file` has data (rates need two scrapes);
/// panics listing the panels without data at the deadline.
/// Over the last 5 minutes, or `range` (ms) when given.
fn every_panel_gets_data(server: &Server, file: &str, range: impl Into<Option<(i64, i64)>>) {
    let range = range.into();
    let dashboards = model::load_all();
    let d = (dashboards.iter()).find(|d| d.file == file).expect(file);
    let started = Instant::now();
    loop {
        let now = data::now_ms();
        let (start, end) = range.unwrap_or((now - 300_000, now));
        let failures = run_panels(server, d, start, end);
        if failures.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{} panels without data after {DEADLINE:?}:\n{}",
            failures.len(),
            failures.join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_node_dashboard_shows_a_real_agent() {
    let agent = spawn_agent(&["--kube.api=off"]);
    let (server, _dir) = aggregator_scraping(&agent);
    every_panel_gets_data(&server, "node.json", None);
}

#[test]
fn the_pods_dashboard_shows_a_real_agent_on_a_node_of_pods() {
    // big_node's pods (web-0..web-4 in default, containers c1..c3 named by their log
    // directories), as the API server lists them.
    let tree = big_node(5, 3);
    let pods = (0..5).map(|p| pod("default", &format!("web-{p}"), &tree_uid(1000 + p), NODE));
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let api = rt.block_on(FakeApi::start());
    api.set_items(PODS, pods.collect());
    api.set_items(NAMESPACES, vec![namespace("default", &[], &[])]);
    let args = [
        format!("--kube.api={}", api.url()),
        format!("--node-name={NODE}"),
        format!("--path.sysfs={}", tree.path("sys").display()),
        format!("--path.procfs={}", tree.path("proc").display()),
        format!("--logs.pods-dir={}", tree.path("log/pods").display()),
        format!(
            "--logs.containers-dir={}",
            tree.path("log/containers").display()
        ),
    ];
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (server, _dir) = aggregator_scraping(&agent);
    every_panel_gets_data(&server, "pods.json", None);
}

#[test]
fn the_logs_dashboard_shows_lines_a_real_agent_shipped() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let storage = format!("--storage.path={}", tmp.path().join("aggregator").display());
    let server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let dirs = Dirs::new(tmp.path());
    let mut app = Container::new(&dirs.pods, ("shop", "web-1", "uid-1"), "app").stamped_yesterday();
    for i in 0..40 {
        let level = if i % 4 == 0 { "error" } else { "info" };
        app.write_message(
            "stdout",
            &format!(r#"{{"level":"{level}","msg":"GET /cart {i}"}}"#),
        );
    }
    let mut args = dirs.args();
    args.push(format!(
        "--sink.loki.url={}",
        server.url("/loki/api/v1/push")
    ));
    args.extend(["--kube.api=off".into(), format!("--node-name={NODE}")]);
    let _agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // The lines are stamped from 00:00 yesterday (UTC) on.
    let yesterday_ms = (data::now_ms() / 86_400_000 - 1) * 86_400_000;
    every_panel_gets_data(
        &server,
        "logs.json",
        (yesterday_ms, yesterday_ms + 3_600_000),
    );
}
