//! Delivering one `_bulk` request to the end: POST it (gzip if configured), read every
//! item's verdict with [`interpret`], and send again only what is worth it:
//!
//! - items answered 429/5xx: only they, after the backoff ([`BulkRequest::retry_request`]);
//!   the accepted ones are never sent twice by this loop;
//! - a whole-batch 429/5xx, a connection error or an answer that cannot be tied to the
//!   documents: the same request, after the backoff (at least the `Retry-After`);
//! - 413: the request split in halves, each delivered in turn; one document that is
//!   still too large is rejected;
//! - other 4xx (for an item or the batch): rejected, logged, counted by reason.

use super::bulk::{BulkRequest, Compression, CONTENT_TYPE};
use super::rejections::RejectionCounts;
use super::response::{interpret, BatchAction, BulkError, BulkOutcome};
use crate::agent::sinks::error::SendError;
use crate::agent::sinks::http::{HttpClient, HttpRequest, HttpResponse};
use crate::agent::sinks::retry::{Cancelled, Retry, Sleeper, TokioSleeper};
use std::time::Duration;
use tracing::warn;

/// The path and query of the bulk endpoint, after the configured base URL. The
/// `filter_path` keeps only what [`interpret`] reads, so a 10,000-item answer is a few
/// hundred kilobytes instead of several megabytes.
pub const BULK_PATH: &str =
    "/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason";

/// The bulk URL for an Elasticsearch/OpenSearch base URL (`http://es:9200`).
pub fn bulk_url(base: &str) -> String {
    format!("{}{BULK_PATH}", base.trim_end_matches('/'))
}

/// The reason counted for a single document larger than the server accepts.
pub const TOO_LARGE: &str = "request_too_large";

/// How the delivery of one batch ended. Every document is accepted, rejected or (only
/// after shutdown) unsent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkDelivery {
    /// Requests sent for this batch, retries and halves included.
    pub attempts: u32,
    pub accepted: usize,
    pub rejected: usize,
    /// Positions in the batch of documents not acknowledged because shutdown came,
    /// ascending; empty when the delivery completed.
    pub unsent: Vec<usize>,
}

impl BulkDelivery {
    pub fn is_complete(&self) -> bool {
        self.unsent.is_empty()
    }
}

/// Counters of the Elasticsearch sink, a plain snapshot for the metrics collector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EsStats {
    pub requests: u64,
    pub retries: u64,
    pub splits: u64,
    pub documents_accepted: u64,
    /// Rejected documents by Elasticsearch error type.
    pub rejected: RejectionCounts,
}

/// What became of one request (a batch or a part of it).
enum Piece {
    Done,
    Split(BulkRequest, BulkRequest),
    Cancelled(BulkRequest),
}

/// What to do after one answer to `request`.
enum Next {
    Done,
    Again {
        request: BulkRequest,
        retry_after: Option<Duration>,
    },
    Split(BulkRequest, BulkRequest),
}

/// Sends bulk requests to one URL (see [`bulk_url`]).
#[derive(Debug)]
pub struct BulkSender<S = TokioSleeper> {
    client: HttpClient,
    retry: Retry<S>,
    compression: Compression,
    stats: EsStats,
}

impl<S: Sleeper> BulkSender<S> {
    pub fn new(client: HttpClient, retry: Retry<S>, compression: Compression) -> Self {
        BulkSender {
            client,
            retry,
            compression,
            stats: EsStats::default(),
        }
    }

    pub fn stats(&self) -> &EsStats {
        &self.stats
    }

    /// Delivers `request` until every document is accepted or rejected, or shutdown.
    pub async fn deliver(&mut self, request: BulkRequest) -> BulkDelivery {
        let mut out = BulkDelivery::default();
        let mut pending = vec![request];
        while let Some(request) = pending.pop() {
            match self.deliver_piece(request, &mut out).await {
                Piece::Done => {}
                Piece::Split(first, second) => pending.extend([second, first]),
                Piece::Cancelled(request) => {
                    pending.push(request);
                    out.unsent = pending
                        .iter()
                        .flat_map(|r| r.positions())
                        .copied()
                        .collect();
                    out.unsent.sort_unstable();
                    return out;
                }
            }
        }
        out
    }

    async fn deliver_piece(&mut self, mut request: BulkRequest, out: &mut BulkDelivery) -> Piece {
        let mut retry = 0;
        loop {
            out.attempts += 1;
            self.stats.requests += 1;
            let wire = self.wire(&request);
            let Ok(answer) = self.retry.or_cancel(self.client.exchange(&wire)).await else {
                return Piece::Cancelled(request);
            };
            let next = match answer {
                Ok(response) => self.judge(request, &response, out),
                Err(e) => self.failed(request, e, out),
            };
            let (again, retry_after) = match next {
                Next::Done => return Piece::Done,
                Next::Split(a, b) => return Piece::Split(a, b),
                Next::Again {
                    request,
                    retry_after,
                } => (request, retry_after),
            };
            request = again;
            if let Err(Cancelled) = self.retry.wait(retry, retry_after).await {
                return Piece::Cancelled(request);
            }
            retry += 1;
            self.stats.retries += 1;
        }
    }

    fn wire(&self, request: &BulkRequest) -> HttpRequest {
        HttpRequest {
            body: request.wire_body(self.compression).into(),
            content_type: CONTENT_TYPE,
            content_encoding: self.compression.content_encoding(),
        }
    }

    /// A request that got no answer: the same again if that can help.
    fn failed(&mut self, request: BulkRequest, e: SendError, out: &mut BulkDelivery) -> Next {
        if e.is_retryable() {
            warn!(url = %self.client.url(), error = %e, "Elasticsearch bulk request failed; retrying after a backoff.");
            return Next::Again {
                request,
                retry_after: None,
            };
        }
        self.reject_all(&request, "request_error", &e.to_string(), out);
        Next::Done
    }

    /// An answer, item by item or for the whole request.
    fn judge(&mut self, request: BulkRequest, r: &HttpResponse, out: &mut BulkDelivery) -> Next {
        let retry_after = r.retry_after;
        match interpret(r.status, &r.body, request.len()) {
            Ok(outcome) => self.partly_done(request, &outcome, retry_after, out),
            Err(e) => match e.action() {
                BatchAction::Retry => {
                    warn!(url = %self.client.url(), error = %e, "Elasticsearch bulk request failed; retrying after a backoff.");
                    Next::Again {
                        request,
                        retry_after,
                    }
                }
                BatchAction::Split => self.split(request, out),
                BatchAction::Reject => {
                    let reason = match &e {
                        BulkError::Refused { error_type, .. } => error_type.as_str(),
                        _ => "unknown",
                    };
                    self.reject_all(&request, reason, &e.to_string(), out);
                    Next::Done
                }
            },
        }
    }

    fn partly_done(
        &mut self,
        request: BulkRequest,
        outcome: &BulkOutcome,
        retry_after: Option<Duration>,
        out: &mut BulkDelivery,
    ) -> Next {
        let tally = outcome.tally(request.len());
        out.accepted += tally.accepted;
        out.rejected += tally.rejected;
        self.stats.documents_accepted += tally.accepted as u64;
        self.stats.rejected.record(outcome);
        if tally.rejected > 0 {
            warn!(
                url = %self.client.url(), rejected = tally.rejected, first = ?first_rejection(outcome),
                "Elasticsearch rejected documents; they are dropped and counted."
            );
        }
        match request.retry_request(outcome) {
            Some(request) => Next::Again {
                request,
                retry_after,
            },
            None => Next::Done,
        }
    }

    fn split(&mut self, request: BulkRequest, out: &mut BulkDelivery) -> Next {
        match request.split() {
            Some((first, second)) => {
                self.stats.splits += 1;
                Next::Split(first, second)
            }
            None => {
                let why = "one document is larger than the server's http.max_content_length";
                self.reject_all(&request, TOO_LARGE, why, out);
                Next::Done
            }
        }
    }

    fn reject_all(
        &mut self,
        request: &BulkRequest,
        reason: &str,
        why: &str,
        out: &mut BulkDelivery,
    ) {
        out.rejected += request.len();
        self.stats.rejected.add(reason, request.len() as u64);
        warn!(
            url = %self.client.url(), rejected = request.len(), reason, error = why,
            "Elasticsearch refused a bulk request; its documents are dropped and counted."
        );
    }
}

fn first_rejection(outcome: &BulkOutcome) -> Option<&super::ItemOutcome> {
    match outcome {
        BulkOutcome::AllAccepted => None,
        BulkOutcome::Partial(items) => items
            .iter()
            .find(|i| matches!(i, super::ItemOutcome::Rejected { .. })),
    }
}
