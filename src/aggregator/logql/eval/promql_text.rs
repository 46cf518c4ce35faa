//! A metric query's operators above its range aggregations, written as PromQL: each
//! range aggregation becomes the selector of a series family named by [`leaf_name`]
//! (which [`super::metric`] fills with the aggregation's per-step values), and the
//! vector aggregations, binary operators, literals and `label_replace` keep their
//! LogQL meaning, which is PromQL's. Every operand is parenthesised, so precedence is
//! the tree's.

use crate::aggregator::logql::ast::{
    quote, BinaryExpr, GroupSide, Grouping, MetricExpr, VectorAgg, VectorOp,
};
use std::fmt::Write;

/// The metric name standing for the `i`-th range aggregation (in
/// [`MetricExpr::range_aggs`] order, left to right).
pub fn leaf_name(i: usize) -> String {
    format!("__logql_leaf_{i}")
}

/// `e` as PromQL, its leaves numbered as [`MetricExpr::range_aggs`] lists them.
pub fn render(e: &MetricExpr) -> String {
    let mut out = String::new();
    let mut next = 0;
    write_expr(e, &mut out, &mut next);
    out
}

fn write_expr(e: &MetricExpr, out: &mut String, next: &mut usize) {
    match e {
        MetricExpr::Range(_) => {
            out.push_str(&leaf_name(*next));
            *next += 1;
        }
        MetricExpr::Number(v) => out.push_str(&number(*v)),
        MetricExpr::VectorLit(v) => {
            let _ = write!(out, "vector({})", number(*v));
        }
        MetricExpr::Vector(v) => write_vector(v, out, next),
        MetricExpr::Binary(b) => write_binary(b, out, next),
        MetricExpr::LabelReplace(l) => {
            out.push_str("label_replace(");
            write_expr(&l.inner, out, next);
            for s in [&l.dst, &l.replacement, &l.src, &l.regex] {
                let _ = write!(out, ", {}", quote(s));
            }
            out.push(')');
        }
    }
}

fn write_vector(v: &VectorAgg, out: &mut String, next: &mut usize) {
    out.push_str(v.op.name());
    let function = matches!(v.op, VectorOp::Sort | VectorOp::SortDesc);
    if let (Some(g), false) = (&v.grouping, function) {
        write_grouping(g, out);
    }
    out.push('(');
    if let Some(k) = v.param {
        let _ = write!(out, "{}, ", number(k));
    }
    write_expr(&v.inner, out, next);
    out.push(')');
}

fn write_grouping(g: &Grouping, out: &mut String) {
    let _ = write!(
        out,
        " {} ({}) ",
        if g.without { "without" } else { "by" },
        g.labels.join(", ")
    );
}

fn write_binary(b: &BinaryExpr, out: &mut String, next: &mut usize) {
    out.push('(');
    write_expr(&b.lhs, out, next);
    let _ = write!(out, ") {}", b.op.symbol());
    if b.return_bool {
        out.push_str(" bool");
    }
    if let Some(m) = &b.matching {
        let kind = if m.on { "on" } else { "ignoring" };
        let _ = write!(out, " {kind} ({})", m.labels.join(", "));
        match &m.group {
            Some(GroupSide::Left(l)) => {
                let _ = write!(out, " group_left ({})", l.join(", "));
            }
            Some(GroupSide::Right(l)) => {
                let _ = write!(out, " group_right ({})", l.join(", "));
            }
            None => {}
        }
    }
    out.push_str(" (");
    write_expr(&b.rhs, out, next);
    out.push(')');
}

/// A number as PromQL reads it back exactly (`NaN`, `Inf`, `-Inf` included).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::logql::parse;

    fn promql(q: &str) -> String {
        match parse(q).expect(q) {
            crate::aggregator::logql::Expr::Metric(m) => render(&m),
            other => panic!("{q}: not a metric query: {other:?}"),
        }
    }

    #[test]
    fn operators_above_the_leaves_are_promql_that_parses() {
        let cases = [
            (r#"count_over_time({a="b"}[5m])"#, "__logql_leaf_0"),
            (
                r#"sum by (app) (rate({a="b"} |= "x" [1m]))"#,
                "sum by (app) (__logql_leaf_0)",
            ),
            (
                r#"topk(3, sum without (pod) (bytes_rate({a="b"}[1m])))"#,
                "topk(3.0, sum without (pod) (__logql_leaf_0))",
            ),
            (
                r#"sum(rate({a="b"}[1m])) / on (x) group_left (y) sum(rate({a="c"}[1m])) > bool 0.5"#,
                "((sum(__logql_leaf_0)) / on (x) group_left (y) (sum(__logql_leaf_1))) > bool (0.5)",
            ),
            ("vector(1)+vector(1)", "(vector(1.0)) + (vector(1.0))"),
            (
                r#"label_replace(rate({a="b"}[1m]), "dst", "$1-\"x\"", "a", "(.*)")"#,
                r#"label_replace(__logql_leaf_0, "dst", "$1-\"x\"", "a", "(.*)")"#,
            ),
            (r#"sort_desc(rate({a="b"}[1m]))"#, "sort_desc(__logql_leaf_0)"),
        ];
        for (q, want) in cases {
            let got = promql(q);
            assert_eq!(got, want, "{q}");
            promql_parser::parser::parse(&got).unwrap_or_else(|e| panic!("{got}: {e}"));
        }
    }

    #[test]
    fn leaves_are_numbered_left_to_right() {
        let q = r#"rate({a="1"}[1m]) + rate({a="2"}[2m]) * count_over_time({a="3"}[3m])"#;
        let crate::aggregator::logql::Expr::Metric(m) = parse(q).unwrap() else {
            panic!()
        };
        let ranges: Vec<i64> = m
            .range_aggs()
            .iter()
            .map(|r| r.range / 60_000_000_000)
            .collect();
        assert_eq!(ranges, [1, 2, 3]);
        assert!(render(&m).find("leaf_0").unwrap() < render(&m).find("leaf_2").unwrap());
    }

    #[test]
    fn odd_numbers_survive_the_round_trip() {
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            0.1,
            -2.5e10,
        ] {
            let text = number(v);
            let parsed = promql_parser::parser::parse(&text).expect(&text);
            let promql_parser::parser::Expr::NumberLiteral(n) = parsed else {
                panic!("{text}")
            };
            assert!(n.val == v || (n.val.is_nan() && v.is_nan()), "{text}");
        }
    }
}
