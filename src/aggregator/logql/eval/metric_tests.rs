//! Metric queries over the real log store, against values worked out by hand from the
//! lines pushed.

use super::*;
use crate::aggregator::logql::ast::MetricExpr;
use crate::aggregator::logql::{parse, Expr};
use crate::aggregator::logstore::{LogStore, LogStoreOptions};
use crate::aggregator::model::logs::{LogAppender, LogEntry, PushStream};
use crate::aggregator::promql::Value;
use windows::Steps;

const S: i64 = 1_000_000_000;
/// A recent whole minute, so the store's age checks pass.
fn t0() -> i64 {
    crate::aggregator::loki::now_ns() / (60 * S) * (60 * S) - 3600 * S
}

/// Two apps: `a` logs every second for 30 s (odd seconds `level=error`, latency = the
/// second in ms), `b` every 5 s; `c` logs lines that are not JSON.
fn store(dir: &std::path::Path) -> LogStore {
    let store = LogStore::open(dir, LogStoreOptions::default()).expect("open");
    let stream = |app: &str, entries: Vec<(i64, String)>| PushStream {
        labels: Labels::from_pairs(&[("app", app), ("env", "prod")]),
        entries: entries
            .into_iter()
            .map(|(ts, line)| LogEntry {
                ts,
                line,
                metadata: Vec::new(),
            })
            .collect(),
    };
    let a = (1..=30)
        .map(|i| {
            let level = if i % 2 == 1 { "error" } else { "info" };
            (
                t0() + i * S,
                format!("level={level} latency={i}ms msg=\"req {i}\""),
            )
        })
        .collect();
    let b = (1..=6)
        .map(|i| (t0() + 5 * i * S, format!("b line {i}")))
        .collect();
    let c = vec![(t0() + S, "not json".to_string())];
    store
        .push(vec![stream("a", a), stream("b", b), stream("c", c)])
        .expect("push");
    store
}

fn metric(q: &str) -> MetricExpr {
    match parse(q).expect(q) {
        Expr::Metric(m) => m,
        other => panic!("{q}: {other:?}"),
    }
}

/// The query at one instant, as sorted `(labels, value)`.
fn instant(store: &LogStore, q: &str, at_s: i64) -> Vec<(String, f64)> {
    let t = t0() + at_s * S;
    let steps = Steps {
        start: t,
        end: t,
        step: S,
    };
    match metric::evaluate(store, &metric(q), steps, &Default::default()).expect(q) {
        Value::Vector(v) => {
            let mut out: Vec<_> = v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        Value::Scalar { v, .. } => vec![(String::new(), v)],
        other => panic!("{q}: {other:?}"),
    }
}

fn one(store: &LogStore, q: &str, at_s: i64) -> f64 {
    let got = instant(store, q, at_s);
    assert_eq!(got.len(), 1, "{q}: {got:?}");
    got[0].1
}

#[test]
fn range_aggregations_of_lines() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    // (10, 20]: a logs 11..=20 (10 lines, 5 odd), b logs 15 and 20.
    assert_eq!(one(&s, r#"count_over_time({app="a"}[10s])"#, 20), 10.0);
    assert_eq!(one(&s, r#"rate({app="a"} |= "error" [10s])"#, 20), 0.5);
    let bytes: usize = (11..=20)
        .map(|i| {
            let level = if i % 2 == 1 { "error" } else { "info" };
            format!("level={level} latency={i}ms msg=\"req {i}\"").len()
        })
        .sum();
    assert_eq!(
        one(&s, r#"bytes_over_time({app="a"}[10s])"#, 20),
        bytes as f64
    );
    // "b line 3" and "b line 4": 16 bytes over 10 s.
    assert_eq!(one(&s, r#"bytes_rate({app="b"}[10s])"#, 20), 1.6);
    // offset 10s: (0, 10].
    assert_eq!(
        one(&s, r#"count_over_time({app="a"}[10s] offset 10s)"#, 20),
        10.0
    );
    assert_eq!(
        one(&s, r#"count_over_time({app="b"}[10s] offset 10s)"#, 20),
        2.0
    );
}

#[test]
fn grouping_by_extracted_labels() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let got = instant(
        &s,
        r#"sum by (level) (count_over_time({app="a"} | logfmt [10s]))"#,
        20,
    );
    assert_eq!(
        got,
        [
            ("{level=\"error\"}".into(), 5.0),
            ("{level=\"info\"}".into(), 5.0)
        ]
    );
    // Odd seconds are errors: the latest in (10, 20] is 19 ms, the latest info 20 ms.
    let q = r#"max_over_time({app="a"} | logfmt | unwrap duration(latency) [10s]) by (level)"#;
    assert_eq!(
        instant(&s, q, 20),
        [
            ("{level=\"error\"}".into(), 0.019),
            ("{level=\"info\"}".into(), 0.020)
        ]
    );
    // Loki allows no grouping on count_over_time: the parser refuses it.
    assert!(parse(r#"count_over_time({app="a"}[10s]) by (app)"#).is_err());
}

#[test]
fn unwrapped_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let q =
        |f: &str| format!(r#"{f}({{app="a"}} | logfmt | unwrap duration(latency) [10s]) by (app)"#);
    // latency 11..=20 ms.
    assert!((one(&s, &q("avg_over_time"), 20) - 0.0155).abs() < 1e-12);
    let sum = r#"sum_over_time({app="a"} | logfmt | unwrap duration(latency) [10s])"#;
    let got = instant(&s, sum, 20);
    let labels: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
    // Without grouping, each line's extracted labels (msg, level) make its own series.
    assert_eq!(got.len(), 10, "{labels:?}");
    assert!((got.iter().map(|g| g.1).sum::<f64>() - 0.155).abs() < 1e-12);
    assert_eq!(one(&s, &q("max_over_time"), 20), 0.020);
    assert_eq!(one(&s, &q("min_over_time"), 20), 0.011);
    assert_eq!(one(&s, &q("first_over_time"), 20), 0.011);
    assert_eq!(one(&s, &q("last_over_time"), 20), 0.020);
    let q50 =
        r#"quantile_over_time(0.5, {app="a"} | logfmt | unwrap duration(latency) [10s]) by (app)"#;
    assert!((one(&s, q50, 20) - 0.0155).abs() < 1e-12);
}

#[test]
fn absent_vector_literals_and_binary_operators() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    assert_eq!(
        instant(&s, r#"absent_over_time({app="none", env=~"p.*"}[10s])"#, 20),
        [("{app=\"none\"}".into(), 1.0)]
    );
    assert!(instant(&s, r#"absent_over_time({app="a"}[10s])"#, 20).is_empty());
    assert_eq!(one(&s, "vector(1)+vector(1)", 20), 2.0);
    let share = r#"sum(count_over_time({app="b"}[10s])) / sum(count_over_time({app=~"a|b"}[10s]))"#;
    assert_eq!(one(&s, share, 20), 2.0 / 12.0);
    let filtered = r#"sum by (app) (count_over_time({env="prod"}[10s])) > 5"#;
    assert_eq!(instant(&s, filtered, 20), [("{app=\"a\"}".into(), 10.0)]);
}

#[test]
fn a_parse_error_in_a_series_fails_the_query_as_loki_does() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let q = metric(r#"count_over_time({app="c"} | json [10s])"#);
    let steps = Steps {
        start: t0() + 5 * S,
        end: t0() + 5 * S,
        step: S,
    };
    let err = metric::evaluate(&s, &q, steps, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("pipeline error: 'JSONParserErr'"),
        "{err}"
    );
    let skipped = r#"count_over_time({app="c"} | json | __error__="" [10s])"#;
    assert!(instant(&s, skipped, 5).is_empty());
}

#[test]
fn a_range_query_has_a_point_per_step_with_lines_and_none_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let q = metric(r#"count_over_time({app="b"}[5s])"#);
    let steps = Steps {
        start: t0(),
        end: t0() + 40 * S,
        step: 5 * S,
    };
    let Value::Matrix(m) = metric::evaluate(&s, &q, steps, &Default::default()).unwrap() else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].labels.to_string(), "{app=\"b\", env=\"prod\"}");
    let points: Vec<(i64, f64)> = m[0]
        .samples
        .iter()
        .map(|p| ((p.t * 1_000_000 - t0()) / S, p.v))
        .collect();
    // b logs at 5, 10, ..., 30: windows (t-5, t] hold one line each at t = 5..=30.
    let want: Vec<(i64, f64)> = (1..=6).map(|i| (5 * i, 1.0)).collect();
    assert_eq!(points, want);
}

/// A store of small blocks: `web` logs requests, `pay` logs payments, one in ten
/// declined; 600 lines each over 60 s.
fn blocks_store(dir: &std::path::Path) -> LogStore {
    let opts = LogStoreOptions {
        block_bytes: 2 << 10,
        ..Default::default()
    };
    let store = LogStore::open(dir, opts).expect("open");
    let lines = |f: &dyn Fn(i64) -> String| -> Vec<LogEntry> {
        (0..600)
            .map(|i| LogEntry {
                ts: t0() + i * S / 10,
                line: f(i),
                metadata: Vec::new(),
            })
            .collect()
    };
    let web = lines(&|i| format!("GET /api/v1/orders/{i} 200 {}ms", i % 50));
    let pay = lines(&|i| match i % 10 {
        0 => format!("payment declined for order {i}"),
        _ => format!("payment authorized for order {i}"),
    });
    let stream = |app: &str, entries| PushStream {
        labels: Labels::from_pairs(&[("app", app), ("env", "prod")]),
        entries,
    };
    store
        .push(vec![stream("web", web), stream("pay", pay)])
        .expect("push");
    store
}

#[test]
fn a_regex_line_filter_hands_its_literals_to_the_store_which_skips_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let s = blocks_store(dir.path());
    let skipped = |s: &LogStore| {
        s.metrics()
            .into_iter()
            .find(|r| r.0 == "nodepulse_logstore_scan_blocks_skipped_total")
            .expect("counter")
            .3
    };
    let q = r#"sum(count_over_time({env="prod"} |~ "payment (declined|refused) for" [2m]))"#;
    assert_eq!(one(&s, q, 100), 60.0);
    let after_regex = skipped(&s);
    assert!(after_regex > 0, "the web blocks lack \"payment \"");
    // Without a literal (case-insensitive), nothing is skipped and the answer holds.
    let q = r#"sum(count_over_time({env="prod"} |~ "(?i)PAYMENT DECLINED" [2m]))"#;
    assert_eq!(one(&s, q, 100), 60.0);
    assert_eq!(skipped(&s), after_regex);
}
