//! Delivering one encoded push request to Loki, to the end: POST it; a 2xx (Loki
//! answers 204) acknowledges the batch; a retryable failure (connection, timeout, 429,
//! 5xx) waits the backoff, at least the `Retry-After`, and sends the same bytes again,
//! for as long as it takes; any other answer rejects the batch, logged and counted. What
//! a rejection means for the checkpoints is the caller's decision, from [`Delivery`].

use super::encode::EncodedRequest;
use crate::agent::sinks::error::SendError;
use crate::agent::sinks::http::{HttpClient, HttpRequest};
use crate::agent::sinks::retry::{Retry, Sleeper, TokioSleeper};
use std::collections::BTreeMap;
use tracing::warn;

/// How the delivery of one batch ended.
#[derive(Debug)]
pub enum Delivery {
    /// Loki acknowledged it after `attempts` requests.
    Delivered { attempts: u32 },
    /// Loki refused it for good (a 4xx other than 429): sending it again cannot help.
    Rejected {
        attempts: u32,
        error: SendError,
        /// The start of Loki's answer, which says why (e.g. "entry too far behind").
        body: String,
    },
    /// Shutdown came first; the batch is not acknowledged.
    Cancelled { attempts: u32 },
}

/// Counters of the Loki sink, a plain snapshot for the metrics collector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LokiStats {
    /// Requests sent, first attempts and retries.
    pub requests: u64,
    pub retries: u64,
    pub batches_delivered: u64,
    pub batches_rejected: u64,
    /// Rejected batches by HTTP status (0: the request could not be built).
    pub rejected_by_status: BTreeMap<u16, u64>,
}

impl From<EncodedRequest> for HttpRequest {
    fn from(r: EncodedRequest) -> Self {
        HttpRequest {
            body: r.body.into(),
            content_type: r.content_type,
            content_encoding: r.content_encoding,
        }
    }
}

/// Sends push requests to one Loki URL (the full push URL, ending in
/// [`super::PUSH_PATH`]).
#[derive(Debug)]
pub struct LokiSender<S = TokioSleeper> {
    client: HttpClient,
    retry: Retry<S>,
    stats: LokiStats,
}

impl<S: Sleeper> LokiSender<S> {
    pub fn new(client: HttpClient, retry: Retry<S>) -> Self {
        LokiSender {
            client,
            retry,
            stats: LokiStats::default(),
        }
    }

    pub fn stats(&self) -> &LokiStats {
        &self.stats
    }

    /// Delivers `request`, retrying as the sink contract says until it is acknowledged,
    /// rejected, or shutdown comes.
    pub async fn deliver(&mut self, request: EncodedRequest) -> Delivery {
        let request = HttpRequest::from(request);
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.stats.requests += 1;
            let Ok(answer) = self.retry.or_cancel(self.client.exchange(&request)).await else {
                return Delivery::Cancelled { attempts };
            };
            let (error, body) = match answer {
                Ok(r) if r.is_success() => {
                    self.stats.batches_delivered += 1;
                    return Delivery::Delivered { attempts };
                }
                Ok(r) => (r.error().expect("not a 2xx"), r.snippet()),
                Err(e) => (e, String::new()),
            };
            if !error.is_retryable() {
                return self.reject(attempts, error, body);
            }
            let Ok(delay) = self.retry.wait(attempts - 1, error.retry_after()).await else {
                return Delivery::Cancelled { attempts };
            };
            self.stats.retries += 1;
            warn!(attempts, %error, ?delay, "Loki push failed; retrying after the delay.");
        }
    }

    fn reject(&mut self, attempts: u32, error: SendError, body: String) -> Delivery {
        let status = match error {
            SendError::Status { status, .. } => status,
            _ => 0,
        };
        self.stats.batches_rejected += 1;
        *self.stats.rejected_by_status.entry(status).or_default() += 1;
        warn!(
            url = %self.client.url(), status, attempts, %error, answer = %body,
            "Loki refused a batch; it is not retried."
        );
        Delivery::Rejected {
            attempts,
            error,
            body,
        }
    }
}
