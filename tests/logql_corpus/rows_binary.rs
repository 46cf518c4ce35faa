//! Rows for binary operators between vectors: `ignoring (..) group_left`, `on (..)`,
//! comparisons (filtering and `bool`), `and`, `unless`; `label_replace`;
//! `absent_over_time`; and a label filter's error failing a metric query.

use crate::data::Labels;
use crate::parsers::Line;
use crate::reference::{group, is, ones, over_time, Data, Over, Series};
use crate::row::{app, grep, range, refused, Row, MIN, STEPS};
use crate::vectors::{aggregate, relabel, zip, zip_by, Agg};

const M10: i64 = 10 * MIN;

/// `lhs unless rhs`: the lhs points whose step has no rhs point with the same labels.
fn unless(lhs: &Series, rhs: &Series) -> Series {
    let mut out = lhs.clone();
    for (labels, points) in &mut out {
        points.retain(|t, _| rhs.get(labels).is_none_or(|r| !r.contains_key(t)));
    }
    out.retain(|_, p| !p.is_empty());
    out
}

pub fn rows(d: &Data) -> Vec<Row> {
    let ns = |v: &'static str| move |l: &Labels| is(l, "namespace", v);
    let count = |lines: &[Line]| over_time(&ones(lines), Over::Count, M10, STEPS);
    let sum_by = |s: &Series, names: &[&str]| aggregate(s, Agg::Sum, names, false);
    let shop = count(&d.select(ns("shop")));
    let shop_errors = count(&grep(d.select(ns("shop")), "error"));
    let get = sum_by(&count(&grep(d.select(app("api")), "GET")), &["pod"]);
    let not_get: Vec<Line> = d
        .select(app("api"))
        .into_iter()
        .filter(|l| !l.line.contains("GET"))
        .collect();
    let not_get = sum_by(&count(&not_get), &["pod"]);
    let every = |s: &str| {
        d.select(|_| true)
            .into_iter()
            .filter(|l| l.line.contains(s))
            .collect::<Vec<_>>()
    };
    let by_ns = sum_by(&count(&d.select(|_| true)), &["namespace"]);
    let by_ns_timeout = sum_by(&count(&every("timeout")), &["namespace"]);
    let api5 = over_time(&ones(&d.select(app("api"))), Over::Count, 5 * MIN, STEPS);
    vec![
        range(
            r#"sum by (app, pod) (count_over_time({namespace="shop"}[10m])) / ignoring (pod) group_left sum by (app) (count_over_time({namespace="shop"}[10m]))"#,
            zip_by(
                &sum_by(&shop, &["app", "pod"]),
                &sum_by(&shop, &["app"]),
                |l| group(l, &["pod"], true),
                |a, b| Some(a / b),
            ),
        ),
        range(
            r#"sum by (app) (count_over_time({namespace="shop"} |= "error" [10m])) / on (app) sum by (app) (count_over_time({namespace="shop"}[10m]))"#,
            zip(
                &sum_by(&shop_errors, &["app"]),
                &sum_by(&shop, &["app"]),
                |a, b| Some(a / b),
            ),
        ),
        range(
            r#"sum by (pod) (count_over_time({app="api"} |= "GET" [10m])) > sum by (pod) (count_over_time({app="api"} != "GET" [10m]))"#,
            zip(&get, &not_get, |a, b| (a > b).then_some(a)),
        ),
        range(
            r#"sum by (pod) (count_over_time({app="api"} |= "GET" [10m])) >= bool sum by (pod) (count_over_time({app="api"} != "GET" [10m]))"#,
            zip(&get, &not_get, |a, b| Some(if a >= b { 1.0 } else { 0.0 })),
        ),
        range(
            r#"sum by (namespace) (count_over_time({namespace=~".+"}[10m])) and sum by (namespace) (count_over_time({namespace=~".+"} |= "timeout" [10m]))"#,
            zip(&by_ns, &by_ns_timeout, |a, _| Some(a)),
        ),
        range(
            r#"sum by (namespace) (count_over_time({namespace=~".+"}[10m])) unless sum by (namespace) (count_over_time({namespace=~".+"} |= "timeout" [10m]))"#,
            unless(&by_ns, &by_ns_timeout),
        ),
        range(
            r#"label_replace(sum by (pod) (count_over_time({app="api"}[5m])), "idx", "$1", "pod", "api-(.*)")"#,
            relabel(&sum_by(&api5, &["pod"]), |l| {
                let mut l = l.clone();
                let idx = l["pod"].trim_start_matches("api-").to_string();
                l.insert("idx".into(), idx);
                l
            }),
        ),
        // Loki's absent: the selector's equality matchers as labels, 1 where nothing is.
        range(
            r#"absent_over_time({app="nothing"}[5m])"#,
            Series::from([(
                Labels::from([("app".to_string(), "nothing".to_string())]),
                STEPS.times().into_iter().map(|t| (t, 1.0)).collect(),
            )]),
        ),
        range(r#"absent_over_time({app="cron"}[5m])"#, Series::new()),
        refused(
            r#"sum(count_over_time({app="api"} | logfmt | msg > 3 [10m]))"#,
            400,
            "LabelFilterErr",
        ),
    ]
}
