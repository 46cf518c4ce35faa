//! Rows for vector aggregations (`sum`, `avg`, `min`, `max`, `count` with `by` and
//! `without`, `topk`), binary operators (arithmetic, comparisons with and without
//! `bool`, `or`, scalars), `vector()` (Grafana's `vector(1)+vector(1)`), instant
//! queries, and a parse error.

use crate::data::{Labels, HOUR, T0};
use crate::expect::Expected;
use crate::parsers::{json, logfmt, Line};
use crate::reference::{is, line_bytes, ones, over_time, unwrap_ok, Data, Over, Series, Steps};
use crate::row::{app, at, float, grep, instant, range, range_at, refused, At, Row, MIN, STEPS};
use crate::vectors::{aggregate, map, topk, zip, Agg};

const M5: i64 = 5 * MIN;
const M10: i64 = 10 * MIN;

/// A series with no labels and this value at every step of `steps`.
fn constant(v: f64, steps: Steps) -> Series {
    Series::from([(
        Labels::new(),
        steps.times().into_iter().map(|t| (t, v)).collect(),
    )])
}

pub fn rows(d: &Data) -> Vec<Row> {
    let ns = |v: &'static str| move |l: &Labels| is(l, "namespace", v);
    let all = |_: &Labels| true;
    let count = |lines: &[Line], range: i64, steps: Steps| {
        over_time(&ones(lines), Over::Count, range, steps)
    };
    let agg = |s: &Series, op: Agg, names: &[&str]| aggregate(s, op, names, false);
    let agg_without = |s: &Series, op: Agg, names: &[&str]| aggregate(s, op, names, true);
    let api5 = count(&d.select(app("api")), M5, STEPS);
    let shop_rate = over_time(&ones(&d.select(ns("shop"))), Over::Rate, M5, STEPS);
    let all10 = count(&d.select(all), M10, STEPS);
    let all5 = count(&d.select(all), M5, STEPS);
    let mid = T0 + 30 * MIN;
    vec![
        Row {
            query: "vector(1)+vector(1)".into(),
            at: At::Instant(mid),
            expect: Expected::Vector(vec![(Labels::new(), 2.0)]),
        },
        range("vector(1)+vector(1)", constant(2.0, STEPS)),
        Row {
            query: "1 + 1".into(),
            at: At::Instant(mid),
            expect: Expected::Scalar(2.0),
        },
        range(
            r#"sum(count_over_time({app="api"}[5m]))"#,
            agg(&api5, Agg::Sum, &[]),
        ),
        range(
            r#"sum without (pod) (count_over_time({app="api"}[5m]))"#,
            agg_without(&api5, Agg::Sum, &["pod"]),
        ),
        range(
            r#"avg by (app) (rate({namespace="shop"}[5m]))"#,
            agg(&shop_rate, Agg::Avg, &["app"]),
        ),
        range(
            r#"min by (namespace) (count_over_time({namespace=~".+"}[10m]))"#,
            agg(&all10, Agg::Min, &["namespace"]),
        ),
        range(
            r#"max(count_over_time({namespace=~".+"}[10m]))"#,
            agg(&all10, Agg::Max, &[]),
        ),
        range(
            r#"max without (pod, container) (count_over_time({namespace=~".+"}[10m]))"#,
            agg_without(&all10, Agg::Max, &["pod", "container"]),
        ),
        range(
            r#"count by (namespace) (count_over_time({namespace=~".+"}[5m]))"#,
            agg(&all5, Agg::Count, &["namespace"]),
        ),
        range(
            r#"count(count_over_time({namespace=~".+"}[5m]))"#,
            agg(&all5, Agg::Count, &[]),
        ),
        range(
            r#"topk(1, sum by (pod) (bytes_over_time({namespace="ingress"}[10m])))"#,
            topk(
                &agg(
                    &over_time(&line_bytes(&d.select(ns("ingress"))), Over::Sum, M10, STEPS),
                    Agg::Sum,
                    &["pod"],
                ),
                1,
            ),
        ),
        range(
            r#"sum by (app) (rate({namespace="shop"}[5m])) * 60"#,
            map(&agg(&shop_rate, Agg::Sum, &["app"]), |v| Some(v * 60.0)),
        ),
        range(
            r#"2 * sum(count_over_time({app="api"}[5m]))"#,
            map(&agg(&api5, Agg::Sum, &[]), |v| Some(2.0 * v)),
        ),
        range(
            r#"count_over_time({app="api"}[5m]) > 3"#,
            map(&api5, |v| (v > 3.0).then_some(v)),
        ),
        range(
            r#"count_over_time({app="api"}[5m]) > bool 3"#,
            map(&api5, |v| Some(if v > 3.0 { 1.0 } else { 0.0 })),
        ),
        range(
            r#"sum(count_over_time({app="api"}[5m])) / sum(count_over_time({namespace="shop"}[5m]))"#,
            zip(
                &agg(&api5, Agg::Sum, &[]),
                &agg(&count(&d.select(ns("shop")), M5, STEPS), Agg::Sum, &[]),
                |a, b| Some(a / b),
            ),
        ),
        range(
            r#"sum by (pod) (count_over_time({app="api"} |= "status=5" [10m])) / sum by (pod) (count_over_time({app="api"}[10m]))"#,
            zip(
                &agg(
                    &count(&grep(d.select(app("api")), "status=5"), M10, STEPS),
                    Agg::Sum,
                    &["pod"],
                ),
                &agg(
                    &count(&d.select(app("api")), M10, STEPS),
                    Agg::Sum,
                    &["pod"],
                ),
                |a, b| Some(a / b),
            ),
        ),
        range(
            r#"sum(count_over_time({app="nginx"}[10m])) - sum(count_over_time({app="nginx"} |= "GET" [10m]))"#,
            zip(
                &agg(&count(&d.select(app("nginx")), M10, STEPS), Agg::Sum, &[]),
                &agg(
                    &count(&grep(d.select(app("nginx")), "GET"), M10, STEPS),
                    Agg::Sum,
                    &[],
                ),
                |a, b| Some(a - b),
            ),
        ),
        range(
            r#"sum(bytes_over_time({app="api"}[10m])) + vector(0)"#,
            agg(
                &over_time(&line_bytes(&d.select(app("api"))), Over::Sum, M10, STEPS),
                Agg::Sum,
                &[],
            ),
        ),
        range(
            r#"sum(count_over_time({app="batch"} |= "OOMKilled" [5m])) or vector(0)"#,
            or_zero(&agg(
                &count(&grep(d.select(app("batch")), "OOMKilled"), M5, STEPS),
                Agg::Sum,
                &[],
            )),
        ),
        range(
            r#"sum by (level) (count_over_time({app="checkout"} | json | __error__="" [10m])) > 2"#,
            map(
                &agg(
                    &count(
                        &d.select(app("checkout"))
                            .into_iter()
                            .map(json)
                            .filter(|l| !l.has_error())
                            .collect::<Vec<_>>(),
                        M10,
                        STEPS,
                    ),
                    Agg::Sum,
                    &["level"],
                ),
                |v| (v > 2.0).then_some(v),
            ),
        ),
        range(
            r#"max by (namespace) (count_over_time({namespace=~".+"}[5m])) < bool 5"#,
            map(&agg(&all5, Agg::Max, &["namespace"]), |v| {
                Some(if v < 5.0 { 1.0 } else { 0.0 })
            }),
        ),
        // (t − 1h, t]: a line exactly at T0 is outside the window ending at T0+1h.
        instant(
            r#"sum by (app) (count_over_time({namespace=~".+"}[1h]))"#,
            T0 + HOUR,
            agg(
                &count(&d.select(all), HOUR, at(T0 + HOUR)),
                Agg::Sum,
                &["app"],
            ),
        ),
        instant(
            r#"topk(2, sum by (pod) (bytes_over_time({namespace="shop"}[30m])))"#,
            T0 + 45 * MIN,
            topk(
                &agg(
                    &over_time(
                        &line_bytes(&d.select(ns("shop"))),
                        Over::Sum,
                        30 * MIN,
                        at(T0 + 45 * MIN),
                    ),
                    Agg::Sum,
                    &["pod"],
                ),
                2,
            ),
        ),
        instant(
            r#"avg(rate({app="nginx"}[10m]))"#,
            mid,
            agg(
                &over_time(&ones(&d.select(app("nginx"))), Over::Rate, M10, at(mid)),
                Agg::Avg,
                &[],
            ),
        ),
        instant(
            r#"count_over_time({app="nothing"}[5m])"#,
            mid,
            Series::new(),
        ),
        instant(
            r#"sum(count_over_time({app="api"} |= "POST" [15m])) by (pod)"#,
            mid,
            agg(
                &count(&grep(d.select(app("api")), "POST"), 15 * MIN, at(mid)),
                Agg::Sum,
                &["pod"],
            ),
        ),
        // (T0, T0+1h] holds ticks 1..=12: 78, not 66 (ticks 0..=11).
        instant(
            r#"sum_over_time({app="cron"} | logfmt | unwrap n [1h])"#,
            T0 + HOUR,
            over_time(
                &unwrap_ok(
                    &d.select(app("cron"))
                        .into_iter()
                        .map(logfmt)
                        .collect::<Vec<_>>(),
                    "n",
                    float,
                ),
                Over::Sum,
                HOUR,
                at(T0 + HOUR),
            ),
        ),
        refused(r#"{app="api""#, 400, "parse error"),
        refused(r#"sum(count_over_time({app="api"}))"#, 400, "parse error"),
        range_matrix_check(d),
    ]
}

/// `x or vector(0)`: x where it has a value, else 0 (both without labels).
fn or_zero(x: &Series) -> Series {
    let have = x.get(&Labels::new()).cloned().unwrap_or_default();
    let points = STEPS
        .times()
        .into_iter()
        .map(|t| (t, have.get(&t).copied().unwrap_or(0.0)))
        .collect();
    Series::from([(Labels::new(), points)])
}

/// A range whose step does not divide it: the last step falls before the end.
fn range_matrix_check(d: &Data) -> Row {
    let steps = Steps {
        start: T0 + 7 * MIN,
        end: T0 + 58 * MIN,
        step: 7 * MIN,
    };
    let s = over_time(
        &ones(&d.select(app("coredns"))),
        Over::Count,
        7 * MIN,
        steps,
    );
    range_at(r#"count_over_time({app="coredns"}[7m])"#, steps, s)
}
