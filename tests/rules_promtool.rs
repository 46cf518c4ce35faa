//! The rule engine against Prometheus 2.42's own `promtool` (Debian's package):
//! - `check rules`: for a table of bad and good rule files, our messages equal
//!   promtool's, line and column included (the PromQL parser's own wording after
//!   "could not parse expression:" aside: ours is promql-parser's);
//! - `test rules`: seeded random series, rules with `for`, `keep_firing_for`, templates
//!   and a recording rule read by an alert; our group is evaluated every minute as
//!   promtool does, and the alerts it has firing at each minute become promtool's
//!   `exp_alerts` for that minute, and what it wrote (`ALERTS`, `ALERTS_FOR_STATE`, the
//!   recording rule's series, stale markers included) its `exp_samples` at each minute:
//!   promtool passes only if Prometheus's evaluation gives the same alerts, labels,
//!   annotations and series at every one of them.

mod common;

use common::peer;
use common::rng::Rng;
use nodepulse::aggregator::model::{Appender, Labels, MemStore, Sample};
use nodepulse::aggregator::promql::{instant_query, QueryOptions, Value as PromValue};
use nodepulse::aggregator::rules::group::Rule;
use nodepulse::aggregator::rules::{
    file, Alert, AlertSink, AlertState, Group, RuleContext, RuleOptions,
};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const FILES: &[(&str, &str)] = &[
    ("syntax.yml", "groups:\n  - name: g\n    rules:\n      - alert: High CPU\n        expr: rate(x[5m]) >\n        for: 5m\n      - record: job:x\n        for: 1m\n        expr: sum(x)\n        labels:\n          __name__: y\n      - expr: x\n      - record: a\n        alert: b\n        expr: x\n  - name: g\n    rules: []\n"),
    ("names.yml", "groups:\n- name: \"\"\n  interval: 0s\n  rules:\n  - record: 1abc\n    expr: up\n    keep_firing_for: 1m\n    annotations: {a: b}\n"),
    ("unknown.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    bar: 2\n"),
    ("unknown_group.yml", "groups:\n- name: g\n  foo: 1\n  rules: []\n"),
    ("template.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: \"{{ $labels.x \"\n"),
    ("missing_expr.yml", "groups:\n- name: g\n  rules:\n  - alert: A\n  - record: r\n    expr: ''\n"),
    ("flow.yml", "groups: [{name: g, rules: [{record: 'a b', expr: 'up'}, {alert: X, expr: 'sum(', labels: {'0x': y}}]}]\n"),
    ("good.yml", "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n    keep_firing_for: 5m\n    labels: {severity: page}\n    annotations: {s: \"{{ $labels.job }} {{ $value }}\"}\n  - record: job:up:sum\n    expr: sum by (job) (up)\n"),
];

/// The part of a message both tools word the same.
fn comparable(line: &str) -> String {
    const CUT: &str = "could not parse expression:";
    match line.find(CUT) {
        Some(i) => line[..i + CUT.len()].to_string(),
        None => line.to_string(),
    }
}

#[test]
fn rule_file_errors_match_promtool_check_rules() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in FILES {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let shown = path.display().to_string();
        let out = Command::new(&promtool)
            .args(["check", "rules", &shown])
            .output()
            .unwrap();
        let all = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        // A message runs from a line starting with the path to the next such line.
        let mut theirs: Vec<String> = Vec::new();
        for line in all.lines() {
            if line.starts_with(&shown) {
                theirs.push(line.to_string());
            } else if let Some(last) = theirs.last_mut().filter(|_| line.starts_with("  line ")) {
                last.push('\n');
                last.push_str(line);
            }
        }
        let ours = match file::parse(&shown, text) {
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        };
        let theirs: Vec<String> = theirs.iter().map(|l| comparable(l)).collect();
        let ours: Vec<String> = ours.iter().map(|l| comparable(l)).collect();
        assert_eq!(ours, theirs, "{name}: promtool said:\n{all}");
        assert_eq!(out.status.success(), ours.is_empty(), "{name}: {all}");
    }
}

const RULES: &str = r#"
groups:
  - name: g
    rules:
      - alert: High
        expr: m > 10
        for: 2m
        labels: {severity: page, where: "{{ $labels.instance }}"}
        annotations: {summary: "{{ $labels.instance }} at {{ $value }}"}
      - alert: Flappy
        expr: m > 10
        keep_firing_for: 3m
        labels: {severity: warning}
      - record: m:sum
        expr: sum(m)
      - alert: SumHigh
        expr: m:sum > 45
        for: 1m
        annotations: {total: "{{ $value }}"}
"#;

const MINUTES: usize = 60;
const INSTANCES: [&str; 3] = ["a", "b", "c"];

struct Discard;

impl AlertSink for Discard {
    fn send(&self, _: Vec<Alert>) {}
}

/// Per instance, a value per minute that flips between 5 and 20 (seeded).
fn series() -> Vec<Vec<f64>> {
    let mut rng = Rng::new(7);
    INSTANCES
        .iter()
        .map(|_| {
            let mut high = false;
            (0..=MINUTES)
                .map(|_| {
                    if rng.below(10) < 3 {
                        high = !high;
                    }
                    if high {
                        20.0
                    } else {
                        5.0
                    }
                })
                .collect()
        })
        .collect()
}

/// Our firing alerts, per minute and alert name, as promtool's `exp_alerts`; and
/// what the rules wrote (ALERTS, ALERTS_FOR_STATE, the recording rule) as promtool's
/// `promql_expr_test`s at every minute.
fn our_results(values: &[Vec<f64>]) -> (Vec<Value>, Vec<Value>) {
    let store = Arc::new(MemStore::new());
    for (inst, vals) in INSTANCES.iter().zip(values) {
        let samples = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample {
                t: i as i64 * 60_000,
                v,
            })
            .collect();
        store
            .append(&[(
                Labels::from_pairs(&[("__name__", "m"), ("instance", inst)]),
                samples,
            )])
            .unwrap();
    }
    let ctx = Arc::new(RuleContext {
        metrics: store.clone(),
        appender: store.clone(),
        logs: None,
        sink: Arc::new(Discard),
        opts: RuleOptions::default(),
    });
    let def = file::parse("rules.yml", RULES).unwrap().remove(0);
    let mut group = Group::new("rules.yml", def, ctx, true).unwrap();
    let mut tests = Vec::new();
    for minute in 0..=MINUTES {
        group.eval(minute as i64 * 60_000);
        for (rule, _) in group.rules() {
            let Rule::Alerting(r) = rule else { continue };
            let exp: Vec<Value> = r
                .active
                .values()
                .filter(|a| a.state == AlertState::Firing)
                .map(|a| json!({"exp_labels": map(&a.labels), "exp_annotations": map(&a.annotations)}))
                .collect();
            tests.push(
                json!({"eval_time": format!("{minute}m"), "alertname": r.name, "exp_alerts": exp}),
            );
        }
    }
    (tests, written(&store))
}

/// Each written series' instant value at every minute, read after all evaluations
/// (as promtool runs its expression tests).
fn written(store: &MemStore) -> Vec<Value> {
    let mut out = Vec::new();
    for minute in 0..=MINUTES {
        for expr in ["ALERTS", "ALERTS_FOR_STATE", "m:sum"] {
            let t = minute as i64 * 60_000;
            let Ok(PromValue::Vector(v)) = instant_query(store, expr, t, &QueryOptions::default())
            else {
                panic!("{expr} at {t}");
            };
            let exp: Vec<Value> = v
                .iter()
                .map(|s| json!({"labels": series_text(&s.labels), "value": s.v}))
                .collect();
            out.push(json!({"expr": expr, "eval_time": format!("{minute}m"), "exp_samples": exp}));
        }
    }
    out
}

/// `name{a="b", ...}`, promtool's series notation.
fn series_text(l: &Labels) -> String {
    let rest: Vec<String> = l
        .iter()
        .filter(|(n, _)| *n != "__name__")
        .map(|(n, v)| format!("{n}={v:?}"))
        .collect();
    format!(
        "{}{{{}}}",
        l.get("__name__").unwrap_or_default(),
        rest.join(", ")
    )
}

fn map(l: &Labels) -> Value {
    Value::Object(l.iter().map(|(n, v)| (n.to_string(), json!(v))).collect())
}

#[test]
fn alert_states_match_promtool_test_rules() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let values = series();
    let (tests, exprs) = our_results(&values);
    let firing = tests
        .iter()
        .filter(|t| t["exp_alerts"].as_array().is_some_and(|a| !a.is_empty()))
        .count();
    assert!(
        firing >= 20,
        "the data should make alerts fire often: {firing}"
    );
    let input: Vec<Value> = INSTANCES
        .iter()
        .zip(&values)
        .map(|(inst, vals)| {
            let text: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
            json!({"series": format!("m{{instance=\"{inst}\"}}"), "values": text.join(" ")})
        })
        .collect();
    let unit = json!({
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests, "promql_expr_test": exprs}],
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let test_file = dir.path().join("test.yml");
    std::fs::write(&test_file, serde_json::to_string_pretty(&unit).unwrap()).unwrap();
    let out = Command::new(&promtool)
        .args(["test", "rules", Path::new(&test_file).to_str().unwrap()])
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool disagrees:\n{all}");
}
