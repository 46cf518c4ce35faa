//! The Prometheus HTTP API over the aggregator's storage and PromQL engine: queries
//! ([`query`]), series and label metadata ([`meta`]), scrape targets ([`targets`]),
//! metric metadata and the running configuration ([`status`]),
//! remote_write ([`write`]), rules, alerts and reload ([`rules`]), with
//! Prometheus's JSON and error shapes ([`json`]) and parameter parsing ([`params`]).
//! [`serve`] takes a bound listener and a shutdown future, so tests bind `127.0.0.1:0`.

mod error;
mod federate;
pub mod json;
mod meta;
pub mod params;
mod query;
pub mod rules;
mod status;
mod targets;
mod write;

use crate::aggregator::model::{Appender, Querier};
use crate::aggregator::promql::QueryOptions;
use crate::aggregator::remote_write::Limits;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
pub use error::{ApiError, ErrorType};
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What the API serves from, and its limits.
pub struct Api {
    /// Added by `/federate` to series that lack them (the reloader keeps them current).
    pub external_labels: Arc<std::sync::RwLock<crate::aggregator::model::Labels>>,
    pub querier: Arc<dyn Querier>,
    pub appender: Arc<dyn Appender>,
    pub query: QueryOptions,
    pub write_limits: Limits,
    /// Bytes of a form POST body the query endpoints read.
    pub max_form_bytes: usize,
    /// The clock a query without `time` evaluates at (ms since the epoch).
    pub now: fn() -> i64,
    /// Counters of what the API refused or dropped (exported by the binary).
    pub stats: Stats,
    /// The scrape loops, for `/api/v1/targets` (none: an empty list).
    pub scrape: Option<Arc<crate::aggregator::scrape::Manager>>,
    /// The notifier's Alertmanagers, active and dropped, by URL, for
    /// `/api/v1/alertmanagers` (none: empty lists).
    pub alertmanagers: Option<AlertmanagerList>,
    /// The store's own metrics for `/metrics` (none: not exported).
    pub storage_metrics: Option<StorageMetrics>,
    /// What `/api/v1/status/config` shows: the running configuration as YAML (a
    /// reload replaces it).
    pub config_yaml: Arc<std::sync::RwLock<String>>,
    /// Loki's push API and metadata routes (none: not served).
    pub loki: Option<Arc<crate::aggregator::loki::LokiApi>>,
    /// The rule manager, for `/api/v1/rules`, `/api/v1/alerts` and `/-/reload` (none:
    /// no rules, and a reload does nothing).
    pub rules: Option<Arc<dyn rules::RuleSource>>,
    /// More of `/metrics`, already in the text format (labelled families such as the
    /// notifier's and the rule manager's); appended after the counters above.
    pub extra_metrics: Vec<ExtraMetrics>,
}

/// The Alertmanagers sent to and those relabelling dropped, by URL.
pub type AlertmanagerList = Arc<dyn Fn() -> (Vec<String>, Vec<String>) + Send + Sync>;

/// A part of `/metrics` written by its owner.
pub type ExtraMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// `(name, help, type, value)` of each storage metric (`type`: counter or gauge).
pub type StorageMetrics =
    Arc<dyn Fn() -> Vec<(&'static str, &'static str, &'static str, u64)> + Send + Sync>;

/// Drops, so that nothing is lost silently.
#[derive(Debug, Default)]
pub struct Stats {
    /// remote_write requests refused as malformed (400).
    pub write_requests_invalid: AtomicU64,
    /// Samples refused as out of order or duplicate.
    pub write_samples_refused: AtomicU64,
}

impl Api {
    /// An API with Prometheus's default limits over one store.
    pub fn new(querier: Arc<dyn Querier>, appender: Arc<dyn Appender>) -> Api {
        Api {
            querier,
            appender,
            query: QueryOptions::default(),
            write_limits: Limits::default(),
            max_form_bytes: 4 << 20,
            now: now_ms,
            stats: Stats::default(),
            scrape: None,
            alertmanagers: None,
            storage_metrics: None,
            config_yaml: Arc::default(),
            loki: None,
            rules: None,
            extra_metrics: Vec::new(),
            external_labels: Arc::default(),
        }
    }
}

/// The wall clock in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_millis() as i64
}

/// The probes' paths, served without basic auth (the kubelet sends no credentials).
pub const OPEN_PATHS: &[&str] = &["/-/healthy", "/-/ready"];

/// How long [`serve`] waits, after the HTTP server stopped, for the open tails to send
/// their close frames (each gives its writer one second).
const TAIL_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Serves until `shutdown` completes, then finishes in-flight requests. Upgraded
/// connections (Loki's tail websockets) are no longer the server's: they are told to
/// close when `shutdown` completes, and are waited for (at most [`TAIL_CLOSE_WAIT`]) so
/// the process does not end before their close frames are sent.
pub async fn serve(
    listener: TcpListener,
    api: Arc<Api>,
    web: Option<Arc<crate::web::Web>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let loki = api.loki.clone();
    let stop = loki.clone();
    let shutdown = async move {
        shutdown.await;
        if let Some(loki) = stop {
            loki.tail.shutdown();
        }
    };
    crate::web::serve(listener, router(api), web, shutdown).await?;
    if let Some(loki) = loki {
        if tokio::time::timeout(TAIL_CLOSE_WAIT, loki.tail.idle())
            .await
            .is_err()
        {
            tracing::warn!(open = loki.tail.active(), "Loki tails still open at exit.");
        }
    }
    Ok(())
}

/// Every route; GET and form POST alike where Prometheus takes both.
pub fn router(api: Arc<Api>) -> Router {
    let form_limit = DefaultBodyLimit::max(api.max_form_bytes);
    let write_limit = DefaultBodyLimit::max(api.write_limits.max_body_bytes);
    let queries = Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(meta::series).post(meta::series))
        .route("/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/api/v1/label/{name}/values", get(meta::label_values))
        .route("/api/v1/status/buildinfo", get(meta::buildinfo))
        .route(
            "/api/v1/query_exemplars",
            get(meta::query_exemplars).post(meta::query_exemplars),
        )
        .route("/api/v1/targets", get(targets::targets))
        .route("/api/v1/alertmanagers", get(targets::alertmanagers))
        .route(
            "/api/v1/metadata",
            get(status::metadata).post(status::metadata),
        )
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .layer(form_limit);
    let writes = Router::new()
        .route("/api/v1/write", post(write::receive))
        .layer(write_limit);
    let loki = api.loki.clone().map(crate::aggregator::loki::router);
    let router = queries
        .merge(writes)
        .route("/metrics", get(write::metrics))
        .route(
            "/federate",
            get(federate::federate).post(federate::federate),
        )
        .route("/-/healthy", get(|| async { "Healthy.\n" }))
        .route("/-/ready", get(|| async { "Ready.\n" }))
        .route("/-/reload", post(rules::reload).put(rules::reload))
        .with_state(api);
    match loki {
        Some(l) => router.merge(l),
        None => router,
    }
}

#[cfg(test)]
mod tests;
