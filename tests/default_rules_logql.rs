//! The LogQL group of the default rule set (manifests/rules/logs.yml): its expressions
//! parse with our LogQL parser, and over a real log store they select exactly the pods
//! whose error lines (structured metadata `level`, as the agent lifts it) exceed each
//! threshold, with the ratio as the value.

use nodepulse::aggregator::logql::eval::metric::{self, MetricOptions};
use nodepulse::aggregator::logql::eval::windows::Steps;
use nodepulse::aggregator::logql::{parse, Expr};
use nodepulse::aggregator::logstore::{LogStore, LogStoreOptions};
use nodepulse::aggregator::model::logs::{LogAppender, LogEntry, PushStream};
use nodepulse::aggregator::model::Labels;
use nodepulse::aggregator::promql::Value;
use serde_norway::Value as Yaml;

const LOGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/rules/logs.yml");
const S: i64 = 1_000_000_000;

/// `(severity, expr)` of each rule in logs.yml.
fn rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(LOGS).expect("logs.yml");
    let file: Yaml = serde_norway::from_str(&text).expect("logs.yml is YAML");
    let groups = file["groups"].as_sequence().cloned().unwrap_or_default();
    assert!(groups
        .iter()
        .all(|g| g["query_language"].as_str() == Some("logql")));
    groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
        .map(|r| {
            let severity = r["labels"]["severity"].as_str().expect("a severity");
            (
                severity.to_string(),
                r["expr"].as_str().expect("an expr").to_string(),
            )
        })
        .collect()
}

/// A whole minute an hour ago (inside the store's accepted window).
fn t0() -> i64 {
    nodepulse::aggregator::loki::now_ns() / (60 * S) * (60 * S) - 3600 * S
}

/// 100 lines over 5 minutes from `pod`, the first `errors` of them at level error.
fn pod(name: &str, errors: usize) -> PushStream {
    let entries = (0..100)
        .map(|i| LogEntry {
            ts: t0() + 1 + i as i64 * 3 * S,
            line: format!("request {i} served"),
            metadata: if i < errors {
                vec![("level".to_string(), "error".to_string())]
            } else {
                vec![("level".to_string(), "info".to_string())]
            },
        })
        .collect();
    PushStream {
        labels: Labels::from_pairs(&[("namespace", "shop"), ("pod", name), ("container", "app")]),
        entries,
    }
}

/// The rule's expression at t0 + 5 min: `(pod, value)` of each result.
fn fired(store: &LogStore, expr: &str) -> Vec<(String, f64)> {
    let Ok(Expr::Metric(m)) = parse(expr) else {
        panic!("not a metric query: {expr}");
    };
    let t = t0() + 300 * S;
    let steps = Steps {
        start: t,
        end: t,
        step: S,
    };
    let Value::Vector(v) =
        metric::evaluate(store, &m, steps, &MetricOptions::default()).expect(expr)
    else {
        panic!("not a vector: {expr}");
    };
    let mut out: Vec<_> = v
        .into_iter()
        .map(|s| (s.labels.get("pod").unwrap_or_default().to_string(), s.v))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn logql_rules_parse_with_our_logql_parser() {
    let rules = rules();
    assert_eq!(rules.len(), 2);
    for (_, expr) in rules {
        parse(&expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

#[test]
fn error_rate_rules_select_the_pods_over_their_threshold() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = LogStore::open(dir.path(), LogStoreOptions::default()).expect("a log store");
    // 2 %, 10 % and 30 % error lines.
    let streams = vec![pod("web-1", 2), pod("web-2", 10), pod("worker-1", 30)];
    store.push(streams).expect("push");
    for (severity, expr) in rules() {
        let want = match severity.as_str() {
            "warning" => vec![("web-2".to_string(), 0.1), ("worker-1".to_string(), 0.3)],
            "critical" => vec![("worker-1".to_string(), 0.3)],
            other => panic!("severity {other}"),
        };
        let got = fired(&store, &expr);
        assert_eq!(got.len(), want.len(), "{severity}: {got:?}");
        for ((gp, gv), (wp, wv)) in got.iter().zip(&want) {
            assert_eq!(gp, wp, "{severity}: {got:?}");
            assert!((gv - wv).abs() < 1e-9, "{severity}: {got:?}");
        }
    }
}
