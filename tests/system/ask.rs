//! Questions the whole-system test asks over HTTP, and [`poll`], which repeats one
//! until it is answered or a deadline passes (then fails with the last answer and the
//! logs of the processes involved). Nothing here sleeps to assert: a poll stops at the
//! first good answer.

use crate::common::{Http, Server};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Long enough for a loaded 2-core machine; a passing run takes seconds per step.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Repeats `f` every 200 ms until it returns `Ok`; panics after [`DEADLINE`] with its
/// last error and the tail of each log in `logs`.
pub fn poll<T>(what: &str, logs: &[&Server], mut f: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if start.elapsed() > DEADLINE => {
                let tails: Vec<String> = logs
                    .iter()
                    .map(|s| format!("--- {} log:\n{}", s.name, s.log_tail(20)))
                    .collect();
                panic!("{what}: not within {DEADLINE:?}: {e}\n{}", tails.join("\n"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn json(http: &Http, url: &str) -> Result<Value, String> {
    let text = http.get(url, &[]).text();
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A PromQL instant query's result vector (Prometheus's API, ours or the real one).
pub fn promql(http: &Http, server: &Server, query: &str) -> Result<Vec<Value>, String> {
    let v = json(
        http,
        &server.url(&format!("/api/v1/query?query={}", encode(query))),
    )?;
    match v["data"]["result"].as_array() {
        Some(r) if !r.is_empty() => Ok(r.clone()),
        _ => Err(format!("{query}: {v}")),
    }
}

/// The one sample's value of `query`, as a number.
pub fn promql_value(http: &Http, server: &Server, query: &str) -> Result<f64, String> {
    let r = promql(http, server, query)?;
    let text = r[0]["value"][1].as_str().unwrap_or_default();
    text.parse().map_err(|_| format!("{query}: {r:?}"))
}

/// The streams of a LogQL log query over the last hour, oldest line first.
pub fn loki_streams(http: &Http, server: &Server, query: &str) -> Result<Vec<Value>, String> {
    let path = format!(
        "/loki/api/v1/query_range?query={}&since=1h&limit=5000&direction=forward",
        encode(query)
    );
    let v = json(http, &server.url(&path))?;
    v["data"]["result"]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("{query}: {v}"))
}

/// The lines of `streams`, in order within each stream.
pub fn lines(streams: &[Value]) -> Vec<String> {
    let values = streams.iter().flat_map(|s| {
        let v = s["values"].as_array().cloned().unwrap_or_default();
        v.into_iter()
    });
    values
        .filter_map(|p| p[1].as_str().map(str::to_owned))
        .collect()
}

/// The alerts an Alertmanager holds (API v2).
pub fn alertmanager_alerts(http: &Http, am: &Server) -> Result<Vec<Value>, String> {
    let v = json(http, &am.url("/api/v2/alerts"))?;
    v.as_array().cloned().ok_or_else(|| v.to_string())
}

/// The aggregator's alerts (`/api/v1/alerts`).
pub fn aggregator_alerts(http: &Http, agg: &Server) -> Result<Vec<Value>, String> {
    let v = json(http, &agg.url("/api/v1/alerts"))?;
    let alerts = v["data"]["alerts"].as_array().cloned();
    alerts.ok_or_else(|| v.to_string())
}

/// Every rule group's last evaluation, in seconds since the epoch (0 when never).
pub fn last_evaluations(http: &Http, agg: &Server) -> Result<Vec<f64>, String> {
    let v = json(http, &agg.url("/api/v1/rules"))?;
    let groups = v["data"]["groups"].as_array().cloned().unwrap_or_default();
    let seconds = |g: &Value| {
        let text = g["lastEvaluation"].as_str().unwrap_or_default();
        nodepulse::aggregator::http::params::rfc3339(text)
            .map_or(0.0, |(s, ns)| s as f64 + ns as f64 / 1e9)
    };
    Ok(groups.iter().map(seconds).collect())
}
