//! The servers one run starts on loopback, each with its config in a temp dir: a real
//! Alertmanager whose webhook is the bench's, a real Prometheus and our aggregator with
//! the same global section, scrape jobs and metric rules (they differ only in the
//! `source` external label that tells their alerts apart), and our aggregator's log rule
//! and direct webhook. The metric rules of the trials are spread round-robin over
//! [`GROUPS`] groups, so that one run samples as many evaluation phases.

use crate::common::{peer, Server};
use std::path::{Path, PathBuf};

/// How many rule groups the trials are spread over (fewer with fewer trials).
pub const GROUPS: usize = 5;

/// The metric rules, as both servers read them: group `ttd-<g>` holds the trials
/// `i % GROUPS == g`, a threshold rule on the demo target's series and a down rule on
/// their killed targets (`for: 0s`: firing at the first evaluation that sees it).
fn metric_rules(trials: usize) -> String {
    let mut out = String::from("groups:\n");
    for g in 0..GROUPS.min(trials) {
        let mine: Vec<String> = (g..trials).step_by(GROUPS).map(|i| i.to_string()).collect();
        let re = mine.join("|");
        out += &format!(
            "- name: ttd-{g}\n  rules:\n  - alert: DemoHigh\n    expr: demo_value{{trial=~\"{re}\"}} > 50\n    for: 0s\n\
             \x20 - alert: TargetDown\n    expr: up{{job=\"kill\",trial=~\"{re}\"}} == 0\n    for: 0s\n"
        );
    }
    out
}

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
fn shared_config(plan: &Plan, source: &str, rules: &str, am: Option<u16>) -> String {
    let mut c = String::from("global:\n");
    if let Some(i) = plan.interval {
        c += &format!("  scrape_interval: {i}\n  evaluation_interval: {i}\n");
    }
    c += &format!("  external_labels:\n    source: {source}\nrule_files: [{rules}]\n");
    if let Some(am) = am {
        c += &format!(
            "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:{am}']\n"
        );
    }
    c + &scrape_configs(plan.target, plan.kill_targets)
}

/// Job `demo` (the threshold trials' target) and job `kill` (trial i's own target,
/// labelled `trial="i"`).
fn scrape_configs(target: u16, kill: &[u16]) -> String {
    let mut c = format!(
        "scrape_configs:\n- job_name: demo\n  static_configs:\n  - targets: ['127.0.0.1:{target}']\n\
         - job_name: kill\n  static_configs:\n"
    );
    for (i, port) in kill.iter().enumerate() {
        c += &format!("  - targets: ['127.0.0.1:{port}']\n    labels: {{trial: '{i}'}}\n");
    }
    c
}

/// The running peers; Prometheus and Alertmanager are `None` when not installed (and
/// not under CI) or not asked for.
pub struct Peers {
    pub alertmanager: Option<Server>,
    pub prometheus: Option<Server>,
    pub ours: Server,
    _dir: tempfile::TempDir,
}

impl Peers {
    /// Whether every rule group of ours (and of Prometheus, when it runs) has been
    /// evaluated once: a group evaluates from its first slot on (in both), so a trial
    /// before it would time that slot rather than the path measured.
    pub fn evaluated(&self) -> bool {
        let servers = [Some(&self.ours), self.prometheus.as_ref()];
        servers.into_iter().flatten().all(groups_evaluated)
    }
}

fn groups_evaluated(server: &Server) -> bool {
    let body = crate::common::get(&server.url("/api/v1/rules"), &[]).text();
    let rules: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let groups = rules["data"]["groups"].as_array();
    groups.is_some_and(|g| {
        !g.is_empty()
            && g.iter().all(|g| {
                let last = g["lastEvaluation"].as_str();
                last.is_some_and(|t| !t.starts_with("0001-"))
            })
    })
}

/// What a run starts.
pub struct Plan<'a> {
    pub interval: Option<&'a str>,
    pub with_prometheus: bool,
    pub aggregator: &'a Path,
    pub target: u16,
    /// The killed-target trials' ports, trial i's at i.
    pub kill_targets: &'a [u16],
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
    write(
        d.join("metric_rules.yml"),
        &metric_rules(plan.kill_targets.len()),
    );
    write(d.join("log_rules.yml"), &log_rules());
    let prometheus = plan
        .with_prometheus
        .then(|| peer("prometheus"))
        .flatten()
        .map(|p| {
            let text = shared_config(plan, "prometheus", "metric_rules.yml", am_port);
            let config = write(d.join("prometheus.yml"), &text);
            let args = [
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", d.join("prometheus").display()),
                "--log.level=warn".to_owned(),
            ];
            start(&p, &args, "/-/ready")
        });
    let rules = "metric_rules.yml, log_rules.yml";
    let text = shared_config(plan, "nodepulse", rules, am_port)
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
