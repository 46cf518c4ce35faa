//! The Loki sink: log entries grouped into per-stream batches and
//! written as the body of Loki's push API (`POST /loki/api/v1/push`), snappy protobuf by
//! default or JSON (optionally gzip), and delivered with retries by [`LokiSender`]
//! (send.rs, the only file here that does I/O).
//!
//! Stream labels stay low-cardinality (namespace, pod, container, node, stream); every
//! other field of a line travels as structured metadata on its entry.

mod batch;
mod encode;
pub mod labels;
mod send;
mod wire;

/// The push messages, shared with the aggregator's receiver (`crate::loki_proto`).
pub use crate::loki_proto as proto;

pub use batch::{Batch, BatchLimits, LokiEntry, Stream};
pub use encode::{encode, json, protobuf, snappy, EncodeError, EncodedRequest, Format, Snappy};
pub use labels::{escape_value, is_valid_name, sanitize_name, LabelsError, StreamLabels};
pub use send::{Delivery, LokiSender, LokiStats};
pub use wire::{write_push, PushEntry, StreamEntries};

/// The push API's path, relative to Loki's base URL.
pub const PUSH_PATH: &str = "/loki/api/v1/push";

#[cfg(test)]
mod tests;
