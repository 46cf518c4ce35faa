//! The fixed range queries a Grafana node/cluster dashboard sends (rate, sum by,
//! histogram_quantile, topk, regex matchers, a binary operation; over 1 h and 3 h at
//! 15 s and 60 s steps), the agreement check that makes the race fair, and the race:
//! each query `runs` times on both servers, alternating which goes first.

use crate::compare;
use serde_json::Value;
use std::time::{Duration, Instant};

/// One benched query: PromQL, how far back from the end it starts, its step.
pub struct Query {
    pub expr: &'static str,
    pub hours: i64,
    pub step_s: i64,
}

const fn q(expr: &'static str, hours: i64, step_s: i64) -> Query {
    Query {
        expr,
        hours,
        step_s,
    }
}

pub const QUERIES: [Query; 10] = [
    q(
        r#"sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#,
        1,
        15,
    ),
    q(
        r#"sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#,
        3,
        60,
    ),
    q(
        r#"rate(node_network_receive_bytes_total{device=~"eth.*"}[5m])"#,
        1,
        15,
    ),
    q(
        r#"1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"#,
        3,
        60,
    ),
    q(
        r#"histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))"#,
        3,
        60,
    ),
    q(
        r#"histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{handler="/metrics"}[5m])))"#,
        1,
        15,
    ),
    q(
        r#"topk(5, sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=~"default|monitoring"}[5m])))"#,
        1,
        15,
    ),
    q(
        r#"sum by (namespace) (container_memory_working_set_bytes{pod=~"app-.*"})"#,
        3,
        60,
    ),
    q(r#"avg by (mode) (rate(node_cpu_seconds_total[5m]))"#, 3, 15),
    q(r#"max_over_time(node_load1[10m]) > 0"#, 1, 60),
];

/// A server the queries go to.
pub struct Target<'a> {
    pub name: &'a str,
    pub url: String,
}

/// A `/api/v1/query_range` form for `query` ending at `end_ms`.
fn form(query: &Query, end_ms: i64) -> [(&'static str, String); 4] {
    let secs = |ms: i64| format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
    [
        ("query", query.expr.to_string()),
        ("start", secs(end_ms - query.hours * 3_600_000)),
        ("end", secs(end_ms)),
        ("step", query.step_s.to_string()),
    ]
}

/// Client without compression: both servers answer in plain JSON, so the race times
/// evaluation and encoding, not gzip (Prometheus compresses when asked, we do not yet).
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("http client")
}

/// One query, timed from sending to the last byte of the answer; the body.
fn ask(
    http: &reqwest::blocking::Client,
    t: &Target,
    query: &Query,
    end_ms: i64,
) -> (Duration, String) {
    let began = Instant::now();
    let r = http
        .post(format!("{}/api/v1/query_range", t.url))
        .form(&form(query, end_ms))
        .send()
        .unwrap_or_else(|e| panic!("query_range on {}: {e}", t.name));
    let body = r.text().expect("an answer body");
    (began.elapsed(), body)
}

/// How both answered one query: series in each answer, and the first difference.
pub struct Agreement {
    pub series: [usize; 2],
    pub difference: Option<String>,
}

/// Asks both servers once and compares the answers (values within 1e-9 relative).
pub fn agree(
    http: &reqwest::blocking::Client,
    targets: &[Target; 2],
    query: &Query,
    end_ms: i64,
) -> Agreement {
    let answers = targets.each_ref().map(|t| {
        let body = ask(http, t, query, end_ms).1;
        serde_json::from_str::<Value>(&body)
            .unwrap_or_else(|e| panic!("{} answered non-JSON ({e}): {body}", t.name))
    });
    let count = |v: &Value| v["data"]["result"].as_array().map_or(0, Vec::len);
    Agreement {
        series: [count(&answers[0]), count(&answers[1])],
        difference: compare::diff(&answers[0], &answers[1]),
    }
}

/// Latencies of every query on both servers: `[query][server]`, each `runs` long.
pub fn race(
    http: &reqwest::blocking::Client,
    targets: &[Target; 2],
    end_ms: i64,
    runs: usize,
) -> Vec<[Vec<Duration>; 2]> {
    let mut out: Vec<[Vec<Duration>; 2]> =
        QUERIES.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    for run in 0..runs {
        for (qi, query) in QUERIES.iter().enumerate() {
            for k in 0..2 {
                let s = (run + qi + k) % 2;
                out[qi][s].push(ask(http, &targets[s], query, end_ms).0);
            }
        }
    }
    out
}

/// The `p`th percentile (nearest rank) in milliseconds.
pub fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
