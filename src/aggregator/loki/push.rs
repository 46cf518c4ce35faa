//! `POST /loki/api/v1/push` (and the legacy `/api/prom/push`): the receiver's I/O.
//! Replies as Loki's distributor: 204 when everything was stored; 401 without the
//! ingest token; 413 over a size limit; 400 with the first reason when the body or some
//! entries are invalid (valid entries are still stored); 429 when the ingestion rate
//! (nothing stored) or the active-streams limit (other streams stored) is hit; 500 when
//! the store fails, so the client retries. A push the store took wakes the open tails.

use super::admit::{ActiveStreams, TokenBucket};
use super::body::{self, BodyError};
use super::reply::{plain, PlainError};
use super::stats::{Reason, Refusal};
use super::validate::{validate, Validated};
use super::LokiApi;
use crate::aggregator::model::logs::{EntryRefusal, PushOutcome, PushStream};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The tenant Loki names in messages when it runs without auth; we hold one tenant.
const TENANT: &str = "fake";

/// The admission state, built on the first push from the limits then in force.
pub struct Admission {
    bucket: TokenBucket,
    streams: ActiveStreams,
}

pub async fn receive(State(api): State<Arc<LokiApi>>, headers: HeaderMap, body: Body) -> Response {
    handle(api, headers, body, false).await
}

pub async fn receive_legacy(
    State(api): State<Arc<LokiApi>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(api, headers, body, true).await
}

async fn handle(api: Arc<LokiApi>, headers: HeaderMap, body: Body, legacy: bool) -> Response {
    if let Err(e) = api.authorize(&headers, api.auth.ingest_token.as_deref()) {
        return e.into_response();
    }
    let bytes = match read_body(&api, &headers, body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let task = tokio::task::spawn_blocking(move || ingest(&api, &headers, &bytes, legacy));
    match task.await {
        Ok(reply) => reply,
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The body, at most `max_body_bytes` of it (413 beyond).
async fn read_body(api: &LokiApi, headers: &HeaderMap, body: Body) -> Result<Bytes, PlainError> {
    let limit = api.limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = |size: String| {
        api.stats.refuse(Refusal::TooLarge);
        let msg = format!("request body too large: {size} bytes, limit: {limit} bytes");
        PlainError::new(StatusCode::PAYLOAD_TOO_LARGE, msg)
    };
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        return Err(too_large(n.to_string()));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.to_string().contains("length limit exceeded") {
            too_large(format!("over {limit}"))
        } else {
            api.stats.refuse(Refusal::Malformed);
            PlainError::bad_request(format!("reading the body: {e}"))
        }
    })
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn ingest(api: &LokiApi, headers: &HeaderMap, body: &[u8], legacy: bool) -> Response {
    let ct = header_str(headers, header::CONTENT_TYPE);
    let enc = header_str(headers, header::CONTENT_ENCODING);
    let raw = match body::decode(ct, enc, legacy, body, api.limits.max_decompressed_bytes) {
        Ok(raw) => raw,
        Err(e) => return body_error(api, e),
    };
    let now = (api.now)();
    let valid = validate(raw, &api.limits, now, &api.stats);
    let invalid = valid.first_error.clone();
    let admitted = match admit(api, valid, now) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut reply = Reply {
        too_many: admitted.too_many,
        invalid,
    };
    if !admitted.streams.is_empty() {
        let labels: Vec<_> = admitted.streams.iter().map(|s| s.labels.clone()).collect();
        match api.appender.push(admitted.streams) {
            Ok(outcome) => {
                reply.store(api, &outcome, admitted.bytes);
                if outcome.accepted > 0 {
                    api.tail.appended(&labels); // durable now: the tails may read it
                    api.stats.pushes_stored.send_modify(|n| *n += 1);
                }
            }
            Err(e) => {
                api.stats.refuse(Refusal::StoreFailed);
                tracing::warn!(error = %e, "The log store refused a push.");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
            }
        }
    }
    reply.into_response()
}

fn body_error(api: &LokiApi, e: BodyError) -> Response {
    if let BodyError::TooLarge { .. } = e {
        api.stats.refuse(Refusal::TooLarge);
        return plain(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string());
    }
    api.stats.refuse(Refusal::Malformed);
    tracing::debug!(error = %e, "Refused a Loki push body.");
    plain(StatusCode::BAD_REQUEST, &e.to_string())
}

/// What passed admission: the streams to store, their entry bytes, and the first
/// stream-limit message.
struct Admitted {
    streams: Vec<PushStream>,
    bytes: u64,
    too_many: Option<String>,
}

/// The rate limit (all or nothing: 429), then the streams limit (per stream).
fn admit(api: &LokiApi, valid: Validated, now: i64) -> Result<Admitted, PlainError> {
    let l = &api.limits;
    let mut guard = api.admission.lock().unwrap_or_else(|p| p.into_inner());
    let adm = guard.get_or_insert_with(|| Admission {
        bucket: TokenBucket::new(l.ingestion_rate_bytes, l.ingestion_burst_bytes, now),
        streams: ActiveStreams::new(l.max_streams, l.stream_idle),
    });
    rate_limit(api, &mut adm.bucket, &valid, now)?;
    Ok(stream_limit(api, &mut adm.streams, valid, now))
}

fn rate_limit(
    api: &LokiApi,
    bucket: &mut TokenBucket,
    valid: &Validated,
    now: i64,
) -> Result<(), PlainError> {
    let (entries, bytes) = (valid.entries(), valid.bytes());
    if entries == 0 || bucket.allow(bytes, now) {
        return Ok(());
    }
    api.stats.discard(Reason::RateLimited, entries);
    let msg = format!(
        "Ingestion rate limit exceeded for user {TENANT} (limit: {} bytes/sec) while attempting to ingest '{entries}' lines totaling '{bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
        bucket.rate()
    );
    Err(PlainError::new(StatusCode::TOO_MANY_REQUESTS, msg))
}

fn stream_limit(api: &LokiApi, active: &mut ActiveStreams, valid: Validated, now: i64) -> Admitted {
    let mut out = Admitted {
        streams: Vec::with_capacity(valid.streams.len()),
        bytes: 0,
        too_many: None,
    };
    for c in valid.streams {
        if active.admit(&c.stream.labels, now) {
            out.bytes += c.bytes;
            out.streams.push(c.stream);
            continue;
        }
        api.stats
            .discard(Reason::StreamLimit, c.stream.entries.len() as u64);
        out.too_many.get_or_insert_with(|| format!(
            "Maximum active stream limit exceeded when trying to create stream {}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '{TENANT}'",
            c.text
        ));
    }
    out
}

/// The answer being built: a limit (429) wins over invalid entries (400).
struct Reply {
    too_many: Option<String>,
    invalid: Option<String>,
}

impl Reply {
    fn store(&mut self, api: &LokiApi, o: &PushOutcome, bytes: u64) {
        api.stats
            .entries_accepted
            .fetch_add(o.accepted, Ordering::Relaxed);
        api.stats.bytes_received.fetch_add(bytes, Ordering::Relaxed);
        if o.refused > 0 {
            api.stats.discard(Reason::StoreRefused, o.refused);
        }
        let Some((labels, ts, why)) = &o.first_refusal else {
            return;
        };
        let t = crate::civil::go_time(*ts);
        match why {
            EntryRefusal::Limit(msg) => {
                self.too_many.get_or_insert_with(|| msg.clone());
            }
            EntryRefusal::TooFarBehind => {
                let msg = format!("entry with timestamp {t} ignored, reason: 'entry too far behind', for stream: {labels}");
                self.invalid.get_or_insert(msg);
            }
            EntryRefusal::OutOfBounds => {
                let msg = format!("entry for stream '{labels}' has timestamp out of bounds: {t}");
                self.invalid.get_or_insert(msg);
            }
        }
    }

    fn into_response(self) -> Response {
        match (self.too_many, self.invalid) {
            (Some(m), _) => plain(StatusCode::TOO_MANY_REQUESTS, &m),
            (None, Some(m)) => plain(StatusCode::BAD_REQUEST, &m),
            (None, None) => StatusCode::NO_CONTENT.into_response(),
        }
    }
}
