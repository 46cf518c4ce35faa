//! The Loki sink's request encoding: log entries grouped into per-stream batches and
//! written as the body of Loki's push API (`POST /loki/api/v1/push`), snappy protobuf by
//! default or JSON (optionally gzip). No I/O here: the HTTP client and its retries take
//! an [`EncodedRequest`] and send it.
//!
//! Stream labels stay low-cardinality (namespace, pod, container, node, stream); every
//! other field of a line travels as structured metadata on its entry.

mod batch;
mod encode;
mod labels;
pub mod proto;

pub use batch::{Batch, BatchLimits, LokiEntry, Stream};
pub use encode::{encode, json, protobuf, EncodeError, EncodedRequest, Format};
pub use labels::{escape_value, is_valid_name, sanitize_name, LabelsError, StreamLabels};

/// The push API's path, relative to Loki's base URL.
pub const PUSH_PATH: &str = "/loki/api/v1/push";

#[cfg(test)]
mod tests;
