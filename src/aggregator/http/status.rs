//! `/api/v1/metadata` and `/api/v1/status/config` as Prometheus answers them: the TYPE
//! and HELP the active targets declared (deduplicated across targets; `limit` caps the
//! metrics, `limit_per_metric` the entries of each, `metric` picks one), and the
//! configuration the aggregator runs with, as YAML with every default filled in.

use super::error::{json_response, ApiError};
use super::params::{form, Params};
use super::Api;
use crate::aggregator::scrape::metadata::MetricMeta;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub async fn metadata(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = form(q, &headers, &body);
    let max_metrics = limit(&p, "limit")?;
    let per_metric = limit(&p, "limit_per_metric")?;
    let metric = p.get("metric");
    let targets = match &api.scrape {
        Some(manager) => manager.targets().await,
        None => Vec::new(),
    };
    let mut found: BTreeMap<&str, BTreeSet<&MetricMeta>> = BTreeMap::new();
    for t in &targets {
        for (name, meta) in t.status.metadata.iter() {
            if metric.is_empty() || name == metric {
                found.entry(name).or_default().insert(meta);
            }
        }
    }
    let data: Map<String, Value> = found
        .into_iter()
        .take(max_metrics.unwrap_or(usize::MAX))
        .map(|(name, set)| {
            let entries = set
                .into_iter()
                .take(per_metric.unwrap_or(usize::MAX))
                .map(|m| json!({"type": m.kind, "help": m.help, "unit": m.unit}))
                .collect();
            (name.to_owned(), Value::Array(entries))
        })
        .collect();
    let body = json!({"status": "success", "data": data});
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// A count parameter: absent or negative means no limit.
fn limit(p: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    match p.get(name) {
        "" => Ok(None),
        s => match s.parse::<i64>() {
            Ok(n) => Ok(usize::try_from(n).ok()),
            Err(_) => Err(ApiError::bad_data(format!("{name} must be a number"))),
        },
    }
}

pub async fn config(State(api): State<Arc<Api>>) -> Response {
    let yaml = api
        .config_yaml
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let body = json!({"status": "success", "data": {"yaml": yaml}});
    json_response(StatusCode::OK, body.to_string())
}
