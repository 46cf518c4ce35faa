//! What a `_bulk` answer means for each document sent.
//!
//! An HTTP 200 is not a success by itself: Elasticsearch answers 200 with
//! `"errors":true` when some items failed, and each item carries its own status
//! (PITFALLS 10; Fluent Bit #1029 and Vector's first ES sink both dropped or retried
//! whole batches on it). So the items are always read and each document gets one of
//! three outcomes: accepted, retry (429, 5xx, `es_rejected_execution_exception`) or
//! rejected (other 4xx, e.g. `mapper_parsing_exception`, which no retry can fix).
//!
//! When the answer cannot be tied to the documents (garbage body, item count not the
//! count sent) the whole batch is retried: acknowledging a document the server may not
//! have written would lose it, while a duplicate is the accepted cost of at-least-once.
//! `Retry-After` is a header, read by the backoff unit, not here.

use crate::agent::sinks::error::retryable_status;
use serde::Deserialize;
use thiserror::Error;

/// The fate of one document in a bulk answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted,
    /// Worth sending again after a backoff.
    Retry {
        status: u16,
        error_type: String,
    },
    /// Will fail again; log it and count it by `error_type`.
    Rejected {
        status: u16,
        error_type: String,
        reason: String,
    },
}

/// A bulk answer that could be read item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOutcome {
    AllAccepted,
    /// One outcome per item sent, in request order; at least one is not accepted.
    Partial(Vec<ItemOutcome>),
}

/// A bulk answer that decides for the whole batch. Whether to retry is a property of
/// the error ([`BulkError::action`]), not a guess at the call site.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BulkError {
    #[error("HTTP {status}: the server is overloaded or failing ({error_type})")]
    Unavailable { status: u16, error_type: String },
    #[error("HTTP 413: the bulk body is larger than the server's http.max_content_length")]
    TooLarge,
    #[error("HTTP {status}: the batch was refused ({error_type}: {reason})")]
    Refused {
        status: u16,
        error_type: String,
        reason: String,
    },
    #[error("the bulk answer is not the JSON expected: {0}")]
    Malformed(String),
    #[error("the bulk answer lists {got} items for {sent} documents sent")]
    CountMismatch { sent: usize, got: usize },
}

/// What the caller does with the whole batch after a [`BulkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// Send the same batch again after a backoff.
    Retry,
    /// Split it in two and send each half ([`super::BulkRequest::split`]); a single
    /// document that is still too large is rejected.
    Split,
    /// Drop it; log and count every document as rejected.
    Reject,
}

impl BulkError {
    pub fn action(&self) -> BatchAction {
        match self {
            BulkError::Unavailable { .. }
            | BulkError::Malformed(_)
            | BulkError::CountMismatch { .. } => BatchAction::Retry,
            BulkError::TooLarge => BatchAction::Split,
            BulkError::Refused { .. } => BatchAction::Reject,
        }
    }
}

/// Reads the HTTP status and body of a `_bulk` answer to a request of `sent` documents.
pub fn interpret(status: u16, body: &[u8], sent: usize) -> Result<BulkOutcome, BulkError> {
    match status {
        200..=299 => interpret_items(body, sent),
        413 => Err(BulkError::TooLarge),
        s if retryable_status(s) => Err(BulkError::Unavailable {
            status,
            error_type: top_level_error(body).0,
        }),
        _ => {
            let (error_type, reason) = top_level_error(body);
            Err(BulkError::Refused {
                status,
                error_type,
                reason,
            })
        }
    }
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    errors: bool,
    items: Option<Vec<RawItem>>,
}

/// `{"create":{...}}`; `index` too, for a proxy or an older agent's batch.
#[derive(Deserialize)]
enum RawItem {
    #[serde(rename = "create")]
    Create(RawResult),
    #[serde(rename = "index")]
    Index(RawResult),
}

#[derive(Deserialize)]
struct RawResult {
    status: u16,
    error: Option<RawError>,
}

#[derive(Deserialize, Default)]
struct RawError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    reason: Option<String>,
}

fn interpret_items(body: &[u8], sent: usize) -> Result<BulkOutcome, BulkError> {
    let raw: RawResponse =
        serde_json::from_slice(body).map_err(|e| BulkError::Malformed(e.to_string()))?;
    let Some(items) = raw.items else {
        // `filter_path=errors` strips the items; a clean answer is then still definite.
        return match raw.errors {
            false => Ok(BulkOutcome::AllAccepted),
            true => Err(BulkError::Malformed("errors:true without items".into())),
        };
    };
    if items.len() != sent {
        return Err(BulkError::CountMismatch {
            sent,
            got: items.len(),
        });
    }
    // The items decide, not the `errors` flag: a stray failed item under
    // `errors:false` is still retried rather than acknowledged.
    let outcomes: Vec<ItemOutcome> = items.into_iter().map(classify).collect();
    if outcomes.iter().all(|o| *o == ItemOutcome::Accepted) {
        Ok(BulkOutcome::AllAccepted)
    } else {
        Ok(BulkOutcome::Partial(outcomes))
    }
}

fn classify(item: RawItem) -> ItemOutcome {
    let (RawItem::Create(r) | RawItem::Index(r)) = item;
    let error = r.error.unwrap_or_default();
    match r.status {
        200..=299 => ItemOutcome::Accepted,
        // `create` of an id that exists: an earlier attempt wrote it (Logstash also
        // treats 409 as done, not as a failure to retry).
        409 => ItemOutcome::Accepted,
        s if retryable_status(s) => ItemOutcome::Retry {
            status: r.status,
            error_type: error.kind,
        },
        // Thread-pool rejections are transient whatever status a proxy rewrote.
        _ if error.kind == "es_rejected_execution_exception" => ItemOutcome::Retry {
            status: r.status,
            error_type: error.kind,
        },
        status => ItemOutcome::Rejected {
            status,
            error_type: error.kind,
            reason: error.reason.unwrap_or_default(),
        },
    }
}

/// Type and reason of `{"error":{"type":..,"reason":..},"status":..}`, or the start of
/// a body that is not that shape (a proxy's HTML page), for the log line.
fn top_level_error(body: &[u8]) -> (String, String) {
    #[derive(Deserialize)]
    struct Top {
        error: RawError,
    }
    match serde_json::from_slice::<Top>(body) {
        Ok(t) => (t.error.kind, t.error.reason.unwrap_or_default()),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
            ("unknown".into(), text.into_owned())
        }
    }
}

impl BulkOutcome {
    /// Indices (into the request) of the items to send again, ascending.
    pub fn retryable(&self) -> Vec<usize> {
        match self {
            BulkOutcome::AllAccepted => Vec::new(),
            BulkOutcome::Partial(outcomes) => outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| matches!(o, ItemOutcome::Retry { .. }))
                .map(|(i, _)| i)
                .collect(),
        }
    }
}
