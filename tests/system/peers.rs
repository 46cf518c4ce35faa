//! The processes around the agent, each with its configuration written into the test's
//! temp dir: the aggregator (scraping the agent every second, loading one PromQL and
//! one LogQL rule file, notifying the Alertmanager), a real Prometheus 2.42 scraping the
//! agent every second, and a real Alertmanager 0.25. A missing peer is skipped with an
//! install hint by [`peer`] (a failure under `CI=true`).

use crate::common::{peer, Server};
use std::path::Path;

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

/// A PromQL rule on a container metric the test controls through the cgroup fixture.
pub const METRIC_RULES: &str = "groups:
- name: e2e-containers
  interval: 1s
  rules:
  - alert: ContainerMemoryHigh
    expr: container_memory_working_set_bytes{namespace=\"shop\", container=\"app\"} > 100e6
    labels:
      severity: warning
    annotations:
      summary: '{{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanize1024 }}B'
";

/// A LogQL rule on the error lines the test writes (`level` is lifted by the agent).
pub const LOG_RULES: &str = "groups:
- name: e2e-logs
  interval: 1s
  query_language: logql
  rules:
  - alert: ErrorLines
    expr: sum by (namespace, pod, app) (count_over_time({namespace=\"shop\"} | level=\"error\" [1m])) > 2
    labels:
      severity: critical
    annotations:
      summary: '{{ $labels.pod }} wrote {{ $value }} error lines'
";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn start(program: &Path, args: &[String], ready: &str) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(program, &args, ready)
}

/// The aggregator, its data and files under `dir`; it scrapes `agent` (host:port).
pub fn aggregator(dir: &Path, agent: &str, alertmanager: &str) -> Server {
    write(dir, "metric-rules.yml", METRIC_RULES);
    write(dir, "log-rules.yml", LOG_RULES);
    let config = write(
        dir,
        "aggregator.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [metric-rules.yml, log-rules.yml]\n\
             alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['{alertmanager}']\n\
             scrape_configs:\n- job_name: agent\n  static_configs:\n  - targets: ['{agent}']\n"
        ),
    );
    let args = [
        format!("--config.file={config}"),
        format!("--storage.path={}", dir.join("aggregator").display()),
    ];
    start(Path::new(AGGREGATOR), &args, "/-/ready")
}

/// A real Prometheus scraping `agent` every second; `None` when it is not installed.
pub fn prometheus(dir: &Path, agent: &str) -> Option<Server> {
    let program = peer("prometheus")?;
    let config = write(
        dir,
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
             - job_name: agent\n  static_configs:\n  - targets: ['{agent}']\n"
        ),
    );
    let args = [
        format!("--config.file={config}"),
        format!("--storage.tsdb.path={}", dir.join("prometheus").display()),
    ];
    Some(start(&program, &args, "/-/ready"))
}

/// A real Alertmanager keeping what it receives (its one receiver sends nowhere);
/// `None` when it is not installed.
pub fn alertmanager(dir: &Path) -> Option<Server> {
    let program = peer("prometheus-alertmanager")?;
    let config = write(
        dir,
        "alertmanager.yml",
        "route:\n  receiver: keep\nreceivers:\n- name: keep\n",
    );
    let args = [
        format!("--config.file={config}"),
        format!("--storage.path={}", dir.join("alertmanager").display()),
        "--cluster.listen-address=".to_owned(),
    ];
    Some(start(&program, &args, "/-/ready"))
}
