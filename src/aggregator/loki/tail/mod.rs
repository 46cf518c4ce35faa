//! `GET /loki/api/v1/tail`: a log query followed live over a websocket, as Grafana's live
//! mode and `logcli query --tail` use it. Before the upgrade the request is checked as
//! Loki does (bearer token: 401; parameters, [`request`]: 400 with Loki's text; more
//! than `max_tailers` open tails: 400); then the session ([`session`]) sends the
//! backlog and every line pushed afterwards ([`follow`]: read back from the store
//! through the LogQL pipeline, so a tail shows what `/query_range` would), as Loki's
//! JSON frames ([`frame`]). The push path wakes the tails through the [`TailHub`].

mod follow;
mod frame;
mod hub;
mod request;
mod session;

use super::reply::PlainError;
use super::LokiApi;
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
pub use hub::TailHub;
use std::sync::Arc;

/// Bytes of one message a client may send (they are read and ignored).
const MAX_CLIENT_MESSAGE: usize = 64 << 10;

pub async fn tail(
    State(api): State<Arc<LokiApi>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, PlainError> {
    let p = api.query_params(q, &headers, &Bytes::new())?;
    let req = request::TailRequest::parse(&p, (api.now)()).map_err(PlainError::bad_request)?;
    let follow = follow::Follow::new(req.log, req.start, req.limit)
        .map_err(|e| PlainError::bad_request(e.to_string()))?;
    let upgrade = upgrade.map_err(|e| PlainError::new(e.status(), e.body_text()))?;
    let max = api.limits.max_tailers;
    let permit = api.tail.admit(max).map_err(|count| {
        api.stats.refuse(super::Refusal::TooManyTails);
        PlainError::bad_request(format!(
            "max concurrent tail requests limit exceeded, count > limit ({count} > {max})"
        ))
    })?;
    let delay = req.delay_ns;
    let upgrade = upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    Ok(upgrade
        .on_upgrade(move |socket| session::run(api, socket, follow, delay, permit))
        .into_response())
}
