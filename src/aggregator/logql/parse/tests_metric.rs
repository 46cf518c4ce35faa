//! Parser tests for metric queries: range and vector aggregations, unwrap, ranges and
//! offsets, binary operators and their precedence, literals, and Loki's errors.

use super::parse;
use crate::aggregator::logql::ast::*;

fn metric(q: &str) -> MetricExpr {
    match parse(q) {
        Ok(Expr::Metric(m)) => m,
        other => panic!("{q}: {other:?}"),
    }
}

fn range(q: &str) -> RangeAgg {
    match metric(q) {
        MetricExpr::Range(r) => *r,
        other => panic!("{q}: {other:?}"),
    }
}

fn err(q: &str) -> String {
    match parse(q) {
        Err(e) => e.to_string(),
        Ok(e) => panic!("{q} parsed: {e:?}"),
    }
}

const MIN: i64 = 60_000_000_000;

#[test]
fn every_range_operation() {
    for (name, op) in [
        ("count_over_time", RangeOp::CountOverTime),
        ("rate", RangeOp::Rate),
        ("bytes_over_time", RangeOp::BytesOverTime),
        ("bytes_rate", RangeOp::BytesRate),
        ("absent_over_time", RangeOp::AbsentOverTime),
    ] {
        let r = range(&format!(r#"{name}({{app="a"}} |= "x" [5m])"#));
        assert_eq!(
            (r.op, r.range, r.offset, r.unwrap.is_none()),
            (op, 5 * MIN, 0, true),
            "{name}"
        );
    }
    for name in [
        "sum", "avg", "max", "min", "first", "last", "stdvar", "stddev",
    ] {
        let r = range(&format!(
            r#"{name}_over_time({{app="a"}} | logfmt | unwrap latency [1m])"#
        ));
        assert_eq!(
            r.unwrap.as_ref().map(|u| u.label.as_str()),
            Some("latency"),
            "{name}"
        );
    }
    let r = range(
        r#"quantile_over_time(0.99, {app="a"} | json | unwrap duration(took) [5m]) by (path)"#,
    );
    assert_eq!(r.param, Some(0.99));
    assert_eq!(r.unwrap.map(|u| u.conv), Some(UnwrapConv::Duration));
    assert_eq!(
        r.grouping,
        Some(Grouping {
            without: false,
            labels: vec!["path".into()]
        })
    );
    let r = range(r#"rate({app="a"} | unwrap bytes(size) | __error__="" [1m])"#);
    let u = r.unwrap.unwrap();
    assert_eq!(
        (u.label.as_str(), u.conv, u.post_filters.len()),
        ("size", UnwrapConv::Bytes, 1)
    );
}

#[test]
fn range_placement_offset_and_parentheses() {
    let a = range(r#"count_over_time({app="a"}[5m] |= "x")"#);
    let b = range(r#"count_over_time({app="a"} |= "x" [5m])"#);
    let c = range(r#"count_over_time(({app="a"} |= "x")[5m])"#);
    assert_eq!(a, b);
    assert_eq!(b, c);
    let o = range(r#"rate({app="a"}[1h30m] offset 1d)"#);
    assert_eq!((o.range, o.offset), (90 * MIN, 24 * 60 * MIN));
    let u = range(r#"sum_over_time({app="a"} | unwrap duration [5m])"#);
    assert_eq!(
        u.unwrap.map(|u| (u.label, u.conv)),
        Some(("duration".into(), UnwrapConv::Number))
    );
}

#[test]
fn range_aggregation_rules_as_loki() {
    assert!(err(r#"sum_over_time({app="a"}[5m])"#)
        .contains("invalid aggregation sum_over_time without unwrap"));
    assert!(err(r#"count_over_time({app="a"} | unwrap x [5m])"#)
        .contains("invalid aggregation count_over_time with unwrap"));
    assert!(err(r#"sum_over_time({app="a"} | unwrap x [5m]) by (a)"#)
        .contains("grouping not allowed for sum_over_time"));
    assert!(err(r#"count_over_time({app="a"})"#).contains("expecting a range"));
    assert!(err(r#"count_over_time({app="a"}[5x])"#).contains("expecting DURATION"));
    assert!(err(r#"quantile_over_time({app="a"} | unwrap x [5m])"#).contains("expecting NUMBER"));
}

#[test]
fn vector_aggregations_grouping_before_or_after() {
    let q = |s: &str| match metric(s) {
        MetricExpr::Vector(v) => *v,
        other => panic!("{other:?}"),
    };
    let a = q(r#"sum by (app) (rate({app="a"}[1m]))"#);
    let b = q(r#"sum(rate({app="a"}[1m])) by (app)"#);
    assert_eq!(a, b);
    assert_eq!(
        a.grouping,
        Some(Grouping {
            without: false,
            labels: vec!["app".into()]
        })
    );
    let t = q(r#"topk(3, sum without (pod) (count_over_time({app="a"}[1m])))"#);
    assert_eq!((t.op, t.param), (VectorOp::Topk, Some(3.0)));
    let MetricExpr::Vector(inner) = t.inner else {
        panic!()
    };
    assert_eq!(
        inner.grouping,
        Some(Grouping {
            without: true,
            labels: vec!["pod".into()]
        })
    );
    for (name, op) in [
        ("avg", VectorOp::Avg),
        ("min", VectorOp::Min),
        ("max", VectorOp::Max),
        ("count", VectorOp::Count),
        ("stddev", VectorOp::Stddev),
        ("stdvar", VectorOp::Stdvar),
        ("sort", VectorOp::Sort),
        ("sort_desc", VectorOp::SortDesc),
    ] {
        assert_eq!(q(&format!(r#"{name}(rate({{app="a"}}[1m]))"#)).op, op);
    }
    assert_eq!(q(r#"bottomk(2, rate({app="a"}[1m]))"#).param, Some(2.0));
    assert!(err(r#"topk(0.5, rate({app="a"}[1m]))"#).contains("positive integer"));
    assert!(err(r#"topk(rate({app="a"}[1m]))"#).contains("expecting NUMBER"));
    assert!(err(r#"sort by (a) (rate({app="a"}[1m]))"#).contains("doesn't allow grouping"));
    assert_eq!(
        q(r#"sum by () (rate({app="a"}[1m]))"#).grouping,
        Some(Grouping {
            without: false,
            labels: vec![]
        })
    );
}

#[test]
fn grafana_health_check_and_literals() {
    let MetricExpr::Binary(b) = metric("vector(1)+vector(1)") else {
        panic!()
    };
    assert_eq!(
        (b.op, &b.lhs, &b.rhs),
        (
            BinOp::Add,
            &MetricExpr::VectorLit(1.0),
            &MetricExpr::VectorLit(1.0)
        )
    );
    assert_eq!(metric("-2.5"), MetricExpr::Number(-2.5));
    assert_eq!(metric("(3)"), MetricExpr::Number(3.0));
    assert_eq!(metric("1e3"), MetricExpr::Number(1000.0));
}

#[test]
fn precedence_and_associativity() {
    // 1 + 2 * 3 ^ 2 ^ 2  ==  1 + (2 * (3 ^ (2 ^ 2)))
    let MetricExpr::Binary(add) = metric("1 + 2 * 3 ^ 2 ^ 2") else {
        panic!()
    };
    assert_eq!(add.op, BinOp::Add);
    let MetricExpr::Binary(mul) = &add.rhs else {
        panic!()
    };
    assert_eq!(mul.op, BinOp::Mul);
    let MetricExpr::Binary(pow) = &mul.rhs else {
        panic!()
    };
    assert_eq!((pow.op, &pow.lhs), (BinOp::Pow, &MetricExpr::Number(3.0)));
    assert!(matches!(&pow.rhs, MetricExpr::Binary(p) if p.op == BinOp::Pow));
    // 1 - 2 - 3 == (1 - 2) - 3
    let MetricExpr::Binary(sub) = metric("1 - 2 - 3") else {
        panic!()
    };
    assert!(matches!(&sub.lhs, MetricExpr::Binary(p) if p.op == BinOp::Sub));
    // a or b and c == a or (b and c); comparisons below arithmetic.
    let MetricExpr::Binary(or) = metric("vector(1) or vector(2) and vector(3)") else {
        panic!()
    };
    assert_eq!(or.op, BinOp::Or);
    assert!(matches!(&or.rhs, MetricExpr::Binary(p) if p.op == BinOp::And));
    let MetricExpr::Binary(gt) = metric("vector(1) + 1 > bool 2") else {
        panic!()
    };
    assert_eq!((gt.op, gt.return_bool), (BinOp::Gt, true));
}

#[test]
fn vector_matching_modifiers() {
    let q = r#"sum by (a, b) (rate({app="x"}[1m])) / on (a) group_left (b) sum by (a) (rate({app="y"}[1m]))"#;
    let MetricExpr::Binary(b) = metric(q) else {
        panic!()
    };
    assert_eq!(
        b.matching,
        Some(VectorMatching {
            on: true,
            labels: vec!["a".into()],
            group: Some(GroupSide::Left(vec!["b".into()]))
        })
    );
    let q = r#"rate({app="x"}[1m]) unless ignoring (pod) rate({app="y"}[1m])"#;
    let MetricExpr::Binary(b) = metric(q) else {
        panic!()
    };
    assert_eq!(
        (b.op, b.matching.map(|m| m.on)),
        (BinOp::Unless, Some(false))
    );
    let q = r#"rate({app="x"}[1m]) * on () group_right rate({app="y"}[1m])"#;
    let MetricExpr::Binary(b) = metric(q) else {
        panic!()
    };
    assert_eq!(
        b.matching.and_then(|m| m.group),
        Some(GroupSide::Right(vec![]))
    );
    assert!(
        err("vector(1) + bool vector(2)").contains("bool modifier can only be used on comparison")
    );
}

#[test]
fn label_replace_call() {
    let MetricExpr::LabelReplace(l) =
        metric(r#"label_replace(rate({app="a"}[1m]), "dst", "$1", "app", "(.*)")"#)
    else {
        panic!()
    };
    assert_eq!(
        (
            l.dst.as_str(),
            l.replacement.as_str(),
            l.src.as_str(),
            l.regex.as_str()
        ),
        ("dst", "$1", "app", "(.*)")
    );
    assert!(err(r#"label_replace(vector(1), "d", "r", "s", "(")"#)
        .contains("invalid regular expression"));
}

#[test]
fn metric_errors() {
    assert!(err(r#"{app="a"} + 1"#).contains(r#"unexpected "+""#));
    assert!(err(r#"1 + {app="a"}"#).contains(r#"unexpected "{""#));
    assert!(err("foo(1)").contains("unexpected IDENTIFIER"));
    assert!(err("vector(1) +").contains("unexpected $end"));
    assert!(err(r#"rate({app="a"}[1m]"#).contains(r#"expecting ")""#));
}
