//! A batch as the body of `POST /loki/api/v1/push`, in either format the distributor
//! reads (grafana/loki `pkg/loghttp/push/push.go`, `ParseLokiRequest`):
//!
//! - protobuf: `logproto.PushRequest` compressed with snappy's *block* format (Go's
//!   `snappy.Decode`, `util.RawSnappy`), not the framed stream format. Content-Type
//!   `application/x-protobuf`; no Content-Encoding, which the distributor does not need
//!   (it accepts `snappy` there and ignores it).
//! - JSON: `{"streams":[{"stream":{..},"values":[["<ns>","<line>",{..}]]}]}`,
//!   Content-Type `application/json`, optionally gzip with `Content-Encoding: gzip`.

use super::batch::{Batch, Stream};
use crate::loki_proto::{EntryAdapter, LabelPairAdapter};
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;

/// The body formats of the push API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Snappy-compressed protobuf, what Promtail and Alloy send.
    #[default]
    Protobuf,
    /// JSON, uncompressed.
    Json,
    /// JSON compressed with gzip.
    JsonGzip,
}

/// A request body and the headers that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub content_encoding: Option<&'static str>,
}

/// Why a batch could not be encoded. Not retryable: the same batch fails again.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Snappy's block format cannot hold more than about 4 GiB (never reached with
    /// [`super::BatchLimits`] in force).
    #[error("snappy could not compress a {len}-byte push request: {source}")]
    Snappy { len: usize, source: snap::Error },
}

/// Encodes `batch` in `format`.
pub fn encode(batch: &Batch, format: Format) -> Result<EncodedRequest, EncodeError> {
    match format {
        Format::Protobuf => Ok(EncodedRequest {
            body: protobuf_snappy(batch)?,
            content_type: "application/x-protobuf",
            content_encoding: None,
        }),
        Format::Json => Ok(EncodedRequest {
            body: json(batch),
            content_type: "application/json",
            content_encoding: None,
        }),
        Format::JsonGzip => Ok(EncodedRequest {
            body: crate::gzip::compress_fast(&json(batch)),
            content_type: "application/json",
            content_encoding: Some("gzip"),
        }),
    }
}

/// The uncompressed `PushRequest`: each stream written as field 1, exactly what the
/// derived `PushRequest::encode` writes, without moving the streams into one.
pub fn protobuf(batch: &Batch) -> Vec<u8> {
    let mut buf = Vec::with_capacity(batch.encoded_len());
    for stream in batch.streams() {
        prost::encoding::message::encode(1, &stream.message, &mut buf);
    }
    buf
}

fn protobuf_snappy(batch: &Batch) -> Result<Vec<u8>, EncodeError> {
    snappy_block(protobuf(batch))
}

/// The request of an uncompressed `PushRequest` (written by [`super::write_push`]):
/// snappy once over the whole body.
pub fn snappy(raw: &[u8]) -> Result<EncodedRequest, EncodeError> {
    Snappy::default().request(raw)
}

fn snappy_block(raw: Vec<u8>) -> Result<Vec<u8>, EncodeError> {
    Snappy::default().compress(&raw)
}

/// Snappy's block compressor with its hash table and output buffer kept across
/// requests: `compress_vec` allocates and zeroes a fresh output of ~7/6 of the input
/// each call, which cost a sender as much as a fifth of snappy's own time (memset and
/// page faults, BENCHMARKS.md). The body handed out is a copy of the compressed bytes
/// only (about a third of the input for logs).
pub struct Snappy {
    encoder: snap::raw::Encoder,
    out: Vec<u8>,
}

impl Default for Snappy {
    fn default() -> Self {
        Snappy {
            encoder: snap::raw::Encoder::new(),
            out: Vec::new(),
        }
    }
}

impl Snappy {
    /// The protobuf push request of the uncompressed `raw` body.
    pub fn request(&mut self, raw: &[u8]) -> Result<EncodedRequest, EncodeError> {
        Ok(EncodedRequest {
            body: self.compress(raw)?,
            content_type: "application/x-protobuf",
            content_encoding: None,
        })
    }

    fn compress(&mut self, raw: &[u8]) -> Result<Vec<u8>, EncodeError> {
        let error = |source| EncodeError::Snappy {
            len: raw.len(),
            source,
        };
        // 0 when `raw` is too big: `compress` then says so.
        let max = snap::raw::max_compress_len(raw.len());
        if self.out.len() < max {
            self.out.resize(max, 0);
        }
        let n = self.encoder.compress(raw, &mut self.out).map_err(error)?;
        Ok(self.out[..n].to_vec())
    }
}

/// The JSON body. Writing into a `Vec` cannot fail and every key is a string.
pub fn json(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.encoded_len() + 48 * batch.len());
    serde_json::to_writer(&mut out, &JsonPush(batch)).expect("JSON into a Vec cannot fail");
    out
}

struct JsonPush<'a>(&'a Batch);
struct JsonStream<'a>(&'a Stream);
struct JsonValues<'a>(&'a [EntryAdapter]);
struct JsonEntry<'a>(&'a EntryAdapter);
struct JsonMetadata<'a>(&'a [LabelPairAdapter]);

impl Serialize for JsonPush<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("push", 1)?;
        st.serialize_field("streams", &JsonStreams(self.0.streams()))?;
        st.end()
    }
}

struct JsonStreams<'a>(&'a [Stream]);

impl Serialize for JsonStreams<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(JsonStream))
    }
}

impl Serialize for JsonStream<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("stream", 2)?;
        st.serialize_field("stream", self.0.labels.as_map())?;
        st.serialize_field("values", &JsonValues(self.0.entries()))?;
        st.end()
    }
}

impl Serialize for JsonValues<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(JsonEntry))
    }
}

/// `["<ns since epoch, as a string>", "<line>"]`, with a third element, an object of
/// structured metadata, only when there is some (Loki accepts both shapes).
impl Serialize for JsonEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let metadata = !e.structured_metadata.is_empty();
        let mut seq = s.serialize_seq(Some(2 + usize::from(metadata)))?;
        let ns = e.timestamp.unwrap_or_default().unix_nanos();
        seq.serialize_element(&ns.to_string())?;
        seq.serialize_element(&e.line)?;
        if metadata {
            seq.serialize_element(&JsonMetadata(&e.structured_metadata))?;
        }
        seq.end()
    }
}

impl Serialize for JsonMetadata<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for pair in self.0 {
            map.serialize_entry(&pair.name, &pair.value)?;
        }
        map.end()
    }
}
