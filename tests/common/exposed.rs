//! The metric names nodepulse exposes, and the names a PromQL expression reads: the
//! default rules (tests/default_rules.rs) and the dashboards (tests/dashboards.rs) may
//! read only the former.

use super::{get, parse_body, spawn_agent};
use nodepulse::aggregator::scrape::samples::REPORT_NAMES;
use promql_parser::parser::{self, Expr};
use promql_parser::util::{walk_expr, ExprVisitor};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every name a running agent serves on `/metrics`, the literal names of `src/agent`
/// and `src/aggregator` (families that appear only once something happens: a sink, a
/// rule group, a notifier), and the series a scrape synthesizes (`up`, ...).
pub fn exposed_names() -> BTreeSet<String> {
    let agent = spawn_agent(&["--kube.api=off"]);
    let body = get(&agent.url("/metrics"), &[]).text();
    let mut exposed: BTreeSet<String> = parse_body(&body)
        .samples
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    exposed.extend(literal_names("src/agent", "container|kube|nodepulse"));
    exposed.extend(literal_names("src/aggregator", "nodepulse"));
    exposed.extend(REPORT_NAMES.iter().map(|n| n.to_string()));
    for name in [
        "node_cpu_seconds_total",
        "container_oom_events_total",
        "kube_pod_status_ready",
        "nodepulse_log_oldest_unacked_age_seconds",
        "nodepulse_tsdb_head_series",
    ] {
        assert!(exposed.contains(name), "the exposed set misses {name}");
    }
    exposed
}

/// Metric names in string literals of `dir`'s sources (not its tests) with one of
/// `prefixes` (`a|b`): the cAdvisor (`container_*`), kube-state-metrics (`kube_*`) and
/// own (`nodepulse_*`) families are tables of literal names there. node_exporter's are
/// read off a running agent instead, as some (node_memory_*) are built from
/// /proc/meminfo's field names.
fn literal_names(dir: &str, prefixes: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(&format!(r#""((?:{prefixes})_[a-zA-Z0-9_]+)""#)).expect("a regex");
    let mut names = BTreeSet::new();
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                dirs.push(path);
            } else if file.ends_with(".rs") && !file.ends_with("tests.rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                names.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
            }
        }
    }
    names
}

/// The metric names `expr`'s selectors read; an error names a selector without one.
pub fn read_names(expr: &str) -> Result<BTreeSet<String>, String> {
    let ast = parser::parse(expr)?;
    let mut names = Names(BTreeSet::new());
    walk_expr(&mut names, &ast)?;
    Ok(names.0)
}

/// Collects the metric names of an expression's selectors.
struct Names(BTreeSet<String>);

impl ExprVisitor for Names {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        let selector = match expr {
            Expr::VectorSelector(v) => Some(v),
            Expr::MatrixSelector(m) => Some(&m.vs),
            _ => None,
        };
        if let Some(v) = selector {
            self.0.insert(
                v.name
                    .clone()
                    .ok_or_else(|| format!("a selector without a metric name: {expr}"))?,
            );
        }
        Ok(true)
    }
}
