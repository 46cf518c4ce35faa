//! Rows for stream selectors (every matcher kind; Loki's regex matchers are anchored)
//! and line filters (`|=`, `!=`, `|~`, `!~`, chained, `or`), with limits, directions and
//! the `[start, end)` bounds of a log query.

use crate::data::{HOUR, T0};
use crate::parsers::Line;
use crate::reference::{is, Data};
use crate::row::{app, log, log_at, Row, MIN};

fn has(l: &Line, s: &str) -> bool {
    l.line.contains(s)
}

pub fn rows(d: &Data) -> Vec<Row> {
    let keep = |lines: Vec<Line>, f: &dyn Fn(&Line) -> bool| {
        lines.into_iter().filter(|l| f(l)).collect::<Vec<_>>()
    };
    let api_ts = |i: usize| d.streams[0].entries[i].0;
    vec![
        log(r#"{app="api"}"#, d.select(app("api"))),
        log(
            r#"{namespace="shop", app!="api"}"#,
            d.select(|l| is(l, "namespace", "shop") && !is(l, "app", "api")),
        ),
        log(
            r#"{app=~"api|nginx"}"#,
            d.select(|l| is(l, "app", "api") || is(l, "app", "nginx")),
        ),
        log(r#"{app=~"check.*"}"#, d.select(app("checkout"))),
        // Anchored: "heck" is not a whole value.
        log(r#"{app=~"heck"}"#, Vec::new()),
        log(
            r#"{namespace=~"shop|ingress", pod!~"api-.*|nginx-1"}"#,
            d.select(|l| {
                (is(l, "namespace", "shop") || is(l, "namespace", "ingress"))
                    && !l["pod"].starts_with("api-")
                    && !is(l, "pod", "nginx-1")
            }),
        ),
        // `level=""` matches streams without the label.
        log(
            r#"{namespace="monitoring", level=""}"#,
            d.select(|l| is(l, "namespace", "monitoring") && !l.contains_key("level")),
        ),
        log(
            r#"{namespace="monitoring", level!=""}"#,
            d.select(|l| is(l, "namespace", "monitoring") && l.contains_key("level")),
        ),
        log(
            r#"{container="api"} |= "status=500""#,
            keep(d.select(|l| is(l, "container", "api")), &|l| {
                has(l, "status=500")
            }),
        ),
        log(
            r#"{app="api"} != "GET""#,
            keep(d.select(app("api")), &|l| !has(l, "GET")),
        ),
        log(
            r#"{app="batch"} |~ "failed: (timeout|OOMKilled)""#,
            keep(d.select(app("batch")), &|l| {
                has(l, "failed: timeout") || has(l, "failed: OOMKilled")
            }),
        ),
        log(
            r#"{app="coredns"} !~ "NOERROR|NXDOMAIN""#,
            keep(d.select(app("coredns")), &|l| {
                !has(l, "NOERROR") && !has(l, "NXDOMAIN")
            }),
        ),
        log(
            r#"{app="api"} |= "POST" != "status=201" |~ "path=/(cart|items)""#,
            keep(d.select(app("api")), &|l| {
                has(l, "POST")
                    && !has(l, "status=201")
                    && (has(l, "path=/cart") || has(l, "path=/items"))
            }),
        ),
        log(
            r#"{namespace="shop"} |~ "(?i)ERROR""#,
            keep(d.select(|l| is(l, "namespace", "shop")), &|l| {
                l.line.to_lowercase().contains("error")
            }),
        ),
        log(
            r#"{app="nginx"} |= "kube-probe" or "curl""#,
            keep(d.select(app("nginx")), &|l| {
                has(l, "kube-probe") || has(l, "curl")
            }),
        ),
        log(
            r#"{app="checkout"} |= `"level":"error"`"#,
            keep(d.select(app("checkout")), &|l| has(l, r#""level":"error""#)),
        ),
        log(
            r#"{namespace=~".+"} |= "timeout""#,
            keep(d.select(|_| true), &|l| has(l, "timeout")),
        ),
        log(r#"{app="api"} |= """#, d.select(app("api"))),
        log(
            r#"{app="nginx"} !~ "\"(GET|POST) ""#,
            keep(d.select(app("nginx")), &|l| {
                !has(l, "\"GET ") && !has(l, "\"POST ")
            }),
        ),
        log(
            r#"{app="coredns"} |~ "^\\[ERROR\\]""#,
            keep(d.select(app("coredns")), &|l| l.line.starts_with("[ERROR]")),
        ),
        // Limits and directions: newest (or oldest) lines across all streams.
        log_at(
            r#"{namespace="shop"}"#,
            d.select(|l| is(l, "namespace", "shop")),
            T0,
            T0 + HOUR,
            true,
            7,
        ),
        log_at(
            r#"{namespace="ingress"} |= "GET""#,
            keep(d.select(|l| is(l, "namespace", "ingress")), &|l| {
                has(l, "GET")
            }),
            T0,
            T0 + HOUR,
            false,
            5,
        ),
        log_at(
            r#"{app="api"}"#,
            d.select(app("api")),
            T0 + 10 * MIN,
            T0 + 20 * MIN,
            true,
            1000,
        ),
        // `[T0+10m, T0+20m)` over lines exactly at 10m, 15m and 20m: the last is out.
        log_at(
            r#"{app="cron"}"#,
            d.select(app("cron")),
            T0 + 10 * MIN,
            T0 + 20 * MIN,
            true,
            1000,
        ),
        // The start is inclusive and the end exclusive: both fall on a line.
        log_at(
            r#"{pod="api-0"}"#,
            d.select(|l| is(l, "pod", "api-0")),
            api_ts(3),
            api_ts(8),
            false,
            1000,
        ),
        log_at(
            r#"{app=~"api|checkout"} |= "cart""#,
            keep(d.select(|l| is(l, "namespace", "shop")), &|l| {
                has(l, "cart")
            }),
            T0 + 30 * MIN,
            T0 + HOUR,
            false,
            4,
        ),
    ]
}
