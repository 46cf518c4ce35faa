//! The receiver's counters: every refused request and entry is counted by reason (Loki's
//! `loki_discarded_samples_total{reason}`; here one counter per reason, since the metric
//! rows carry no labels), so nothing is dropped silently. Exported as rows like the
//! TSDB's `StorageMetrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why entries were refused; the names are Loki's `reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    InvalidLabels,
    MissingLabels,
    MaxLabelNames,
    LabelNameTooLong,
    LabelValueTooLong,
    DuplicateLabelNames,
    LineTooLong,
    TooOld,
    TooNew,
    MetadataTooLarge,
    MetadataTooMany,
    RateLimited,
    StreamLimit,
    /// The store refused them (too far behind, out of bounds, a store limit).
    StoreRefused,
}

impl Reason {
    pub const ALL: [Reason; 14] = [
        Reason::InvalidLabels,
        Reason::MissingLabels,
        Reason::MaxLabelNames,
        Reason::LabelNameTooLong,
        Reason::LabelValueTooLong,
        Reason::DuplicateLabelNames,
        Reason::LineTooLong,
        Reason::TooOld,
        Reason::TooNew,
        Reason::MetadataTooLarge,
        Reason::MetadataTooMany,
        Reason::RateLimited,
        Reason::StreamLimit,
        Reason::StoreRefused,
    ];

    /// The metric of entries refused for this reason.
    pub fn metric(self) -> &'static str {
        match self {
            Reason::InvalidLabels => "nodepulse_loki_discarded_invalid_labels_total",
            Reason::MissingLabels => "nodepulse_loki_discarded_missing_labels_total",
            Reason::MaxLabelNames => "nodepulse_loki_discarded_max_label_names_per_series_total",
            Reason::LabelNameTooLong => "nodepulse_loki_discarded_label_name_too_long_total",
            Reason::LabelValueTooLong => "nodepulse_loki_discarded_label_value_too_long_total",
            Reason::DuplicateLabelNames => "nodepulse_loki_discarded_duplicate_label_names_total",
            Reason::LineTooLong => "nodepulse_loki_discarded_line_too_long_total",
            Reason::TooOld => "nodepulse_loki_discarded_greater_than_max_sample_age_total",
            Reason::TooNew => "nodepulse_loki_discarded_too_far_in_future_total",
            Reason::MetadataTooLarge => {
                "nodepulse_loki_discarded_structured_metadata_too_large_total"
            }
            Reason::MetadataTooMany => {
                "nodepulse_loki_discarded_structured_metadata_too_many_total"
            }
            Reason::RateLimited => "nodepulse_loki_discarded_rate_limited_total",
            Reason::StreamLimit => "nodepulse_loki_discarded_stream_limit_total",
            Reason::StoreRefused => "nodepulse_loki_discarded_store_refused_total",
        }
    }
}

/// Whole requests refused before their entries were looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no or a wrong bearer token.
    Unauthorized,
    /// 413: over the body or decompressed-size limit.
    TooLarge,
    /// 400: a body that cannot be decoded.
    Malformed,
    /// 500: the store failed.
    StoreFailed,
    /// 400: a tail over `max_tailers`.
    TooManyTails,
}

const REFUSALS: [(Refusal, &str, &str); 5] = [
    (
        Refusal::Unauthorized,
        "nodepulse_loki_requests_unauthorized_total",
        "Loki API requests refused for a missing or wrong bearer token (401).",
    ),
    (
        Refusal::TooLarge,
        "nodepulse_loki_push_requests_too_large_total",
        "Push requests over the body or decompressed-size limit (413).",
    ),
    (
        Refusal::Malformed,
        "nodepulse_loki_push_requests_malformed_total",
        "Push requests whose body could not be decoded (400).",
    ),
    (
        Refusal::StoreFailed,
        "nodepulse_loki_push_requests_store_failed_total",
        "Push requests the log store failed to take (500).",
    ),
    (
        Refusal::TooManyTails,
        "nodepulse_loki_tail_requests_refused_total",
        "Tail requests refused over the concurrent-tail limit (400).",
    ),
];

/// The counters; all monotonic.
#[derive(Debug, Default)]
pub struct LokiStats {
    discarded: [AtomicU64; Reason::ALL.len()],
    refused: [AtomicU64; REFUSALS.len()],
    /// Entries the store took.
    pub entries_accepted: AtomicU64,
    /// Line and metadata bytes of valid entries handed to the store.
    pub bytes_received: AtomicU64,
    /// Lines cut to the line-size limit (`truncate_long_lines`).
    pub lines_truncated: AtomicU64,
    /// Lines a tail did not send because its client read too slowly.
    pub tail_dropped_entries: AtomicU64,
    /// Pushes the store took (counted up after each): the rule manager watches it to
    /// evaluate the LogQL groups right after fresh lines land, not a tick later.
    pub pushes_stored: tokio::sync::watch::Sender<u64>,
}

impl LokiStats {
    pub fn discard(&self, reason: Reason, entries: u64) {
        let i = Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.discarded[i].fetch_add(entries, Ordering::Relaxed);
    }

    pub fn discarded(&self, reason: Reason) -> u64 {
        let i = Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.discarded[i].load(Ordering::Relaxed)
    }

    pub fn refuse(&self, what: Refusal) {
        let i = REFUSALS.iter().position(|r| r.0 == what).unwrap_or(0);
        self.refused[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self, what: Refusal) -> u64 {
        let i = REFUSALS.iter().position(|r| r.0 == what).unwrap_or(0);
        self.refused[i].load(Ordering::Relaxed)
    }

    /// `(name, help, type, value)` rows for `/metrics`.
    pub fn rows(&self) -> Vec<(&'static str, &'static str, &'static str, u64)> {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut rows = vec![
            (
                "nodepulse_loki_entries_accepted_total",
                "Log entries the store took from pushes.",
                "counter",
                load(&self.entries_accepted),
            ),
            (
                "nodepulse_loki_bytes_received_total",
                "Line and structured-metadata bytes of valid entries handed to the store.",
                "counter",
                load(&self.bytes_received),
            ),
            (
                "nodepulse_loki_lines_truncated_total",
                "Lines cut to the line-size limit.",
                "counter",
                load(&self.lines_truncated),
            ),
            (
                "nodepulse_loki_tail_dropped_entries_total",
                "Lines /loki/api/v1/tail dropped because the client read too slowly.",
                "counter",
                load(&self.tail_dropped_entries),
            ),
        ];
        for (r, n) in Reason::ALL.iter().zip(&self.discarded) {
            let help = "Pushed log entries refused, by the reason in the name.";
            rows.push((r.metric(), help, "counter", load(n)));
        }
        for ((_, name, help), n) in REFUSALS.iter().zip(&self.refused) {
            rows.push((*name, *help, "counter", load(n)));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_a_distinct_row() {
        let s = LokiStats::default();
        s.discard(Reason::StreamLimit, 3);
        s.refuse(Refusal::TooLarge);
        let rows = s.rows();
        let mut names: Vec<_> = rows.iter().map(|r| r.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), rows.len());
        let get = |n: &str| rows.iter().find(|r| r.0 == n).unwrap().3;
        assert_eq!(get("nodepulse_loki_discarded_stream_limit_total"), 3);
        assert_eq!(get("nodepulse_loki_push_requests_too_large_total"), 1);
        assert_eq!(s.discarded(Reason::StreamLimit), 3);
    }
}
