//! Binary operators: arithmetic, comparisons, bool, set operators, vector matching.

use super::*;
use crate::aggregator::promql::QueryError;

fn ab() -> MemStore {
    store(&[
        (&[("__name__", "a"), ("x", "1")], &[(0, 2.0)]),
        (&[("__name__", "a"), ("x", "2")], &[(0, 3.0)]),
        (&[("__name__", "b"), ("x", "1")], &[(0, 10.0)]),
        (&[("__name__", "b"), ("x", "2")], &[(0, 20.0)]),
        (&[("__name__", "m"), ("x", "1"), ("y", "p")], &[(0, 1.0)]),
        (&[("__name__", "m"), ("x", "1"), ("y", "q")], &[(0, 2.0)]),
        (
            &[("__name__", "info"), ("x", "1"), ("team", "t")],
            &[(0, 1.0)],
        ),
    ])
}

fn pairs(v: &[(&str, f64)]) -> Vec<(String, f64)> {
    v.iter().map(|(l, x)| (l.to_string(), *x)).collect()
}

#[test]
fn scalar_arithmetic() {
    let s = MemStore::new();
    assert_eq!(scalar(&s, "1 + 2 * 3", 0), 7.0);
    assert_eq!(scalar(&s, "2 ^ 3 ^ 2", 0), 512.0);
    assert_eq!(scalar(&s, "5 % 3", 0), 2.0);
    assert_eq!(scalar(&s, "-5 % 3", 0), -2.0);
    assert_eq!(scalar(&s, "1 == bool 1", 0), 1.0);
    assert_eq!(scalar(&s, "1 > bool 2", 0), 0.0);
    assert_eq!(scalar(&s, "-(2)", 0), -2.0);
}

#[test]
fn vector_scalar_operations() {
    let s = ab();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q("a * 2"),
        pairs(&[(r#"{x="1"}"#, 4.0), (r#"{x="2"}"#, 6.0)])
    );
    assert_eq!(q("a > 2"), pairs(&[(r#"{__name__="a", x="2"}"#, 3.0)]));
    assert_eq!(q("2 < a"), pairs(&[(r#"{__name__="a", x="2"}"#, 3.0)]));
    assert_eq!(
        q("a > bool 2"),
        pairs(&[(r#"{x="1"}"#, 0.0), (r#"{x="2"}"#, 1.0)])
    );
    assert_eq!(
        q("-a"),
        pairs(&[(r#"{x="1"}"#, -2.0), (r#"{x="2"}"#, -3.0)])
    );
}

#[test]
fn one_to_one_matching() {
    let s = ab();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q("a + b"),
        pairs(&[(r#"{x="1"}"#, 12.0), (r#"{x="2"}"#, 23.0)])
    );
    assert_eq!(
        q("b > a"),
        pairs(&[
            (r#"{__name__="b", x="1"}"#, 10.0),
            (r#"{__name__="b", x="2"}"#, 20.0)
        ])
    );
    assert_eq!(
        q("a == bool b"),
        pairs(&[(r#"{x="1"}"#, 0.0), (r#"{x="2"}"#, 0.0)])
    );
    assert_eq!(q("a + on(x) info"), pairs(&[(r#"{x="1"}"#, 3.0)]));
    assert_eq!(q("a + ignoring(team) info"), pairs(&[(r#"{x="1"}"#, 3.0)]));
}

#[test]
fn set_operators() {
    let s = ab();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q(r#"a and b{x="1"}"#),
        pairs(&[(r#"{__name__="a", x="1"}"#, 2.0)])
    );
    assert_eq!(
        q(r#"a unless b{x="1"}"#),
        pairs(&[(r#"{__name__="a", x="2"}"#, 3.0)])
    );
    assert_eq!(
        q(r#"a{x="1"} or b"#),
        pairs(&[
            (r#"{__name__="a", x="1"}"#, 2.0),
            (r#"{__name__="b", x="2"}"#, 20.0)
        ])
    );
    assert_eq!(q("m and on(x) info").len(), 2);
}

#[test]
fn group_left_and_right() {
    let s = ab();
    let q = |e: &str| vector(&s, e, 0);
    assert_eq!(
        q("m * on(x) group_left(team) info"),
        pairs(&[
            (r#"{team="t", x="1", y="p"}"#, 1.0),
            (r#"{team="t", x="1", y="q"}"#, 2.0)
        ])
    );
    assert_eq!(
        q("info + on(x) group_right m"),
        pairs(&[(r#"{x="1", y="p"}"#, 2.0), (r#"{x="1", y="q"}"#, 3.0)])
    );
}

#[test]
fn matching_errors() {
    let s = ab();
    let run = |e: &str| instant_query(&s, e, 0, &QueryOptions::default()).unwrap_err();
    let err = run("info * on(x) m");
    assert!(
        matches!(&err, QueryError::Execution(m) if m.contains("many-to-many")),
        "{err:?}"
    );
    let err = run("m + on(x) info");
    assert!(
        matches!(&err, QueryError::Execution(m) if m.contains("group_left")),
        "{err:?}"
    );
}

/// Vector matching compares a step's signatures by allocation while the label memo
/// interned them all in one generation, and by contents once the memo emptied itself
/// mid-step. A memo that empties itself every other derivation must give the same
/// answers as a roomy one.
#[test]
fn matching_survives_the_label_memo_emptying_itself() {
    use super::super::binary::{set_op, vector_vector, Match};
    use super::super::memo::LabelMemo;
    use super::super::Elem;
    let side = |name: &str| -> Vec<Elem> {
        (1..=4)
            .map(|x| Elem {
                labels: Labels::from_pairs(&[("__name__", name), ("x", &x.to_string())]),
                v: x as f64,
            })
            .collect()
    };
    let expr = |q: &str| match promql_parser::parser::parse(q).expect(q) {
        promql_parser::parser::Expr::Binary(b) => b,
        other => panic!("{q}: {other:?}"),
    };
    let run = |q: &str, cap: usize| {
        let b = expr(q);
        let m = b.modifier.clone().unwrap_or_default();
        let memo = LabelMemo::new(cap);
        let mm = Match {
            m: &m,
            memo: &memo,
            tag: 8,
        };
        let op = b.op.to_string();
        let got = match op.as_str() {
            "and" | "or" | "unless" => set_op(&op, side("a"), side("b"), &mm),
            _ => vector_vector(&op, side("a"), side("b"), &mm).expect(q),
        };
        let mut got: Vec<(String, f64)> = got
            .into_iter()
            .map(|e| (e.labels.to_string(), e.v))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        got
    };
    for q in [
        "a / b",
        "a > bool on(x) b",
        "a and on(x) b",
        "a unless b",
        "a or b",
    ] {
        let roomy = run(q, 1000);
        assert_eq!(run(q, 2), roomy, "{q}");
        assert!(!roomy.is_empty() || q.contains("unless"), "{q}");
    }
}
