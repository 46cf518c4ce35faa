//! The servers one run starts on loopback, each with its config in a temp dir: a real
//! Alertmanager whose webhook is the bench's, a real Prometheus and our aggregator with
//! the same global section, scrape job and metric rule (they differ only in the
//! `source` external label that tells their alerts apart), and our aggregator's log rule
//! and direct webhook.

use crate::common::{peer, Server};
use std::path::{Path, PathBuf};

/// The metric rule, as both servers read it (`for: 0s`: firing at the first evaluation
/// that sees the crossing).
const METRIC_RULES: &str = "groups:
- name: ttd
  rules:
  - alert: DemoHigh
    expr: demo_value > 50
    for: 0s
";

/// The log rule (ours only): the share of a pod's lines that are errors over the last
/// `LOG_WINDOW`, above 25 %.
pub const LOG_WINDOW_SECS: u64 = 10;

fn log_rules() -> String {
    let w = LOG_WINDOW_SECS;
    format!(
        "groups:
- name: ttd-logs
  query_language: logql
  rules:
  - alert: ErrorShareHigh
    expr: |
      sum by (pod) (count_over_time({{namespace=\"ttd\"}} |= \"level=error\" [{w}s]))
        /
      sum by (pod) (count_over_time({{namespace=\"ttd\"}} [{w}s]))
        > 0.25
    for: 0s
"
    )
}

/// Alertmanager's route: one group per alert (`...`), sent as soon as it is created
/// (`group_wait: 0s`); `group_interval` only spaces later updates of a group. Its own
/// batching delay is thus out of both paths through it.
fn alertmanager_config(hook: &str) -> String {
    format!(
        "route:\n  receiver: bench\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n\
         \x20 repeat_interval: 1h\nreceivers:\n- name: bench\n  webhook_configs:\n\
         \x20 - url: {hook}/am\n    send_resolved: false\n"
    )
}

/// The configuration both servers read: `interval` None keeps the defaults (ours are
/// Prometheus's: scrape and evaluation every 1m).
fn shared_config(
    interval: Option<&str>,
    source: &str,
    rules: &str,
    am: Option<u16>,
    target: u16,
) -> String {
    let mut c = String::from("global:\n");
    if let Some(i) = interval {
        c += &format!("  scrape_interval: {i}\n  evaluation_interval: {i}\n");
    }
    c += &format!("  external_labels:\n    source: {source}\nrule_files: [{rules}]\n");
    if let Some(am) = am {
        c += &format!(
            "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:{am}']\n"
        );
    }
    c + &format!(
        "scrape_configs:\n- job_name: demo\n  static_configs:\n  - targets: ['127.0.0.1:{target}']\n"
    )
}

/// The running peers; Prometheus and Alertmanager are `None` when not installed (and
/// not under CI) or not asked for.
pub struct Peers {
    pub alertmanager: Option<Server>,
    pub prometheus: Option<Server>,
    pub ours: Server,
    _dir: tempfile::TempDir,
}

/// What a run starts.
pub struct Plan<'a> {
    pub interval: Option<&'a str>,
    pub with_prometheus: bool,
    pub aggregator: &'a Path,
    pub target: u16,
    pub hook: &'a str,
}

fn write(path: PathBuf, text: &str) -> PathBuf {
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

fn start(program: &Path, args: &[String], ready: &str) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(program, &args, ready)
}

/// Starts Alertmanager, then Prometheus and ours (blocking; not on a runtime thread).
pub fn start_all(plan: &Plan) -> Peers {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let alertmanager = peer("prometheus-alertmanager").map(|am| {
        let config = write(d.join("alertmanager.yml"), &alertmanager_config(plan.hook));
        let args = [
            format!("--config.file={}", config.display()),
            format!("--storage.path={}", d.join("am").display()),
            "--cluster.listen-address=".to_owned(),
            "--log.level=warn".to_owned(),
        ];
        start(&am, &args, "/-/ready")
    });
    let am_port = alertmanager.as_ref().map(|s| s.port);
    write(d.join("metric_rules.yml"), METRIC_RULES);
    write(d.join("log_rules.yml"), &log_rules());
    let prometheus = plan
        .with_prometheus
        .then(|| peer("prometheus"))
        .flatten()
        .map(|p| {
            let text = shared_config(
                plan.interval,
                "prometheus",
                "metric_rules.yml",
                am_port,
                plan.target,
            );
            let config = write(d.join("prometheus.yml"), &text);
            let args = [
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", d.join("prometheus").display()),
                "--log.level=warn".to_owned(),
            ];
            start(&p, &args, "/-/ready")
        });
    let rules = "metric_rules.yml, log_rules.yml";
    let text = shared_config(plan.interval, "nodepulse", rules, am_port, plan.target)
        + &format!(
            "notifications:\n  webhooks:\n  - url: {}/direct\n",
            plan.hook
        );
    let config = write(d.join("aggregator.yml"), &text);
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", d.join("ours").display()),
        "--log.level=warn".to_owned(),
    ];
    let ours = start(plan.aggregator, &args, "/-/ready");
    Peers {
        alertmanager,
        prometheus,
        ours,
        _dir: dir,
    }
}
