//! A range query (whose range functions and selectors are worked out for all steps at
//! once, `range_steps`) agrees at every step with an instant query at that time (which
//! takes the per-step path), over series with gaps, resets, stale markers and NaN.

use super::super::super::{instant_query, range_query, QueryOptions, Value};
use super::store;
use crate::aggregator::model::{stale_nan, MemStore};
use std::collections::BTreeMap;

fn data() -> MemStore {
    let a: Vec<(i64, f64)> = (0..120).map(|i| (i * 15, (i % 37) as f64 * 2.5)).collect();
    let mut b: Vec<(i64, f64)> = (0..60).map(|i| (i * 30 + 7, i as f64)).collect();
    b[20].1 = stale_nan();
    b[41].1 = f64::NAN;
    let c: Vec<(i64, f64)> = (0..40)
        .filter(|i| i % 5 != 0)
        .map(|i| (i * 45 + 3, 1e3 - i as f64))
        .collect();
    store(&[
        (&[("__name__", "m"), ("job", "x"), ("i", "a")], &a),
        (&[("__name__", "m"), ("job", "x"), ("i", "b")], &b),
        (&[("__name__", "m"), ("job", "y"), ("i", "c")], &c),
        (&[("__name__", "n"), ("job", "x"), ("i", "a")], &c),
    ])
}

/// `(labels, t) -> value` of a range query's matrix or of instant queries at its steps.
type Points = BTreeMap<(String, i64), u64>;

fn by_range(s: &MemStore, q: &str, start: i64, end: i64, step: i64) -> Points {
    let opts = QueryOptions::default();
    let Value::Matrix(m) = range_query(s, q, start, end, step, &opts).expect(q) else {
        panic!("{q}: not a matrix");
    };
    let points = m.into_iter().flat_map(|s| {
        let l = s.labels.to_string();
        s.samples
            .into_iter()
            .map(move |p| ((l.clone(), p.t), p.v.to_bits()))
    });
    points.collect()
}

fn by_instants(s: &MemStore, q: &str, start: i64, end: i64, step: i64) -> Points {
    let opts = QueryOptions::default();
    let mut out = Points::new();
    for t in (start..=end).step_by(step as usize) {
        match instant_query(s, q, t, &opts).expect(q) {
            Value::Vector(v) => out.extend(
                v.into_iter()
                    .map(|e| ((e.labels.to_string(), t), e.v.to_bits())),
            ),
            Value::Scalar { v, .. } => {
                out.insert(("{}".into(), t), v.to_bits());
            }
            other => panic!("{q}: {other:?}"),
        }
    }
    out
}

#[test]
fn range_query_agrees_with_instant_queries_at_every_step() {
    let s = data();
    let queries = [
        "m",
        "timestamp(m)",
        "m offset 2m",
        "m @ 600",
        "rate(m[1m])",
        "increase(m[5m] offset 1m)",
        "irate(m[2m] @ 900)",
        "deriv(m[3m])",
        "predict_linear(m[3m], 60)",
        "quantile_over_time(0.3, m[4m])",
        "last_over_time(m[1m])",
        "count_over_time(m[30s])",
        "changes(m[10m]) + resets(m[10m])",
        "sum by (job) (rate(m[2m]))",
        "avg without (i) (m)",
        "topk(1, max_over_time(m[5m]))",
        "m / on (i) n",
        "m > bool 20",
        "-m",
        "rate(m[1m]) > 0.1 or n",
    ];
    for (start, end, step) in [
        (0, 1_800_000, 15_000),
        (-60_000, 2_000_000, 37_000),
        (300_000, 300_000, 1_000),
    ] {
        for q in queries {
            let r = by_range(&s, q, start, end, step);
            assert!(!r.is_empty() || start == end, "{q}: no points");
            assert_eq!(
                r,
                by_instants(&s, q, start, end, step),
                "{q} over {start}..{end} by {step}"
            );
        }
    }
}

#[test]
fn duplicate_label_sets_after_a_range_function_still_fail() {
    let s = data();
    let opts = QueryOptions::default();
    // m{i="a"} and n{i="a"} lose their names: the same label set twice.
    let err = range_query(&s, r#"rate({i="a"}[5m])"#, 0, 1_800_000, 60_000, &opts);
    assert!(err.is_err(), "{err:?}");
}
