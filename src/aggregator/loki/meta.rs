//! Loki's metadata endpoints over the [`LogReader`]: `/loki/api/v1/labels` (optional
//! `query` selector), `/loki/api/v1/label/<name>/values`, `/loki/api/v1/series`
//! (`match[]`, the union of the selectors) and `/loki/api/v1/index/stats` (`query`), in
//! Loki's JSON shapes, over `start`/`end` as Loki parses them. Errors are plain text,
//! 400 for a bad parameter, as Loki's query API answers.
//!
//! [`LogReader`]: crate::aggregator::model::logs::LogReader

use super::params::bounds;
use super::reply::PlainError;
use super::selector::parse_selector;
use super::LokiApi;
use crate::aggregator::http::json;
use crate::aggregator::http::params::Params;
use crate::aggregator::model::logs::StreamRef;
use crate::aggregator::model::{label_names_of, label_values_of, Labels};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use promql_parser::label::Matcher;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A request's time range and selectors.
struct Scope {
    start: i64,
    end: i64,
    params: Params,
}

/// Authorizes and reads the form; a refusal is the response.
fn scope(
    api: &LokiApi,
    q: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Scope, PlainError> {
    let params = api.query_params(q, headers, body)?;
    let (start, end) = bounds(&params, (api.now)()).map_err(bad)?;
    Ok(Scope { start, end, params })
}

fn bad(msg: String) -> PlainError {
    PlainError::bad_request(msg)
}

/// The `query` selector's matchers; none when absent.
fn optional_selector(s: &Scope) -> Result<Vec<Matcher>, PlainError> {
    match s.params.get("query") {
        "" => Ok(vec![]),
        q => parse_selector(q).map_err(bad),
    }
}

/// The streams in scope, read on a blocking thread.
async fn streams(
    api: &Arc<LokiApi>,
    sets: Vec<Vec<Matcher>>,
    s: &Scope,
) -> Result<Vec<StreamRef>, PlainError> {
    let (reader, start, end) = (api.reader.clone(), s.start, s.end);
    let task = tokio::task::spawn_blocking(move || {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for set in &sets {
            for st in reader.streams(set, start, end) {
                if seen.insert(st.id) {
                    out.push(st);
                }
            }
        }
        out
    });
    task.await.map_err(read_failed)
}

fn read_failed(e: tokio::task::JoinError) -> PlainError {
    let msg = format!("log store read failed: {e}");
    PlainError::new(StatusCode::INTERNAL_SERVER_ERROR, msg)
}

fn success(data: &str) -> Response {
    json_reply(json::success(data))
}

fn json_reply(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn labels_of(streams: &[StreamRef]) -> impl Iterator<Item = &Labels> {
    streams.iter().map(|s| &s.labels)
}

pub async fn labels(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainError> {
    let s = scope(&api, q, &headers, &body)?;
    let matchers = optional_selector(&s)?;
    let found = streams(&api, vec![matchers], &s).await?;
    let mut out = String::new();
    let names = label_names_of(labels_of(&found));
    json::write_strings(&mut out, names.iter().map(String::as_str));
    Ok(success(&out))
}

pub async fn label_values(
    State(api): State<Arc<LokiApi>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PlainError> {
    let s = scope(&api, q, &headers, &Bytes::new())?;
    let matchers = optional_selector(&s)?;
    let found = streams(&api, vec![matchers], &s).await?;
    let mut out = String::new();
    let values = label_values_of(&name, labels_of(&found));
    json::write_strings(&mut out, values.iter().map(String::as_str));
    Ok(success(&out))
}

pub async fn series(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainError> {
    let s = scope(&api, q, &headers, &body)?;
    let selectors = s.params.all("match[]");
    if selectors.is_empty() {
        return Err(bad("0 matcher groups supplied".to_string()));
    }
    let sets = selectors
        .iter()
        .map(|m| parse_selector(m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let found = streams(&api, sets, &s).await?;
    let sorted: BTreeSet<&Labels> = labels_of(&found).collect();
    let sets: Vec<Labels> = sorted.into_iter().cloned().collect();
    Ok(success(&json::label_sets(&sets)))
}

pub async fn index_stats(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainError> {
    let s = scope(&api, q, &headers, &body)?;
    let matchers = parse_selector(s.params.get("query")).map_err(bad)?;
    let (reader, start, end) = (api.reader.clone(), s.start, s.end);
    let task = tokio::task::spawn_blocking(move || reader.stats(&matchers, start, end));
    let st = task.await.map_err(read_failed)?;
    Ok(json_reply(format!(
        "{{\"streams\":{},\"chunks\":{},\"bytes\":{},\"entries\":{}}}",
        st.streams, st.chunks, st.bytes, st.entries
    )))
}
