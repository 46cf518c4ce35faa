//! Rows for range aggregations over lines: `count_over_time`, `rate`,
//! `bytes_over_time`, `bytes_rate`, `offset`, groupings Loki refuses, the steps' window
//! bounds, and a parser error that fails a metric query.

use crate::data::Labels;
use crate::parsers::{json, logfmt, Line};
use crate::reference::{
    is, line_bytes, ones, over_time, regroup, unwrap_ok, Data, Over, Series, Steps,
};
use crate::row::{app, float, grep, range, refused, Row, MIN, STEPS};
use crate::rows_parse::{NGINX_PAT, NGINX_RE};
use crate::stages::{keep, nginx_pattern, nginx_regexp, num};
use crate::vectors::{aggregate, Agg};

const M5: i64 = 5 * MIN;
const M10: i64 = 10 * MIN;

/// `op(... [range] offset off)`: the windows end `off` earlier; points keep the step's time.
fn with_offset(samples: &[(Labels, i64, f64)], op: Over, range: i64, off: i64) -> Series {
    let moved = Steps {
        start: STEPS.start - off,
        end: STEPS.end - off,
        step: STEPS.step,
    };
    over_time(samples, op, range, moved)
        .into_iter()
        .map(|(l, p)| (l, p.into_iter().map(|(t, v)| (t + off, v)).collect()))
        .collect()
}

pub fn rows(d: &Data) -> Vec<Row> {
    let api = || -> Vec<Line> { d.select(app("api")).into_iter().map(logfmt).collect() };
    let count = |lines: &[Line], range: i64| over_time(&ones(lines), Over::Count, range, STEPS);
    let sum_by = |s: Series, names: &[&str]| aggregate(&s, Agg::Sum, names, false);
    let cron = || -> Vec<Line> { d.select(app("cron")).into_iter().map(logfmt).collect() };
    vec![
        range(
            r#"count_over_time({app="api"}[5m])"#,
            count(&d.select(app("api")), M5),
        ),
        range(
            r#"count_over_time({app="api"} |= "status=5" [10m])"#,
            count(&grep(d.select(app("api")), "status=5"), M10),
        ),
        range(
            r#"rate({app="nginx"}[5m])"#,
            over_time(&ones(&d.select(app("nginx"))), Over::Rate, M5, STEPS),
        ),
        range(
            r#"rate({namespace="shop"} |= "error" [5m])"#,
            over_time(
                &ones(&grep(d.select(|l| is(l, "namespace", "shop")), "error")),
                Over::Rate,
                M5,
                STEPS,
            ),
        ),
        range(
            r#"bytes_over_time({app="coredns"}[10m])"#,
            over_time(
                &line_bytes(&d.select(app("coredns"))),
                Over::Sum,
                M10,
                STEPS,
            ),
        ),
        range(
            r#"bytes_rate({app="batch"}[10m])"#,
            over_time(&line_bytes(&d.select(app("batch"))), Over::Rate, M10, STEPS),
        ),
        range(
            r#"count_over_time({app="api"} | logfmt | status >= 500 [5m])"#,
            count(
                &api()
                    .into_iter()
                    .filter_map(|l| num(l, "status", |v| v >= 500.0))
                    .collect::<Vec<_>>(),
                M5,
            ),
        ),
        range(
            r#"count_over_time({app="api"} | logfmt | keep app, method [10m])"#,
            count(
                &api()
                    .into_iter()
                    .map(|l| keep(l, &["app", "method"]))
                    .collect::<Vec<_>>(),
                M10,
            ),
        ),
        range(
            r#"count_over_time({app="api"}[5m] offset 10m)"#,
            with_offset(&ones(&d.select(app("api"))), Over::Count, M5, M10),
        ),
        // Loki allows a range aggregation's own grouping only where it changes the
        // arithmetic (`RangeAggregationExpr.validate`, grafana/loki pkg/logql/syntax/ast.go).
        refused(
            r#"count_over_time({namespace="ingress"}[10m]) by (pod)"#,
            400,
            "grouping not allowed for count_over_time aggregation",
        ),
        refused(
            r#"sum_over_time({app="api"} | logfmt | unwrap bytes(size) [10m]) by (pod)"#,
            400,
            "grouping not allowed for sum_over_time aggregation",
        ),
        range(
            r#"sum without (pod, container) (rate({namespace="shop"}[5m]))"#,
            over_time(
                &regroup(
                    ones(&d.select(|l| is(l, "namespace", "shop"))),
                    &["pod", "container"],
                    true,
                ),
                Over::Rate,
                M5,
                STEPS,
            ),
        ),
        range(
            r#"sum by (status) (count_over_time({app="api"} | logfmt [10m]))"#,
            sum_by(count(&api(), M10), &["status"]),
        ),
        range(
            &format!(r#"sum by (path) (count_over_time({{app="nginx"}} {NGINX_PAT} [10m]))"#),
            sum_by(
                count(
                    &d.select(app("nginx"))
                        .into_iter()
                        .map(nginx_pattern)
                        .collect::<Vec<_>>(),
                    M10,
                ),
                &["path"],
            ),
        ),
        range(
            &format!(r#"sum by (status) (rate({{app="nginx"}} {NGINX_RE} [5m]))"#),
            sum_by(
                over_time(
                    &ones(
                        &d.select(app("nginx"))
                            .into_iter()
                            .map(nginx_regexp)
                            .collect::<Vec<_>>(),
                    ),
                    Over::Rate,
                    M5,
                    STEPS,
                ),
                &["status"],
            ),
        ),
        refused(
            r#"count_over_time({app="checkout"} | json [5m])"#,
            400,
            "JSONParserErr",
        ),
        range(
            r#"sum by (pod) (count_over_time({app="checkout"} | json | __error__="JSONParserErr" | drop __error__, __error_details__ [30m]))"#,
            sum_by(
                count(
                    &d.select(app("checkout"))
                        .into_iter()
                        .map(json)
                        .filter(Line::has_error)
                        .collect::<Vec<_>>(),
                    30 * MIN,
                ),
                &["pod"],
            ),
        ),
        range(r#"count_over_time({app="nothing"}[5m])"#, Series::new()),
        // `cron` lines sit exactly on the steps: each window (t − 5m, t] holds the line
        // at t (n = its index), not the one at t − 5m.
        range(
            r#"sum_over_time({app="cron"} | logfmt | unwrap n [5m])"#,
            over_time(&unwrap_ok(&cron(), "n", float), Over::Sum, M5, STEPS),
        ),
        range(
            r#"count_over_time({app="cron"}[10m])"#,
            count(&d.select(app("cron")), M10),
        ),
        range(
            r#"bytes_over_time({app="api"} |= "cache miss" [5m])"#,
            over_time(
                &line_bytes(&grep(d.select(app("api")), "cache miss")),
                Over::Sum,
                M5,
                STEPS,
            ),
        ),
        // bytes_* count the line as the pipeline left it.
        range(
            r#"sum(bytes_over_time({app="api"} | logfmt | line_format "{{.method}}" [10m]))"#,
            aggregate(
                &over_time(
                    &line_bytes(
                        &api()
                            .into_iter()
                            .map(|mut l| {
                                l.line = l.get("method").to_string();
                                l
                            })
                            .collect::<Vec<_>>(),
                    ),
                    Over::Sum,
                    M10,
                    STEPS,
                ),
                Agg::Sum,
                &[],
                false,
            ),
        ),
    ]
}
