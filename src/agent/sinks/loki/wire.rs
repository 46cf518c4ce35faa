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
    for stream in streams {
        lens.clear();
        lens.extend(stream.entries.iter().map(|e| entry_len(*e)));
        let body = string_field_len(stream.labels.len())
            + lens.iter().map(|&l| field_len(l)).sum::<usize>();
        out.reserve(field_len(body));
        put_key(out, 1);
        put_varint(out, body as u64);
        put_string(out, 1, stream.labels);
        for (entry, &len) in stream.entries.iter().zip(&lens) {
            put_key(out, 2);
            put_varint(out, len as u64);
            write_entry(*entry, out);
        }
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

/// The `EntryAdapter` body length.
fn entry_len<E: PushEntry>(e: &E) -> usize {
    let metadata: usize = e
        .metadata()
        .map(|(n, v)| field_len(string_field_len(name(n).len()) + string_field_len(v.len())))
        .sum();
    field_len(timestamp_len(e.timestamp_ns())) + string_field_len(e.line().len()) + metadata
}

fn write_entry<E: PushEntry>(e: &E, out: &mut Vec<u8>) {
    let ns = e.timestamp_ns();
    let (secs, nanos) = timestamp(ns);
    // prost writes a present optional message even when all its fields are defaults.
    put_key(out, 1);
    put_varint(out, timestamp_len(ns) as u64);
    put_int(out, 1, secs);
    put_int(out, 2, nanos);
    put_bytes(out, 2, e.line());
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

fn put_int(out: &mut Vec<u8>, tag: u8, v: i64) {
    if v != 0 {
        out.push(tag << 3);
        put_varint(out, v as u64);
    }
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
mod tests {
    use super::*;
    use crate::agent::sinks::loki::{protobuf, Batch, LokiEntry, StreamLabels};

    impl PushEntry for LokiEntry {
        fn timestamp_ns(&self) -> i64 {
            self.timestamp_ns
        }
        fn line(&self) -> &[u8] {
            self.line.as_bytes()
        }
        fn metadata(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
            self.metadata
                .iter()
                .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        }
    }

    fn entry(ts: i64, line: &str, meta: &[(&str, &str)]) -> LokiEntry {
        LokiEntry {
            timestamp_ns: ts,
            line: line.into(),
            metadata: meta
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn writes_what_prost_writes() {
        let a = StreamLabels::new([("pod", "web-0"), ("stream", "stdout")]).unwrap();
        let b = StreamLabels::new([("pod", "db\"1"), ("stream", "stderr")]).unwrap();
        let long = "x".repeat(300);
        let cases = [
            (
                &a,
                entry(1_700_000_000_123_456_789, "hello", &[("pod_uid", "u1")]),
            ),
            (&b, entry(0, "", &[])),
            (&a, entry(-1, &long, &[("2bad-name", "v"), ("empty", "")])),
            (
                &b,
                entry(5_000_000_000, "é", &[("level", "warn"), ("trace_id", "ab")]),
            ),
            (&a, entry(i64::MIN, "min", &[])),
        ];
        let mut batch = Batch::new();
        for (labels, e) in &cases {
            batch.push(labels, e.clone());
        }
        let (ra, rb) = (a.render(), b.render());
        let pick = |l: &'static str| -> Vec<&LokiEntry> {
            let want = if l == "a" { &a } else { &b };
            cases
                .iter()
                .filter(|(x, _)| *x == want)
                .map(|(_, e)| e)
                .collect()
        };
        let streams = [
            StreamEntries {
                labels: &ra,
                entries: pick("a"),
            },
            StreamEntries {
                labels: &rb,
                entries: pick("b"),
            },
        ];
        let mut out = Vec::new();
        write_push(&streams, &mut out);
        assert_eq!(out, protobuf(&batch));
        assert_eq!(out.len(), batch.encoded_len());
    }

    #[test]
    fn varint_lengths() {
        for (v, n) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!((varint_len(v), out.len()), (n, n), "{v}");
        }
    }
}
