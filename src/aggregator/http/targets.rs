//! `/api/v1/targets` as Prometheus answers it: every active target with its discovered
//! and final labels, pool (job), URL, health, last error, last scrape time (RFC 3339,
//! Go's zero time before the first) and duration, interval and timeout. Targets that
//! relabelling dropped are not kept, so `droppedTargets` is always empty. Also
//! `/api/v1/alertmanagers`: the notifier's Alertmanagers, static and discovered, and
//! those relabelling dropped.

use super::error::json_response;
use super::Api;
use crate::aggregator::model::Labels;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use promql_parser::util::display_duration;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `/api/v1/alertmanagers`, as Prometheus answers it: each Alertmanager by its URL.
pub async fn alertmanagers(State(api): State<Arc<Api>>) -> Response {
    let (active, dropped) = api.alertmanagers.as_ref().map(|f| f()).unwrap_or_default();
    let urls =
        |v: Vec<String>| -> Vec<Value> { v.into_iter().map(|url| json!({"url": url})).collect() };
    let data = json!({"activeAlertmanagers": urls(active), "droppedAlertmanagers": urls(dropped)});
    json_response(
        StatusCode::OK,
        json!({"status": "success", "data": data}).to_string(),
    )
}

pub async fn targets(State(api): State<Arc<Api>>) -> Response {
    let active = match &api.scrape {
        Some(manager) => manager.targets().await,
        None => Vec::new(),
    };
    let active: Vec<Value> = active
        .iter()
        .map(|t| {
            let last = t.status.last_scrape.map_or_else(
                || "0001-01-01T00:00:00Z".to_owned(),
                |at| humantime::format_rfc3339_nanos(at).to_string(),
            );
            json!({
                "discoveredLabels": object(&t.target.discovered),
                "labels": object(&t.target.labels),
                "scrapePool": t.job,
                "scrapeUrl": t.target.url,
                "globalUrl": t.target.url,
                "lastError": t.status.last_error,
                "lastScrape": last,
                "lastScrapeDuration": t.status.last_duration.as_secs_f64(),
                "health": t.status.health,
                "scrapeInterval": display_duration(&t.interval),
                "scrapeTimeout": display_duration(&t.timeout),
            })
        })
        .collect();
    let body =
        json!({"status": "success", "data": {"activeTargets": active, "droppedTargets": []}});
    json_response(StatusCode::OK, body.to_string())
}

/// A label set as a JSON object.
pub(super) fn object(labels: &Labels) -> Value {
    let map: Map<String, Value> = labels
        .iter()
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect();
    Value::Object(map)
}
