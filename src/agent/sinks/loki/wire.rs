//! The push request written by hand, straight from borrowed entries: the bytes prost
//! writes for `logproto.PushRequest` ([`super::proto`]), without building a message.
//!
//! Why by hand: building prost's `EntryAdapter`/`LabelPairAdapter` structs meant a
//! `String` per line and per metadata name and value, copied out of the buffer's records
//! only to be copied again into the body, and it was the largest cost of shipping a
//! line (callgrind, BENCHMARKS.md). Here each entry's length is computed once, then
//! everything is written into one buffer; the protobuf subset involved (varints,
//! length-delimited fields, proto3 defaults left out) is small and checked against
//! prost's own encoding in the tests.

use super::labels::{is_valid_name_bytes, sanitize_name};
use std::borrow::Cow;

/// One log line as the writer reads it.
pub trait PushEntry {
    fn timestamp_ns(&self) -> i64;
    /// Valid UTF-8 already (protobuf strings must be): written as it is.
    fn line(&self) -> &[u8];
    /// Structured metadata pairs, valid UTF-8 (bytes: nothing here needs a `str`, and
    /// checking each short string again cost more than writing it); names are
    /// sanitized like label names when written.
    fn metadata(&self) -> impl Iterator<Item = (&[u8], &[u8])>;
    /// Bytes equal for two entries only when their metadata are equal (a record's
    /// metadata block): a run of such entries has its metadata encoded once. `None`:
    /// every entry's is encoded.
    fn metadata_key(&self) -> Option<&[u8]> {
        None
    }
}

/// One stream of a request: its rendered label set (`{a="b"}`) and its entries in
/// order.
pub struct StreamEntries<'a, E> {
    pub labels: &'a str,
    pub entries: Vec<&'a E>,
}

/// Appends the uncompressed `PushRequest` of `streams` to `out`.
pub fn write_push<E: PushEntry>(streams: &[StreamEntries<'_, E>], out: &mut Vec<u8>) {
    let mut lens = Vec::new();
    let mut metadata = MetadataRuns::default();
    for stream in streams {
        lens.clear();
        metadata.clear();
        lens.extend(stream.entries.iter().map(|e| {
            let meta_len = metadata.push(*e);
            entry_len(*e, meta_len)
        }));
        let body = string_field_len(stream.labels.len())
            + lens.iter().map(|&l| field_len(l)).sum::<usize>();
        out.reserve(field_len(body));
        put_key(out, 1);
        put_varint(out, body as u64);
        put_string(out, 1, stream.labels);
        for (i, (entry, &len)) in stream.entries.iter().zip(&lens).enumerate() {
            write_entry(*entry, len, metadata.encoded(i), out);
        }
    }
}

/// The encoded metadata fields of a stream's entries, each run of entries with the same
/// [`PushEntry::metadata_key`] encoded once (names checked and sanitized once).
#[derive(Default)]
struct MetadataRuns<'a> {
    encoded: Vec<u8>,
    /// Per entry, its fields' range in `encoded`.
    ranges: Vec<(usize, usize)>,
    last_key: Option<&'a [u8]>,
}

impl<'a> MetadataRuns<'a> {
    fn clear(&mut self) {
        self.encoded.clear();
        self.ranges.clear();
        self.last_key = None;
    }

    /// Encodes `e`'s metadata (or reuses the previous entry's); returns its length.
    fn push<E: PushEntry>(&mut self, e: &'a E) -> usize {
        let key = e.metadata_key();
        let same = key.is_some() && key == self.last_key;
        let range = match self.ranges.last() {
            Some(&last) if same => last,
            _ => {
                let start = self.encoded.len();
                write_metadata(e, &mut self.encoded);
                (start, self.encoded.len())
            }
        };
        self.last_key = key;
        self.ranges.push(range);
        range.1 - range.0
    }

    fn encoded(&self, i: usize) -> &[u8] {
        let (start, end) = self.ranges[i];
        &self.encoded[start..end]
    }
}

/// `google.protobuf.Timestamp` fields of `ns` since the epoch (nanos in `0..1e9`).
fn timestamp(ns: i64) -> (i64, i64) {
    (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
}

fn timestamp_len(ns: i64) -> usize {
    let (secs, nanos) = timestamp(ns);
    int_field_len(secs) + int_field_len(nanos)
}

/// The `EntryAdapter` body length, with `meta_len` bytes of metadata fields.
fn entry_len<E: PushEntry>(e: &E, meta_len: usize) -> usize {
    field_len(timestamp_len(e.timestamp_ns())) + string_field_len(e.line().len()) + meta_len
}

/// The `StructuredMetadata` fields of `e`.
fn write_metadata<E: PushEntry>(e: &E, out: &mut Vec<u8>) {
    for (n, v) in e.metadata() {
        let n = name(n);
        put_key(out, 3);
        put_varint(
            out,
            (string_field_len(n.len()) + string_field_len(v.len())) as u64,
        );
        put_bytes(out, 1, &n);
        put_bytes(out, 2, v);
    }
}

/// One `EntryAdapter` field of body length `len`: the fields before the line are put
/// together on the stack, then the line and the encoded `metadata` are appended whole
/// (one capacity check each, not one per byte).
fn write_entry<E: PushEntry>(e: &E, len: usize, metadata: &[u8], out: &mut Vec<u8>) {
    let ns = e.timestamp_ns();
    let (secs, nanos) = timestamp(ns);
    let line = e.line();
    let mut head = Head::default();
    head.key(2);
    head.varint(len as u64);
    // prost writes a present optional message even when all its fields are defaults.
    head.key(1);
    head.varint(timestamp_len(ns) as u64);
    head.int(1, secs);
    head.int(2, nanos);
    if !line.is_empty() {
        head.key(2);
        head.varint(line.len() as u64);
    }
    out.extend_from_slice(head.bytes());
    out.extend_from_slice(line);
    out.extend_from_slice(metadata);
}

/// The few bytes of keys and varints before an entry's line. Its worst case: two keys
/// with 10-byte varints (lengths), the timestamp message key and its length, and two
/// ints of 11 bytes each.
struct Head {
    buf: [u8; 48],
    n: usize,
}

impl Default for Head {
    fn default() -> Self {
        Head { buf: [0; 48], n: 0 }
    }
}

impl Head {
    fn byte(&mut self, b: u8) {
        self.buf[self.n] = b;
        self.n += 1;
    }

    fn key(&mut self, tag: u8) {
        self.byte(tag << 3 | 2);
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    fn int(&mut self, tag: u8, v: i64) {
        if v != 0 {
            self.byte(tag << 3);
            self.varint(v as u64);
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.n]
    }
}

/// Metadata names as Loki takes them; most are valid already and borrowed.
fn name(n: &[u8]) -> Cow<'_, [u8]> {
    match is_valid_name_bytes(n) {
        true => Cow::Borrowed(n),
        false => Cow::Owned(sanitize_name(&String::from_utf8_lossy(n)).into_bytes()),
    }
}

/// A length-delimited field with a body of `len` bytes (tags here are all below 16:
/// one key byte).
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// A proto3 string field: left out when empty.
fn string_field_len(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        field_len(len)
    }
}

/// A proto3 int64/int32 varint field: left out when zero; negative values take ten
/// bytes (two's complement as u64), as prost writes them.
fn int_field_len(v: i64) -> usize {
    if v == 0 {
        0
    } else {
        1 + varint_len(v as u64)
    }
}

fn varint_len(v: u64) -> usize {
    // Each byte carries 7 bits; 0 still takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A length-delimited key (wire type 2).
fn put_key(out: &mut Vec<u8>, tag: u8) {
    out.push(tag << 3 | 2);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_string(out: &mut Vec<u8>, tag: u8, s: &str) {
    put_bytes(out, tag, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, s: &[u8]) {
    if !s.is_empty() {
        put_key(out, tag);
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests;
