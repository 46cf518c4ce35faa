//! How a send to a sink failed, and whether trying again can help: a property of the
//! error (STYLE 7), so no call site has to guess. The rule is DESIGN.md's sink contract:
//! connection errors, timeouts, 429 and 5xx are retried; any other 4xx is not (it would
//! fail the same way again) and is counted by the caller.

use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SendError {
    /// No connection, or it broke before a response arrived.
    #[error("could not reach the sink: {0}")]
    Connect(String),
    /// No response in time.
    #[error("the sink did not answer in time")]
    Timeout,
    /// The sink answered with an error status, perhaps with a `Retry-After`.
    #[error("the sink answered HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The request could not be built (the batch itself is at fault).
    #[error("could not encode the request: {0}")]
    Encode(String),
}

/// The sink contract's rule for an HTTP status: 429 and 5xx may succeed later; any
/// other status will not change by sending again. Shared by whole requests and by
/// Elasticsearch's per-item statuses.
pub fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

impl SendError {
    /// A status error without a `Retry-After`.
    pub fn status(status: u16) -> Self {
        SendError::Status {
            status,
            retry_after: None,
        }
    }

    /// True when the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Connect(_) | SendError::Timeout => true,
            SendError::Status { status, .. } => retryable_status(*status),
            SendError::Encode(_) => false,
        }
    }

    /// How long the sink asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_what_the_sink_contract_says() {
        let cases = [
            (SendError::Connect("connection refused".into()), true),
            (SendError::Timeout, true),
            (SendError::status(429), true),
            (SendError::status(500), true),
            (SendError::status(502), true),
            (SendError::status(503), true),
            (SendError::status(599), true),
            (SendError::status(400), false),
            (SendError::status(401), false),
            (SendError::status(404), false),
            (SendError::status(408), false),
            (SendError::status(413), false),
            (SendError::Encode("snappy".into()), false),
        ];
        for (error, retry) in cases {
            assert_eq!(error.is_retryable(), retry, "{error}");
        }
    }

    #[test]
    fn carries_the_sinks_retry_after() {
        let e = SendError::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(SendError::Timeout.retry_after(), None);
    }
}
