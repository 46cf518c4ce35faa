//! The log sinks, Loki push and Elasticsearch `_bulk` (issue 3), and what they share:
//! how a send failed and whether that is worth retrying ([`error`]), how long to wait
//! before the next try ([`backoff`], [`retry_after`]).

pub mod backoff;
pub mod elasticsearch;
pub mod error;
pub mod http;
pub mod loki;
pub mod retry;
pub mod retry_after;
