//! Loki's query endpoints: `/loki/api/v1/query_range` (log queries: `streams`; metric
//! queries: `matrix`) and `/loki/api/v1/query` (metric queries at one instant: `vector`
//! or `scalar`; log queries are refused there, as Loki 3 does). Parameters as Loki reads
//! them: `query`, `start`/`end` (the last hour by default), `step` (seconds or a
//! duration; by default the range ÷ 250, at least 1 s), `time`, `limit` (100),
//! `direction` (backward). Evaluation is [`crate::aggregator::logql::eval`].

use super::params::{bounds, parse_timestamp};
use super::reply::PlainError;
use super::LokiApi;
use crate::aggregator::http::json;
use crate::aggregator::http::params::{prometheus_duration_ms, Params};
use crate::aggregator::logql::ast::LogExpr;
use crate::aggregator::logql::eval::lines::{select_lines, Kept, LineQuery, LogStream};
use crate::aggregator::logql::eval::metric::{self, MetricOptions};
use crate::aggregator::logql::eval::windows::Steps;
use crate::aggregator::logql::eval::EvalError;
use crate::aggregator::logql::{parse, required_substrings, Expr, Pipeline};
use crate::aggregator::model::logs::{Direction, LogReader};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

const S: i64 = 1_000_000_000;
/// Loki's `max_query_points`-like bound on a range query's steps.
const MAX_POINTS: i64 = 11_000;

/// What one query asks for.
struct Request {
    expr: Expr,
    steps: Steps,
    limit: usize,
    direction: Direction,
}

pub async fn query_range(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainError> {
    let p = api.query_params(q, &headers, &body)?;
    let (start, end) = bounds(&p, (api.now)()).map_err(PlainError::bad_request)?;
    let step = step(&p, start, end)?;
    if (end - start) / step > MAX_POINTS {
        return Err(PlainError::bad_request(
            "exceeded maximum resolution of 11,000 points per timeseries. Try increasing the value of the step parameter",
        ));
    }
    let req = request(&p, Steps { start, end, step })?;
    run(api.reader.clone(), req).await
}

pub async fn query(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainError> {
    let p = api.query_params(q, &headers, &body)?;
    let t = match p.get("time") {
        "" => (api.now)(),
        v => {
            parse_timestamp(v).map_err(|e| PlainError::bad_request(format!("invalid time: {e}")))?
        }
    };
    let req = request(
        &p,
        Steps {
            start: t,
            end: t,
            step: S,
        },
    )?;
    if matches!(req.expr, Expr::Log(_)) {
        return Err(PlainError::bad_request(
            "log queries are not supported as an instant query type, please change your query to a range query type",
        ));
    }
    run(api.reader.clone(), req).await
}

fn request(p: &Params, steps: Steps) -> Result<Request, PlainError> {
    let expr = parse(p.get("query")).map_err(|e| PlainError::bad_request(e.to_string()))?;
    let limit = match p.get("limit") {
        "" => 100,
        v => v
            .parse::<usize>()
            .map_err(|_| PlainError::bad_request(format!("invalid limit: {v:?}")))?,
    };
    let direction = match p.get("direction").to_ascii_lowercase().as_str() {
        "" | "backward" => Direction::Backward,
        "forward" => Direction::Forward,
        other => {
            return Err(PlainError::bad_request(format!(
                "invalid direction: {other:?}"
            )))
        }
    };
    Ok(Request {
        expr,
        steps,
        limit,
        direction,
    })
}

/// `step` in ns: float seconds or a duration; by default Loki's range ÷ 250 (≥ 1 s).
fn step(p: &Params, start: i64, end: i64) -> Result<i64, PlainError> {
    let v = p.get("step");
    let ns = if v.is_empty() {
        ((end - start) / S / 250).max(1) * S
    } else if let Ok(secs) = v.parse::<f64>() {
        (secs * 1e9) as i64
    } else {
        prometheus_duration_ms(v)
            .and_then(|ms| ms.checked_mul(1_000_000))
            .ok_or_else(|| PlainError::bad_request(format!("invalid step: {v:?}")))?
    };
    if ns <= 0 {
        return Err(PlainError::bad_request(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    Ok(ns)
}

async fn run(reader: Arc<dyn LogReader>, req: Request) -> Result<Response, PlainError> {
    let task = tokio::task::spawn_blocking(move || evaluate(&*reader, &req));
    let data = task
        .await
        .map_err(|e| PlainError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(eval_error)?;
    let body = format!("{{\"status\":\"success\",\"data\":{data}}}");
    Ok((
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response())
}

fn eval_error(e: EvalError) -> PlainError {
    match e {
        EvalError::Store(_) | EvalError::Internal(_) => {
            PlainError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        _ => PlainError::bad_request(e.to_string()),
    }
}

/// The `data` object: the result and (empty) stats.
fn evaluate(reader: &dyn LogReader, req: &Request) -> Result<String, EvalError> {
    let mut data = match &req.expr {
        Expr::Log(log) => streams_json(&log_lines(reader, log, req)?),
        Expr::Metric(m) => {
            let value = metric::evaluate(reader, m, req.steps, &MetricOptions::default())?;
            json::query_data(&value)
        }
    };
    data.pop(); // the closing brace: the stats go inside
    data.push_str(",\"stats\":{}}");
    Ok(data)
}

/// A log query's lines in `[start, end)`.
fn log_lines(
    reader: &dyn LogReader,
    log: &LogExpr,
    req: &Request,
) -> Result<Vec<LogStream>, EvalError> {
    let mut pipeline = Pipeline::new(&log.stages)?;
    let owned = required_substrings(&log.stages);
    let hint: Vec<&[u8]> = owned.iter().map(|c| c.as_ref()).collect();
    let q = LineQuery {
        start: req.steps.start,
        end: req.steps.end,
        direction: req.direction,
        limit: req.limit,
        must_contain: &hint,
    };
    let streams = reader.streams(&log.matchers, q.start, q.end);
    let mut process = |s: &crate::aggregator::model::logs::StreamRef,
                       e: crate::aggregator::model::logs::EntryView<'_>| {
        let (line, labels) = pipeline.process(e.ts, e.line, &s.labels, e.metadata)?;
        Some(Kept {
            ts: e.ts,
            line: line.to_string(),
            labels: labels.clone(),
        })
    };
    Ok(select_lines(reader, &streams, &q, &mut process)?)
}

/// `{"resultType":"streams","result":[{"stream":{...},"values":[["<ns>","line"]]}]}`.
fn streams_json(streams: &[LogStream]) -> String {
    let mut out = String::from("{\"resultType\":\"streams\",\"result\":[");
    for (i, s) in streams.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"stream\":");
        json::write_labels(&mut out, &s.labels);
        out.push_str(",\"values\":[");
        for (j, (ts, line)) in s.entries.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[\"{ts}\",");
            json::write_str(&mut out, line);
            out.push(']');
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}
