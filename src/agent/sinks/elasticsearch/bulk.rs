//! The `_bulk` request body: NDJSON pairs of an action line and a document line, every
//! line ending in `\n`, the last one included (Elasticsearch answers 400 "The bulk
//! request must be terminated by a newline" otherwise).
//!
//! The op is always `create`. Data streams accept nothing else; on a plain index with
//! generated ids it behaves as `index` does; and if ids are ever derived from the line
//! (to make retries idempotent) `create` answers 409 for a document an earlier attempt
//! already wrote instead of overwriting it, which [`super::response`] counts as
//! delivered. The index goes in every action line, so the URL is always `/_bulk` and one
//! batch may span midnight under a daily pattern.
//!
//! The request keeps each document's byte range and its position in the original
//! batch, so a retry of only the failed items, or a split after a 413, copies bytes
//! instead of serializing again, and outcomes map back to the caller's documents.

use super::document::EsDocument;
use super::index::{IndexTarget, NameCache};
use std::ops::Range;

/// `Content-Type` of a bulk body.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

/// An encoded bulk body and where each item sits in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRequest {
    body: Vec<u8>,
    /// Byte range of item i (its action line and document line).
    items: Vec<Range<usize>>,
    /// Position of item i in the batch first encoded.
    positions: Vec<usize>,
}

/// Whether the body goes on the wire gzipped (`Content-Encoding: gzip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
}

impl Compression {
    /// The `Content-Encoding` header value, if any.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
        }
    }
}

impl BulkRequest {
    /// Encodes `docs` for `target`, in order.
    pub fn encode(docs: &[EsDocument], target: &IndexTarget) -> BulkRequest {
        let mut body = Vec::with_capacity(docs.len() * 512);
        let mut items = Vec::with_capacity(docs.len());
        let mut names = NameCache::default();
        for doc in docs {
            let start = body.len();
            write_action(&mut body, names.get(target, doc.unix_nanos));
            // Serializing plain strings and maps into a Vec cannot fail; serde_json
            // escapes every control character, so the document stays on one line.
            serde_json::to_writer(&mut body, doc).expect("documents serialize");
            body.push(b'\n');
            items.push(start..body.len());
        }
        BulkRequest {
            body,
            items,
            positions: (0..docs.len()).collect(),
        }
    }

    /// The uncompressed NDJSON body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// How many documents the request carries (the response must list as many items).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// For each item, its position in the batch first encoded.
    pub fn positions(&self) -> &[usize] {
        &self.positions
    }

    /// A request holding only the items at `indices` (indices into this request,
    /// ascending), in this request's order.
    pub fn subset(&self, indices: impl IntoIterator<Item = usize>) -> BulkRequest {
        let mut out = BulkRequest {
            body: Vec::new(),
            items: Vec::new(),
            positions: Vec::new(),
        };
        for i in indices {
            let range = self.items[i].clone();
            let start = out.body.len();
            out.body.extend_from_slice(&self.body[range]);
            out.items.push(start..out.body.len());
            out.positions.push(self.positions[i]);
        }
        out
    }

    /// Two halves, for a 413 (body above `http.max_content_length`); `None` for a
    /// single document, which can never fit and must be rejected.
    pub fn split(&self) -> Option<(BulkRequest, BulkRequest)> {
        if self.len() < 2 {
            return None;
        }
        let mid = self.len() / 2;
        Some((self.subset(0..mid), self.subset(mid..self.len())))
    }

    /// The body as it goes on the wire.
    pub fn wire_body(&self, compression: Compression) -> Vec<u8> {
        match compression {
            Compression::None => self.body.clone(),
            Compression::Gzip => gzip(&self.body),
        }
    }
}

fn write_action(out: &mut Vec<u8>, index: &str) {
    out.extend_from_slice(b"{\"create\":{\"_index\":");
    // Validated names hold no quote or backslash, but escaping costs nothing here.
    serde_json::to_writer(&mut *out, index).expect("a string serializes");
    out.extend_from_slice(b"}}\n");
}

pub use crate::gzip::compress_fast as gzip;
