//! The Loki sink's request encoding: log entries grouped into per-stream batches and
//! written as the body of Loki's push API (`POST /loki/api/v1/push`), snappy protobuf by
//! default or JSON (optionally gzip). No I/O here: the HTTP client and its retries take
//! the encoded request and send it.
//!
//! Stream labels stay low-cardinality (namespace, pod, container, node, stream); every
//! other field of a line travels as structured metadata on its entry.

mod labels;
pub mod proto;

pub use labels::{escape_value, sanitize_name, LabelsError, StreamLabels};
