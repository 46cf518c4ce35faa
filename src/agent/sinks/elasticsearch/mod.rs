//! The Elasticsearch/OpenSearch `_bulk` sink: documents to an NDJSON body
//! (optionally gzipped), and a bulk answer to a verdict per document, from which the
//! request for only the retryable documents is built. [`BulkSender`] (send.rs, the
//! only file here that does I/O) runs the loop below: it sends
//! [`BulkRequest::wire_body`], passes the status and body to [`interpret`], and sleeps
//! with the shared backoff unit between attempts.
//!
//! ```text
//! [EsDocument] ─▶ BulkRequest::encode(target) ─▶ POST /_bulk ─▶ interpret(status, body)
//!     Ok(AllAccepted)            ─▶ ack the batch
//!     Ok(Partial(outcomes))      ─▶ ack accepted + rejected (counted),
//!                                   request.retry_request(&outcome) after a backoff
//!     Err(e) by e.action():  Retry ─▶ same request after a backoff
//!                            Split ─▶ request.split() (413)
//!                            Reject ─▶ count every document, ack
//! ```

pub mod bulk;
pub mod civil;
pub mod document;
pub mod index;
pub mod rejections;
pub mod response;
pub mod send;

#[cfg(test)]
mod tests;

pub use bulk::{BulkRequest, Compression, CONTENT_TYPE};
pub use document::{EsDocument, KubernetesMeta};
pub use index::{IndexError, IndexTarget};
pub use rejections::RejectionCounts;
pub use response::{interpret, BatchAction, BulkError, BulkOutcome, ItemOutcome};
pub use send::{bulk_url, BulkDelivery, BulkSender, EsStats};

/// How many documents of an answer fall in each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub accepted: usize,
    pub retry: usize,
    pub rejected: usize,
}

impl BulkOutcome {
    /// Counts the outcomes of an answer to a request of `sent` documents.
    pub fn tally(&self, sent: usize) -> Tally {
        let BulkOutcome::Partial(items) = self else {
            return Tally {
                accepted: sent,
                ..Tally::default()
            };
        };
        let mut t = Tally::default();
        for item in items {
            match item {
                ItemOutcome::Accepted => t.accepted += 1,
                ItemOutcome::Retry { .. } => t.retry += 1,
                ItemOutcome::Rejected { .. } => t.rejected += 1,
            }
        }
        t
    }
}

impl BulkRequest {
    /// The request to send again after `outcome`: only the items to retry, in their
    /// original order; `None` when there are none.
    pub fn retry_request(&self, outcome: &BulkOutcome) -> Option<BulkRequest> {
        let retry = outcome.retryable();
        (!retry.is_empty()).then(|| self.subset(retry))
    }
}
