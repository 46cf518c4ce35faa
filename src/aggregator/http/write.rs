//! `POST /api/v1/write`: the remote_write receiver's HTTP face. Replies as Prometheus's
//! write handler: 204 when stored; 400 with a plain-text reason for a body we cannot
//! read or samples storage refuses as out of order (the sender must not retry those);
//! 500 on a storage failure, so that the sender retries.

use super::Api;
use crate::aggregator::remote_write::decode;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub async fn receive(State(api): State<Arc<Api>>, body: Bytes) -> Response {
    let task = tokio::task::spawn_blocking(move || store(&api, &body)).await;
    match task {
        Ok(reply) => reply,
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

fn store(api: &Api, body: &[u8]) -> Response {
    let batch = match decode(body, &api.write_limits) {
        Ok(b) => b,
        Err(e) => {
            api.stats
                .write_requests_invalid
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %e, "Refused a remote_write request.");
            return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
        }
    };
    match api.appender.append(&batch) {
        Ok(o) if o.out_of_order + o.duplicate == 0 => StatusCode::NO_CONTENT.into_response(),
        Ok(o) => {
            let refused = o.out_of_order + o.duplicate;
            api.stats
                .write_samples_refused
                .fetch_add(refused, Ordering::Relaxed);
            let msg = format!(
                "out of order sample: {} out of order, {} duplicate, {} appended\n",
                o.out_of_order, o.duplicate, o.appended
            );
            (StatusCode::BAD_REQUEST, msg).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "Storage refused a remote_write request.");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response()
        }
    }
}

/// `/metrics`: the receiver's and the scrapers' drop counters in text format 0.0.4,
/// so that nothing is lost silently.
pub async fn metrics(State(api): State<Arc<Api>>) -> Response {
    let s = &api.stats;
    let mut counters = vec![
        (
            "nodepulse_remote_write_requests_invalid_total",
            "remote_write requests refused as malformed (400).",
            s.write_requests_invalid.load(Ordering::Relaxed),
        ),
        (
            "nodepulse_remote_write_samples_refused_total",
            "Samples refused as out of order or duplicate.",
            s.write_samples_refused.load(Ordering::Relaxed),
        ),
    ];
    if let Some(scrape) = &api.scrape {
        let st = scrape.stats();
        counters.extend([
            ("nodepulse_scrape_samples_out_of_order_total", "Scraped samples refused as older than their series' newest sample.", st.samples_out_of_order.load(Ordering::Relaxed)),
            ("nodepulse_scrape_samples_duplicate_total", "Scraped samples refused as a second value at a timestamp, or repeated in one body.", st.samples_duplicate.load(Ordering::Relaxed)),
            ("nodepulse_scrape_append_failures_total", "Scrapes whose samples storage failed to take.", st.append_failures.load(Ordering::Relaxed)),
            ("nodepulse_scrape_early_total", "Scrapes made at once because a target closed its connection and refused a new one.", st.early_scrapes.load(Ordering::Relaxed)),
        ]);
    }
    let mut all: Vec<_> = counters
        .into_iter()
        .map(|(n, h, v)| (n, h, "counter", v))
        .collect();
    if let Some(loki) = &api.loki {
        all.extend(loki.metrics());
    }
    all.extend(
        api.storage_metrics
            .as_ref()
            .map(|f| f())
            .unwrap_or_default(),
    );
    let mut body = String::new();
    for (name, help, kind, value) in all {
        body.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    for extra in &api.extra_metrics {
        body.push_str(&extra());
    }
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}
