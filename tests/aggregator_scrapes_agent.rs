//! The whole metrics path through both binaries: the agent serves /metrics, the
//! aggregator scrapes it (a config file with Prometheus's `scrape_configs`), stores the
//! samples, lists the target on /api/v1/targets and answers PromQL over them.

mod common;

use common::{spawn_agent, Server};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

#[test]
fn the_aggregator_scrapes_the_agent_and_answers_queries_over_it() {
    let agent = spawn_agent(&[]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aggregator.yml");
    std::fs::write(
        &config,
        format!(
            "scrape_configs:\n  - job_name: agent\n    scrape_interval: 250ms\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n        labels: {{cluster: local}}\n",
            agent.port
        ),
    )
    .unwrap();
    let args = [
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--config.file={}", config.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut aggregator = Server::start(Path::new(AGGREGATOR), &args, "/-/ready");
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| -> Value {
        let text = http
            .get(aggregator.url(path))
            .send()
            .unwrap()
            .text()
            .unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let up = loop {
        let v = get("/api/v1/query?query=up%7Bjob%3D%22agent%22%7D");
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "no up series: {}",
            aggregator.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let sample = &up["data"]["result"][0];
    let instance = format!("127.0.0.1:{}", agent.port);
    assert_eq!(sample["value"][1], "1", "{up}");
    assert_eq!(sample["metric"]["instance"], instance.as_str());
    assert_eq!(sample["metric"]["cluster"], "local");

    // The agent's own node metrics, through PromQL with an aggregation.
    let mem = get("/api/v1/query?query=sum%20by%20(job)%20(node_memory_MemTotal_bytes)");
    let total: f64 = mem["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 0.0, "{mem}");

    let targets = get("/api/v1/targets");
    let t = &targets["data"]["activeTargets"][0];
    assert_eq!(
        (t["scrapePool"].as_str(), t["health"].as_str()),
        (Some("agent"), Some("up")),
        "{targets}"
    );
    assert_eq!(
        t["scrapeUrl"],
        format!("http://{instance}/metrics").as_str()
    );
    assert_eq!(t["labels"]["job"], "agent");
    assert_eq!(t["discoveredLabels"]["__address__"], instance.as_str());
    assert_eq!(t["scrapeInterval"], "250ms");

    let metrics = http
        .get(aggregator.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("\nnodepulse_scrape_append_failures_total 0\n"),
        "{metrics}"
    );
    let value = |name: &str| -> f64 {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name} ")));
        let line = line.unwrap_or_else(|| panic!("no {name}: {metrics}"));
        line[name.len() + 1..].parse().unwrap()
    };
    assert!(value("nodepulse_tsdb_head_series") > 100.0, "{metrics}");
    assert!(value("nodepulse_tsdb_wal_fsyncs_total") >= 1.0, "{metrics}");
    assert_eq!(value("nodepulse_tsdb_blocks_failed_total"), 0.0);

    aggregator.terminate();
    let status = aggregator
        .wait_exit(Duration::from_secs(60))
        .expect("exit after SIGTERM");
    assert!(status.success(), "{status:?}: {}", aggregator.log());
}
