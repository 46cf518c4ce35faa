//! The node dashboard over a real agent: `nodepulse-agent` reading this machine, scraped
//! by the aggregator as the Prometheus Operator component's PodMonitor scrapes it
//! (`/metrics/node` as `job="node-exporter"`), so every panel finds the labels the
//! agent really writes (nodename, mountpoint, fstype, device, mode, ...).

use super::common::{spawn_agent, Server};
use super::{api::run_panels, data, model, AGGREGATOR};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the first scrapes may take to give every panel data on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn the_node_dashboard_shows_a_real_agent() {
    let agent = spawn_agent(&["--kube.api=off"]);
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("aggregator.yml");
    let text = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node-exporter\n    \
         metrics_path: /metrics/node\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
        agent.port
    );
    std::fs::write(&config, text).expect("writing the config");
    let args = [
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--config.file={}", config.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(Path::new(AGGREGATOR), &args, "/-/ready");
    let dashboards = model::load_all();
    let node = (dashboards.iter())
        .find(|d| d.file == "node.json")
        .expect("node.json");
    // Rates need two scrapes: poll until every panel has data, or report what has none.
    let started = Instant::now();
    loop {
        let now = data::now_ms();
        let failures = run_panels(&server, node, now - 300_000, now);
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
