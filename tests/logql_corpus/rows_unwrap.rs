//! Rows for the `*_over_time` of an unwrap (plain, `duration()`, `duration_seconds()`,
//! `bytes()`), `quantile_over_time`, the range aggregations' own `by`, and the
//! `SampleExtractionErr` Loki refuses a query with unless `__error__=""` drops it.

use crate::parsers::{bytes, go_duration, json, logfmt, Line};
use crate::reference::{over_time, rate_counter, regroup, unwrap_ok, Data, Over, Series};
use crate::row::{app, float, range, refused, Row, MIN, STEPS};
use crate::rows_parse::{DNS_PAT, NGINX_PAT};
use crate::stages::{dns_pattern, nginx_pattern};
use crate::vectors::{aggregate, Agg};

const M5: i64 = 5 * MIN;
const M10: i64 = 10 * MIN;

pub fn rows(d: &Data) -> Vec<Row> {
    let api = || -> Vec<Line> { d.select(app("api")).into_iter().map(logfmt).collect() };
    let sum_by = |s: Series, names: &[&str]| aggregate(&s, Agg::Sum, names, false);
    vec![
        // A line without `duration` fails the unwrap; `__error__=""` drops it. Sums and
        // rates are linear: regrouping the samples first gives the same series.
        range(
            r#"sum by (pod) (sum_over_time({app="api"} | logfmt | unwrap duration(duration) | __error__="" [10m]))"#,
            sum_by(
                over_time(
                    &unwrap_ok(&api(), "duration", go_duration),
                    Over::Sum,
                    M10,
                    STEPS,
                ),
                &["pod"],
            ),
        ),
        refused(
            r#"sum_over_time({app="api"} | logfmt | unwrap duration(duration) [10m])"#,
            400,
            "SampleExtractionErr",
        ),
        range(
            r#"max_over_time({app="api"} | logfmt | unwrap bytes(size) [10m]) by (path)"#,
            over_time(
                &regroup(unwrap_ok(&api(), "size", bytes), &["path"], false),
                Over::Max,
                M10,
                STEPS,
            ),
        ),
        range(
            r#"quantile_over_time(0.9, {app="api"} | logfmt | unwrap duration(duration) | __error__="" [10m]) by (method)"#,
            over_time(
                &regroup(
                    unwrap_ok(&api(), "duration", go_duration),
                    &["method"],
                    false,
                ),
                Over::Quantile(0.9),
                M10,
                STEPS,
            ),
        ),
        range(
            r#"avg_over_time({app="checkout"} | json | __error__="" | unwrap req_latency_ms [10m]) by (pod)"#,
            over_time(
                &regroup(
                    unwrap_ok(&checkout_ok(d), "req_latency_ms", float),
                    &["pod"],
                    false,
                ),
                Over::Avg,
                M10,
                STEPS,
            ),
        ),
        range(
            r#"min_over_time({app="checkout"} | json | __error__="" | unwrap amount [5m]) by (req_method)"#,
            over_time(
                &regroup(
                    unwrap_ok(&checkout_ok(d), "amount", float),
                    &["req_method"],
                    false,
                ),
                Over::Min,
                M5,
                STEPS,
            ),
        ),
        range(
            r#"last_over_time({app="checkout"} | json | __error__="" | unwrap items [10m]) by (pod)"#,
            over_time(
                &regroup(unwrap_ok(&checkout_ok(d), "items", float), &["pod"], false),
                Over::Last,
                M10,
                STEPS,
            ),
        ),
        range(
            r#"first_over_time({app="checkout"} | json | __error__="" | unwrap bytes(size) [10m]) by (pod)"#,
            over_time(
                &regroup(unwrap_ok(&checkout_ok(d), "size", bytes), &["pod"], false),
                Over::First,
                M10,
                STEPS,
            ),
        ),
        range(
            &format!(
                r#"sum by (method) (sum_over_time({{app="nginx"}} {NGINX_PAT} | unwrap bytes [5m]))"#
            ),
            over_time(
                &regroup(unwrap_ok(&nginx_all(d), "bytes", float), &["method"], false),
                Over::Sum,
                M5,
                STEPS,
            ),
        ),
        range(
            &format!(r#"sum by (pod) (rate({{app="nginx"}} {NGINX_PAT} | unwrap latency [5m]))"#),
            over_time(
                &regroup(unwrap_ok(&nginx_all(d), "latency", float), &["pod"], false),
                Over::Rate,
                M5,
                STEPS,
            ),
        ),
        range(
            &format!(
                r#"quantile_over_time(0.5, {{app="coredns"}} {DNS_PAT} | unwrap duration(dur) [10m]) by (rcode)"#
            ),
            over_time(
                &regroup(
                    unwrap_ok(
                        &d.select(app("coredns"))
                            .into_iter()
                            .map(dns_pattern)
                            .collect::<Vec<_>>(),
                        "dur",
                        go_duration,
                    ),
                    &["rcode"],
                    false,
                ),
                Over::Quantile(0.5),
                M10,
                STEPS,
            ),
        ),
        range(
            r#"sum by (level) (sum_over_time({app="checkout"} | json | __error__="" | unwrap duration_seconds(duration) [10m]))"#,
            over_time(
                &regroup(
                    unwrap_ok(&checkout_ok(d), "duration", go_duration),
                    &["level"],
                    false,
                ),
                Over::Sum,
                M10,
                STEPS,
            ),
        ),
        range(
            r#"stddev_over_time({app="checkout"} | json | __error__="" | unwrap amount [10m]) by (pod)"#,
            over_time(
                &regroup(unwrap_ok(&checkout_ok(d), "amount", float), &["pod"], false),
                Over::StdDev,
                M10,
                STEPS,
            ),
        ),
        // A counter that only rises (the cron ticks) and values that fall (items,
        // each fall a reset): the series keep the stream's labels alone.
        range(
            r#"rate_counter({app="cron"} | logfmt | unwrap n [15m])"#,
            rate_counter(
                &regroup(unwrap_ok(&cron(d), "n", float), STREAM, false),
                15 * MIN,
                STEPS,
            ),
        ),
        range(
            r#"rate_counter({app="checkout"} | json items="items" | __error__="" | unwrap items [10m])"#,
            rate_counter(
                &regroup(unwrap_ok(&checkout_ok(d), "items", float), STREAM, false),
                M10,
                STEPS,
            ),
        ),
    ]
}

/// The stream labels of the data set's streams.
const STREAM: &[&str] = &["namespace", "app", "pod", "container"];

fn cron(d: &Data) -> Vec<Line> {
    d.select(app("cron")).into_iter().map(logfmt).collect()
}

fn checkout_ok(d: &Data) -> Vec<Line> {
    d.select(app("checkout"))
        .into_iter()
        .map(json)
        .filter(|l| !l.has_error())
        .collect()
}

fn nginx_all(d: &Data) -> Vec<Line> {
    d.select(app("nginx"))
        .into_iter()
        .map(nginx_pattern)
        .collect()
}
