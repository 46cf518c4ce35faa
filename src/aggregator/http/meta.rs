//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values` and
//! `/api/v1/status/buildinfo`: metadata straight from the [`Querier`].

use super::error::{json_response, ApiError};
use super::params::{form, invalid_param, matcher_sets, time_param};
use super::{json, Api};
use crate::aggregator::model::{Labels, StorageError};
use crate::aggregator::rules::query::RuleExpr;
use crate::aggregator::rules::reads::Reads;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use promql_parser::label::Matcher;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The request's time range and `match[]` sets (one empty set when none is given).
struct Scope {
    mint: i64,
    maxt: i64,
    sets: Vec<Vec<Matcher>>,
}

fn scope(query: Option<String>, headers: &HeaderMap, body: &Bytes) -> Result<Scope, ApiError> {
    let p = form(query, headers, body);
    let mint = time_param(&p, "start", i64::MIN).map_err(ApiError::bad_data)?;
    let maxt = time_param(&p, "end", i64::MAX).map_err(ApiError::bad_data)?;
    let selectors = p.all("match[]");
    let sets = if selectors.is_empty() {
        vec![]
    } else {
        matcher_sets(&selectors).map_err(|e| ApiError::bad_data(invalid_param("match[]", &e)))?
    };
    Ok(Scope { mint, maxt, sets })
}

fn storage(e: StorageError) -> ApiError {
    ApiError::internal(e.to_string())
}

fn ok(data: String) -> Response {
    json_response(StatusCode::OK, json::success(&data))
}

pub async fn series(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let s = scope(q, &headers, &body)?;
    if s.sets.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let querier = api.querier.clone();
    blocking(move || {
        let mut found = BTreeSet::new();
        for set in &s.sets {
            for series in querier.select(set, s.mint, s.maxt)? {
                found.insert(series.labels);
            }
        }
        Ok(json::label_sets(
            &found.into_iter().collect::<Vec<Labels>>(),
        ))
    })
    .await
}

pub async fn labels(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let s = scope(q, &headers, &body)?;
    let querier = api.querier.clone();
    blocking(move || {
        let names = union(&s, |m| querier.label_names(m, s.mint, s.maxt))?;
        let mut out = String::new();
        json::write_strings(&mut out, names.iter().map(String::as_str));
        Ok(out)
    })
    .await
}

pub async fn label_values(
    State(api): State<Arc<Api>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !valid_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let s = scope(q, &headers, &Bytes::new())?;
    let querier = api.querier.clone();
    blocking(move || {
        let values = union(&s, |m| querier.label_values(&name, m, s.mint, s.maxt))?;
        let mut out = String::new();
        json::write_strings(&mut out, values.iter().map(String::as_str));
        Ok(out)
    })
    .await
}

/// The sorted union of `f` over the scope's matcher sets (all series when none).
fn union(
    s: &Scope,
    f: impl Fn(&[Matcher]) -> Result<Vec<String>, StorageError>,
) -> Result<BTreeSet<String>, StorageError> {
    if s.sets.is_empty() {
        return Ok(f(&[])?.into_iter().collect());
    }
    let mut out = BTreeSet::new();
    for set in &s.sets {
        out.extend(f(set)?);
    }
    Ok(out)
}

/// `model.LabelNameRE`; `__name__` included.
fn valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

async fn blocking(
    f: impl FnOnce() -> Result<String, StorageError> + Send + 'static,
) -> Result<Response, ApiError> {
    let data = tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("storage read failed: {e}")))?
        .map_err(storage)?;
    Ok(ok(data))
}

/// Build information in Prometheus's shape. `version` is the Prometheus API level we
/// mirror, so that clients which gate features on it (Grafana) treat us as 2.42;
/// `revision` and `branch` name nodepulse.
pub async fn buildinfo() -> Response {
    let data = format!(
        "{{\"version\":\"2.42.0\",\"revision\":\"nodepulse-{v}\",\"branch\":\"nodepulse\",\
         \"buildUser\":\"nodepulse\",\"buildDate\":\"\",\"goVersion\":\"none (Rust)\"}}",
        v = crate::VERSION
    );
    ok(data)
}

/// `/api/v1/query_exemplars`, as Prometheus answers it without exemplar storage (its
/// default, `--enable-feature=exemplar-storage` off): the parameters checked, then no
/// exemplars (`[]`) for a query with selectors, 204 for one without. We store no
/// exemplars; Grafana, which asks in Explore, then shows none instead of an error.
pub async fn query_exemplars(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = form(q, &headers, &body);
    let start = time_param(&p, "start", i64::MIN).map_err(ApiError::bad_data)?;
    let end = time_param(&p, "end", i64::MAX).map_err(ApiError::bad_data)?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    let query = p.get("query").to_owned();
    promql_parser::parser::parse(&query).map_err(ApiError::bad_data)?;
    let reads = Reads::of([&RuleExpr::Promql(query)]);
    if reads.names.is_empty() && !reads.any {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(ok("[]".into()))
}
