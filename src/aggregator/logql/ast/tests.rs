//! Printing the tree back: parse(print(parse(q))) == parse(q) for every construct.

use crate::aggregator::logql::parse;

const QUERIES: &[&str] = &[
    r#"{app="a", env!="dev", pod=~"p-.*", ns!~"k|s"}"#,
    r#"{app="a"} |= "x" != `y\d` |~ "(?i)e" !~ "a.c" |= "p" or "q""#,
    r#"{app="a"} |= "tab\t \"q\" é \x01""#,
    r#"{app="a"} | json | json first="s[0]", ua="h[\"U-A\"]", level"#,
    r#"{app="a"} | logfmt --strict --keep-empty | logfmt host, ip="fwd""#,
    r#"{app="a"} | regexp "(?P<m>\\w+)" | pattern "<ip> - <_>" | unpack | decolorize"#,
    r#"{app="a"} | a="1" or b="2" and c="3", d="4" | (a="1" or b="2") e="5""#,
    r#"{app="a"} | s >= 500 | l > 1m30s | z <= 20MB | c != 200 | x == -1.5 | y > 300ms"#,
    r#"{app="a"} | line_format "{{.a}} {{ .b | ToUpper }}" | label_format n=o, x="{{.y}}""#,
    r#"{app="a"} | drop a, b="v", __error__ | keep c, d=~"x.*""#,
    r#"count_over_time({app="a"} |= "x" [5m])"#,
    r#"rate({app="a"}[1h30m] offset 1d)"#,
    r#"bytes_rate({app="a"}[250ms])"#,
    r#"quantile_over_time(0.99, {app="a"} | json | unwrap duration(t) | __error__="" [5m]) by (path)"#,
    r#"sum_over_time({app="a"} | unwrap bytes(size) [1m])"#,
    r#"topk(3, sum without (pod) (count_over_time({app="a"}[1m])))"#,
    r#"sum(rate({app="a"}[1m])) by (app) / on (app) group_left (x) sum by (app) (rate({app="b"}[1m]))"#,
    "1 + 2 * 3 ^ 2 ^ 2 - -4",
    "(1 - 2) - 3",
    "vector(1) + vector(1)",
    r#"rate({app="a"}[1m]) > bool 2 unless ignoring (pod) group_right rate({app="b"}[1m])"#,
    r#"label_replace(rate({app="a"}[1m]), "dst", "$1", "app", "(.*)")"#,
    r#"sort_desc(avg(absent_over_time({app="a"}[1m])))"#,
];

#[test]
fn printing_round_trips() {
    for q in QUERIES {
        let first = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let printed = first.to_string();
        let second = parse(&printed).unwrap_or_else(|e| panic!("{q}\nprinted: {printed}\n{e}"));
        assert_eq!(first, second, "{q}\nprinted: {printed}");
    }
}

#[test]
fn printed_forms() {
    let p = |q: &str| parse(q).unwrap().to_string();
    assert_eq!(p(r#"{app="a"}|="x"|json"#), r#"{app="a"} |= "x" | json"#);
    assert_eq!(
        p(r#"count_over_time({app="a"}[90m])"#),
        r#"count_over_time({app="a"} [1h30m])"#
    );
    assert_eq!(p("vector(1)+vector(1)"), "vector(1) + vector(1)");
    assert_eq!(
        p(r#"sum(rate({a="b"}[1m]))by(x)"#),
        r#"sum by (x) (rate({a="b"} [1m]))"#
    );
}

#[test]
fn range_aggs_in_order() {
    use crate::aggregator::logql::ast::{Expr, RangeOp};
    let q = r#"sum(rate({a="1"}[1m])) / label_replace(count_over_time({a="2"}[5m]), "d", "", "s", "") + vector(1) * bytes_rate({a="3"}[1m])"#;
    let Ok(Expr::Metric(m)) = parse(q) else {
        panic!()
    };
    let ops: Vec<(RangeOp, String)> = m
        .range_aggs()
        .iter()
        .map(|r| (r.op, r.log.matchers[0].value.clone()))
        .collect();
    assert_eq!(
        ops,
        [
            (RangeOp::Rate, "1".to_string()),
            (RangeOp::CountOverTime, "2".to_string()),
            (RangeOp::BytesRate, "3".to_string())
        ]
    );
}
