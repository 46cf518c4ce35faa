//! `/api/v1/query` and `/api/v1/query_range`: parameters checked as Prometheus checks
//! them (same order, same messages), then the PromQL engine on a blocking thread.

use super::error::{json_response, ApiError};
use super::params::{form, invalid_param, parse_duration, parse_time, time_param, Params};
use super::{json, Api};
use crate::aggregator::promql::{instant_query, range_query, QueryError, QueryOptions, Value};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;

pub async fn instant(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = form(q, &headers, &body);
    let t = time_param(&p, "time", (api.now)()).map_err(ApiError::bad_data)?;
    let opts = options(&api.query, &p)?;
    let expr = p.get("query").to_string();
    let querier = api.querier.clone();
    run(move || instant_query(&*querier, &expr, t, &opts)).await
}

pub async fn range(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = form(q, &headers, &body);
    let (start, end, step) = range_params(&p, api.query.max_points)?;
    let opts = options(&api.query, &p)?;
    let expr = p.get("query").to_string();
    let querier = api.querier.clone();
    run(move || range_query(&*querier, &expr, start, end, step, &opts)).await
}

/// `start`, `end` and `step` in ms, refused as Prometheus's `queryRange` refuses them.
pub fn range_params(p: &Params, max_points: usize) -> Result<(i64, i64, i64), ApiError> {
    let bad = |name: &str, e: &str| ApiError::bad_data(invalid_param(name, e));
    let start = parse_time(p.get("start")).map_err(|e| bad("start", &e))?;
    let end = parse_time(p.get("end")).map_err(|e| bad("end", &e))?;
    if end < start {
        return Err(bad("end", "end timestamp must not be before start time"));
    }
    let step = parse_duration(p.get("step")).map_err(|e| bad("step", &e))?;
    if step <= 0 {
        return Err(bad(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > max_points as i64 {
        return Err(ApiError::bad_data(format!(
            "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
            thousands(max_points)
        )));
    }
    Ok((start, end, step))
}

/// `11,000`, as Prometheus spells its limit.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The server's limits, the `timeout` parameter lowering the timeout.
fn options(base: &QueryOptions, p: &Params) -> Result<QueryOptions, ApiError> {
    let mut opts = base.clone();
    match p.get("timeout") {
        "" => {}
        s => {
            let ms =
                parse_duration(s).map_err(|e| ApiError::bad_data(invalid_param("timeout", &e)))?;
            let asked = Duration::from_millis(ms.max(0) as u64);
            opts.timeout = opts.timeout.min(asked);
        }
    }
    Ok(opts)
}

/// Evaluates off the reactor and answers with the result or Prometheus's error.
async fn run(
    eval: impl FnOnce() -> Result<Value, QueryError> + Send + 'static,
) -> Result<Response, ApiError> {
    let value = tokio::task::spawn_blocking(eval)
        .await
        .map_err(|e| ApiError::internal(format!("query evaluation failed: {e}")))?
        .map_err(ApiError::from_query)?;
    let body = json::success(&json::query_data(&value));
    Ok(json_response(StatusCode::OK, body))
}
