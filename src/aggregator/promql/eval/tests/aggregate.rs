//! Aggregations with by/without, against hand-computed values.

use super::*;

fn http() -> MemStore {
    store(&[
        (
            &[("__name__", "http"), ("job", "a"), ("inst", "1")],
            &[(0, 1.0)],
        ),
        (
            &[("__name__", "http"), ("job", "a"), ("inst", "2")],
            &[(0, 3.0)],
        ),
        (
            &[("__name__", "http"), ("job", "b"), ("inst", "1")],
            &[(0, 10.0)],
        ),
    ])
}

fn pairs(v: &[(&str, f64)]) -> Vec<(String, f64)> {
    v.iter().map(|(l, x)| (l.to_string(), *x)).collect()
}

#[test]
fn grouping_aggregations() {
    let s = http();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q("sum by (job) (http)"),
        pairs(&[(r#"{job="a"}"#, 4.0), (r#"{job="b"}"#, 10.0)])
    );
    assert_eq!(
        q("avg without (inst) (http)"),
        pairs(&[(r#"{job="a"}"#, 2.0), (r#"{job="b"}"#, 10.0)])
    );
    assert_eq!(q("sum(http)"), pairs(&[("{}", 14.0)]));
    assert_eq!(
        q("count by (inst) (http)"),
        pairs(&[(r#"{inst="1"}"#, 2.0), (r#"{inst="2"}"#, 1.0)])
    );
    assert_eq!(
        q("min by (job) (http)"),
        pairs(&[(r#"{job="a"}"#, 1.0), (r#"{job="b"}"#, 10.0)])
    );
    assert_eq!(
        q("max by (job) (http)"),
        pairs(&[(r#"{job="a"}"#, 3.0), (r#"{job="b"}"#, 10.0)])
    );
    assert_eq!(
        q("group by (job) (http)"),
        pairs(&[(r#"{job="a"}"#, 1.0), (r#"{job="b"}"#, 1.0)])
    );
    assert_eq!(
        q("stddev by (job) (http)"),
        pairs(&[(r#"{job="a"}"#, 1.0), (r#"{job="b"}"#, 0.0)])
    );
    assert!((q("stdvar(http)")[0].1 - 134.0 / 9.0).abs() < 1e-12);
    assert_eq!(
        q("sum by (__name__) (http)"),
        pairs(&[(r#"{__name__="http"}"#, 14.0)])
    );
}

#[test]
fn parameterised_aggregations() {
    let s = http();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q("topk(1, http)"),
        pairs(&[(r#"{__name__="http", inst="1", job="b"}"#, 10.0)])
    );
    assert_eq!(q("bottomk(1, http) by (job)").len(), 2);
    assert_eq!(
        q("bottomk(2, http)")
            .iter()
            .map(|e| e.1)
            .collect::<Vec<_>>(),
        vec![1.0, 3.0]
    );
    assert!(q("topk(0, http)").is_empty());
    assert_eq!(q("quantile(0.5, http)"), pairs(&[("{}", 3.0)]));
    assert_eq!(q("quantile by (job) (0.5, http)")[0].1, 2.0);
    assert_eq!(
        q(r#"count_values("v", http)"#),
        pairs(&[
            (r#"{v="1"}"#, 1.0),
            (r#"{v="10"}"#, 1.0),
            (r#"{v="3"}"#, 1.0)
        ])
    );
    assert_eq!(q(r#"count_values by (inst) ("v", http)"#).len(), 3);
}
