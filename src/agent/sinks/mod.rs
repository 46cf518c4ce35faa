//! The log sinks: Loki push and Elasticsearch bulk, with shared retry/backoff.

pub mod loki;
