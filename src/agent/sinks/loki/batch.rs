//! Batches of Loki entries: entries grouped by stream label set in arrival order, held
//! directly as the protobuf messages, with the encoded size kept up to date so the caller
//! can cut a batch by bytes and by count before encoding it.
//!
//! The size is the exact length of the uncompressed protobuf `PushRequest`, kept with
//! prost's own length arithmetic as entries arrive (each push costs a few additions). The
//! snappy body is smaller; the JSON body is larger (quoted timestamps, escaping: about 35
//! bytes more per entry for 200-byte lines), so limits are in protobuf bytes whichever
//! format is sent.
//!
//! Order: entries keep their write order within a stream and are not sorted by time.
//! Since Loki 2.4 (`unordered_writes`, on by default) the ingester accepts out-of-order
//! entries within a stream unless they are older than its newest entry by more than half
//! of `max_chunk_age` (2 h by default, so 1 h); a container's file is read in order
//! anyway, so write order is already time order but for clock steps.

use super::labels::{is_valid_name, sanitize_name, StreamLabels};
use crate::loki_proto::{EntryAdapter, LabelPairAdapter, StreamAdapter, Timestamp};
use prost::encoding::{encoded_len_varint, key_len};
use prost::Message;
use std::collections::HashMap;

/// One log line on its way to Loki.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiEntry {
    /// Nanoseconds since the Unix epoch (the CRI timestamp of the line).
    pub timestamp_ns: i64,
    /// The line, already valid UTF-8 (decode replaces invalid bytes upstream).
    pub line: String,
    /// Structured metadata: high-cardinality per-line fields (pod uid, restart count,
    /// level, trace_id, ...). Names are sanitized like label names when batched.
    pub metadata: Vec<(String, String)>,
}

/// When a batch is full. An empty batch always takes one entry, even one larger than
/// `max_bytes`, so an oversized line is sent alone rather than stuck for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Uncompressed protobuf bytes. Default 1 MiB: Promtail's default `batchsize`, well
    /// under the 4 MiB gRPC message limit a Loki distributor forwards to its ingesters.
    pub max_bytes: usize,
    /// Entries. Default 10,000, which bounds the encoding work of one request.
    pub max_entries: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_bytes: 1 << 20,
            max_entries: 10_000,
        }
    }
}

/// One stream of a batch: its labels and its entries as the protobuf message.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub labels: StreamLabels,
    pub(super) message: StreamAdapter,
    /// `message.encoded_len()`, kept as entries arrive: prost's would walk every entry.
    body_len: usize,
}

impl Stream {
    pub fn entries(&self) -> &[EntryAdapter] {
        &self.message.entries
    }

    /// Length of this stream as a `PushRequest` field (key, length prefix, body).
    fn framed_len(&self) -> usize {
        framed(1, self.body_len)
    }

    fn push(&mut self, entry: EntryAdapter) {
        self.body_len += framed(2, entry.encoded_len());
        self.message.entries.push(entry);
    }
}

/// Entries grouped by stream, in the order their streams first appeared.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    streams: Vec<Stream>,
    index: HashMap<StreamLabels, usize>,
    entries: usize,
    encoded_len: usize,
}

impl Batch {
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds `entry` to the stream named by `labels`, creating that stream if needed.
    pub fn push(&mut self, labels: &StreamLabels, entry: LokiEntry) {
        let i = match self.index.get(labels) {
            Some(&i) => i,
            None => self.add_stream(labels),
        };
        let stream = &mut self.streams[i];
        let before = stream.framed_len();
        stream.push(to_message(entry));
        self.encoded_len += stream.framed_len() - before;
        self.entries += 1;
    }

    /// Whether `entry` for `labels` can join without passing `limits`; the caller sends
    /// the batch first when it cannot. Never false for an empty batch.
    pub fn fits(&self, labels: &StreamLabels, entry: &LokiEntry, limits: &BatchLimits) -> bool {
        if self.is_empty() {
            return true;
        }
        let added = self.added_len(labels, entry);
        self.entries < limits.max_entries && self.encoded_len + added <= limits.max_bytes
    }

    /// Exact length of the uncompressed protobuf `PushRequest` for this batch.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    fn add_stream(&mut self, labels: &StreamLabels) -> usize {
        let rendered = labels.render();
        let stream = Stream {
            labels: labels.clone(),
            body_len: string_len(1, &rendered),
            message: StreamAdapter {
                labels: rendered,
                entries: Vec::new(),
                hash: 0,
            },
        };
        self.encoded_len += stream.framed_len();
        self.index.insert(labels.clone(), self.streams.len());
        self.streams.push(stream);
        self.streams.len() - 1
    }

    /// An upper bound of what pushing `entry` adds: the entry, and either a new stream or
    /// the growth of its stream's length prefix (at most 4 bytes below 4 GiB).
    fn added_len(&self, labels: &StreamLabels, entry: &LokiEntry) -> usize {
        let entry_len = framed(2, entry_len(entry));
        match self.index.get(labels) {
            Some(_) => entry_len + 4,
            None => {
                let labels_len = framed(1, labels.render().len());
                framed(1, labels_len + entry_len)
            }
        }
    }
}

/// Moves an entry into its protobuf message, sanitizing metadata names.
fn to_message(entry: LokiEntry) -> EntryAdapter {
    EntryAdapter {
        timestamp: Some(Timestamp::from_unix_nanos(entry.timestamp_ns)),
        line: entry.line,
        structured_metadata: entry
            .metadata
            .into_iter()
            .map(|(name, value)| LabelPairAdapter {
                // Most names are valid already: keep their allocation.
                name: if is_valid_name(&name) {
                    name
                } else {
                    sanitize_name(&name)
                },
                value,
            })
            .collect(),
    }
}

/// Length of the `EntryAdapter` body `entry` becomes, without building it. Sanitizing
/// keeps a name's length except for the `_` it may prefix, counted as one byte more.
fn entry_len(entry: &LokiEntry) -> usize {
    let ts = Timestamp::from_unix_nanos(entry.timestamp_ns);
    let metadata: usize = entry
        .metadata
        .iter()
        .map(|(n, v)| framed(3, framed(1, n.len() + 1) + string_len(2, v)))
        .sum();
    framed(1, ts.encoded_len()) + string_len(2, &entry.line) + metadata
}

/// A length-delimited field: key, length varint, body.
fn framed(tag: u32, body: usize) -> usize {
    key_len(tag) + encoded_len_varint(body as u64) + body
}

/// A proto3 string field, which is left out when empty.
fn string_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        framed(tag, s.len())
    }
}
