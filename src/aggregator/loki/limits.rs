//! The push receiver's bounds and the API's optional tokens: settings with Loki's
//! defaults (grafana/loki `pkg/validation/limits.go`), filled by the configuration.

use std::time::Duration;

/// What the receiver accepts. As in Loki, zero disables the line-size and the
/// structured-metadata limits; the others are always in force.
#[derive(Debug, Clone, PartialEq)]
pub struct LokiLimits {
    /// Body bytes as sent (compressed); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Bytes after gzip/deflate or snappy; decompression stops here (413).
    pub max_decompressed_bytes: usize,
    /// Longest line in bytes (Loki's `max_line_size`, 256 KiB); 0: unlimited.
    pub max_line_size: usize,
    /// Cut over-long lines to `max_line_size` instead of refusing them
    /// (`max_line_size_truncate`).
    pub truncate_long_lines: bool,
    /// Labels on one stream (`max_label_names_per_series`).
    pub max_label_names: usize,
    /// Bytes of a label name (`max_label_name_length`).
    pub max_label_name_length: usize,
    /// Bytes of a label value (`max_label_value_length`).
    pub max_label_value_length: usize,
    /// Structured-metadata bytes (names and values) of one entry.
    pub max_metadata_bytes: usize,
    /// Structured-metadata pairs of one entry.
    pub max_metadata_entries: usize,
    /// Active streams (`max_global_streams_per_user`); a push creating more gets 429.
    pub max_streams: usize,
    /// A stream without pushes for this long stops counting as active (Loki drops a
    /// stream from the ingester after `chunk_idle_period` without entries).
    pub stream_idle: Duration,
    /// Sustained ingestion rate in bytes/s of lines and metadata (`ingestion_rate_mb`).
    pub ingestion_rate_bytes: u64,
    /// Token-bucket burst in bytes (`ingestion_burst_size_mb`); a push larger than
    /// this is always refused.
    pub ingestion_burst_bytes: u64,
    /// Refuse entries older than this (`reject_old_samples_max_age`); none: accept.
    pub reject_older_than: Option<Duration>,
    /// Refuse entries newer than now plus this (`creation_grace_period`).
    pub creation_grace: Duration,
    /// Open `/loki/api/v1/tail` websockets (`max_concurrent_tail_requests`); one more
    /// gets 400.
    pub max_tailers: usize,
    /// A tail is closed after this long (Loki's `tail_max_duration`, 1 h).
    pub tail_max_duration: Duration,
}

impl Default for LokiLimits {
    fn default() -> Self {
        const MIB: u64 = 1 << 20;
        LokiLimits {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 64 << 20,
            max_line_size: 256 << 10,
            truncate_long_lines: false,
            max_label_names: 15,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            max_metadata_bytes: 64 << 10,
            max_metadata_entries: 128,
            max_streams: 5000,
            stream_idle: Duration::from_secs(30 * 60),
            ingestion_rate_bytes: 4 * MIB,
            ingestion_burst_bytes: 6 * MIB,
            reject_older_than: Some(Duration::from_secs(7 * 24 * 3600)),
            creation_grace: Duration::from_secs(10 * 60),
            max_tailers: 10,
            tail_max_duration: Duration::from_secs(3600),
        }
    }
}

/// Bearer tokens the API requires; none: open. `X-Scope-OrgID` is accepted and
/// ignored: the aggregator holds one tenant.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LokiAuth {
    /// Required on `POST /loki/api/v1/push`.
    pub ingest_token: Option<String>,
    /// Required on the query and metadata routes (`/ready` stays open for probes).
    pub query_token: Option<String>,
}

impl std::fmt::Debug for LokiAuth {
    /// Never prints a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LokiAuth")
            .field("ingest_token", &self.ingest_token.as_ref().map(|_| "<set>"))
            .field("query_token", &self.query_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Whether an `Authorization` header value carries `token` as a bearer token. The
/// comparison takes the same time wherever the first difference is.
pub fn bearer_matches(header: Option<&[u8]>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| strip_bearer(h)) else {
        return false;
    };
    constant_time_eq(given, token.as_bytes())
}

fn strip_bearer(h: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = h.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

/// Equal lengths compare every byte; only the length can leak, not the content.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let cases: &[(Option<&[u8]>, bool)] = &[
            (Some(b"Bearer s3cret"), true),
            (Some(b"bearer s3cret"), true),
            (Some(b"Bearer  s3cret "), true),
            (Some(b"Bearer s3cre"), false),
            (Some(b"Bearer s3cret2"), false),
            (Some(b"Basic s3cret"), false),
            (Some(b"s3cret"), false),
            (Some(b"Bearer"), false),
            (Some(b"Bearer \xff\xfe"), false),
            (None, false),
        ];
        for (header, want) in cases {
            assert_eq!(bearer_matches(*header, "s3cret"), *want, "{header:?}");
        }
    }

    #[test]
    fn debug_hides_tokens() {
        let auth = LokiAuth {
            ingest_token: Some("s3cret".into()),
            query_token: None,
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
