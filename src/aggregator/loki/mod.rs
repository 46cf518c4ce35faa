//! The aggregator's Loki face, push side and metadata: the push receiver
//! (`POST /loki/api/v1/push`, [`push`]) — body envelope ([`body`]), the three wire
//! formats ([`wire`]), label text ([`labels`]), Loki's validation ([`validate`]) and
//! admission limits ([`admit`]) under [`LokiLimits`], counted in [`LokiStats`] — and
//! `/ready`, `/loki/api/v1/labels`, `/label/<name>/values`, `/series`, `/index/stats`
//! ([`meta`], with [`params`] and [`selector`], the LogQL parser's matchers); LogQL
//! through `/loki/api/v1/query` and `/query_range` ([`query`]); `/loki/api/v1/tail`, a
//! websocket that follows a log query live ([`tail`]: woken by the push path, reading
//! back through the store and the pipeline, bounded, drops counted). The store
//! sits behind [`LogAppender`] and [`LogReader`]. Single tenant: `X-Scope-OrgID` is
//! accepted and ignored.

mod admit;
pub mod body;
pub mod labels;
mod limits;
mod meta;
pub mod params;
mod push;
mod query;
mod reply;
pub mod selector;
mod stats;
mod tail;
pub mod validate;
pub mod wire;

#[cfg(test)]
mod robust_tests;

use crate::aggregator::model::logs::{LogAppender, LogReader};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
pub use limits::{bearer_matches, LokiAuth, LokiLimits};
use reply::PlainError;
pub use stats::{LokiStats, Reason, Refusal};
use std::sync::{Arc, Mutex};
pub use tail::TailHub;

/// What the Loki routes serve from.
pub struct LokiApi {
    pub appender: Arc<dyn LogAppender>,
    pub reader: Arc<dyn LogReader>,
    pub limits: LokiLimits,
    pub auth: LokiAuth,
    /// The clock (ns since the epoch): entry age checks, rate limiting, default ranges.
    pub now: fn() -> i64,
    pub stats: LokiStats,
    /// The open tails: woken after each push, limited, closed at shutdown.
    pub tail: TailHub,
    /// Built on the first push from `limits` and `now` then in force.
    admission: Mutex<Option<push::Admission>>,
}

impl LokiApi {
    /// Loki's default limits, no tokens, the wall clock.
    pub fn new(appender: Arc<dyn LogAppender>, reader: Arc<dyn LogReader>) -> LokiApi {
        LokiApi {
            appender,
            reader,
            limits: LokiLimits::default(),
            auth: LokiAuth::default(),
            now: now_ns,
            stats: LokiStats::default(),
            tail: TailHub::default(),
            admission: Mutex::new(None),
        }
    }

    /// `/metrics` rows of the receiver's counters.
    pub fn metrics(&self) -> Vec<(&'static str, &'static str, &'static str, u64)> {
        let mut rows = self.stats.rows();
        rows.push((
            "nodepulse_loki_tails_active",
            "Open /loki/api/v1/tail websockets.",
            "gauge",
            self.tail.active() as u64,
        ));
        rows
    }

    /// A query or metadata request's parameters (URL and form body), once its bearer
    /// token is checked; the 401 otherwise.
    fn query_params(
        &self,
        q: Option<String>,
        headers: &HeaderMap,
        body: &axum::body::Bytes,
    ) -> Result<crate::aggregator::http::params::Params, PlainError> {
        self.authorize(headers, self.auth.query_token.as_deref())?;
        Ok(crate::aggregator::http::params::form(q, headers, body))
    }

    /// Ok when no token is required or the request carries it; else the 401.
    fn authorize(&self, headers: &HeaderMap, token: Option<&str>) -> Result<(), PlainError> {
        let Some(token) = token else {
            return Ok(());
        };
        let given = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
        if bearer_matches(given, token) {
            return Ok(());
        }
        self.stats.refuse(Refusal::Unauthorized);
        Err(PlainError::new(StatusCode::UNAUTHORIZED, "unauthorized"))
    }
}

/// The wall clock in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Every Loki route, ready to merge into the aggregator's router. The push routes read
/// their body themselves, bounded by `max_body_bytes`.
pub fn router(api: Arc<LokiApi>) -> Router {
    Router::new()
        .route("/loki/api/v1/push", post(push::receive))
        .route("/api/prom/push", post(push::receive_legacy))
        .route("/ready", get(|| async { "ready\n".into_response() }))
        .route("/loki/api/v1/query", get(query::query).post(query::query))
        .route(
            "/loki/api/v1/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route("/loki/api/v1/tail", get(tail::tail))
        .route("/loki/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/loki/api/v1/label", get(meta::labels).post(meta::labels))
        .route("/loki/api/v1/label/{name}/values", get(meta::label_values))
        .route("/loki/api/v1/series", get(meta::series).post(meta::series))
        .route(
            "/loki/api/v1/index/stats",
            get(meta::index_stats).post(meta::index_stats),
        )
        .with_state(api)
}
