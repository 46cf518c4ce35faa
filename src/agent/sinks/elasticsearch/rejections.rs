//! Rejected documents counted by Elasticsearch error type, for a
//! `nodepulse_sink_rejected_total{sink="elasticsearch",reason="..."}` counter.
//!
//! Bounded: the error type comes from the server, so the first [`MAX_REASONS`]
//! distinct types get their own series and the rest count under `other`.

use super::response::{BulkOutcome, ItemOutcome};
use std::collections::BTreeMap;

pub const MAX_REASONS: usize = 32;
const OTHER: &str = "other";

/// Counts per reason; a plain snapshot the metrics collector copies on each scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectionCounts {
    by_reason: BTreeMap<String, u64>,
}

impl RejectionCounts {
    /// Adds `n` rejected documents under `reason` (an empty reason counts as `unknown`).
    pub fn add(&mut self, reason: &str, n: u64) {
        let reason = if reason.is_empty() { "unknown" } else { reason };
        let key = if self.by_reason.contains_key(reason) || self.by_reason.len() < MAX_REASONS {
            reason
        } else {
            OTHER
        };
        match self.by_reason.get_mut(key) {
            Some(count) => *count += n,
            None => {
                self.by_reason.insert(key.to_owned(), n);
            }
        }
    }

    /// Counts every rejected item of `outcome`.
    pub fn record(&mut self, outcome: &BulkOutcome) {
        if let BulkOutcome::Partial(items) = outcome {
            for item in items {
                if let ItemOutcome::Rejected { error_type, .. } = item {
                    self.add(error_type, 1);
                }
            }
        }
    }

    pub fn get(&self, reason: &str) -> u64 {
        self.by_reason.get(reason).copied().unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.by_reason.iter().map(|(k, v)| (k.as_str(), *v))
    }
}
