//! The compact binary record of one event, as the buffer and the spool hold it and the
//! sinks read it: written by the processor from cached per-stream blocks, read by the
//! sink adapters as borrowed views ([`RecordView`]), so no event is built as a struct
//! of `String`s on the hot path and nothing is parsed twice.
//!
//! ```text
//! version     u8 (1)
//! timestamp   i64 LE, nanoseconds since the epoch
//! labels      u32 LE byte length, then pairs       (stream labels)
//! metadata    u32 LE byte length, then pairs       (structured metadata)
//! line        the rest of the record (UTF-8 as written)
//! pair        name_len u32 LE, name, value_len u32 LE, value (both UTF-8)
//! ```
//!
//! The line is written from text and not validated again when read: the protobuf
//! writer copies its bytes as they are, and the readers that need a `str` convert it
//! lossily (one pass over every line less; the spool's CRC guards what was written).
//!
//! The labels block of a stream is the same bytes for every line of it, so the Loki
//! adapter groups entries by those bytes and renders each label set once. Records
//! written by an older agent into the spool (JSON) do not parse: they are counted as
//! unreadable by the sender, never a crash.

use thiserror::Error;

/// The format version byte (the first byte of every record).
pub const VERSION: u8 = 1;

/// Why bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("not an event record (version byte {0:?})")]
    Version(Option<u8>),
    #[error("event record cut short")]
    Short,
    #[error("event record holds text that is not UTF-8")]
    Utf8,
}

/// Appends one name/value pair in record form.
pub fn put_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    put_len(out, name.len());
    out.extend_from_slice(name.as_bytes());
    put_len(out, value.len());
    out.extend_from_slice(value.as_bytes());
}

/// Appends a block of pairs with its length prefix.
pub fn put_block<'a>(out: &mut Vec<u8>, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    for (name, value) in pairs {
        put_pair(out, name, value);
    }
    patch_len(out, at);
}

/// Writes a record from its parts: `labels` is a length-prefixed block
/// ([`put_block`]); `metadata` is a run of pairs (two runs, the stream's own and the
/// line's lifted fields, written under one length prefix).
pub fn encode(
    out: &mut Vec<u8>,
    timestamp_ns: i64,
    labels: &[u8],
    metadata: [&[u8]; 2],
    line: &str,
) {
    out.reserve(1 + 8 + labels.len() + 4 + metadata[0].len() + metadata[1].len() + line.len());
    out.push(VERSION);
    out.extend_from_slice(&timestamp_ns.to_le_bytes());
    out.extend_from_slice(labels);
    put_len(out, metadata[0].len() + metadata[1].len());
    out.extend_from_slice(metadata[0]);
    out.extend_from_slice(metadata[1]);
    out.extend_from_slice(line.as_bytes());
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("record fields are capped far below 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
}

/// Sets the u32 length prefix at `at` to the bytes written after it.
fn patch_len(out: &mut [u8], at: usize) {
    let len = u32::try_from(out.len() - at - 4).expect("record blocks are small");
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// One record, borrowed and checked: every pair's text is UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub timestamp_ns: i64,
    /// The labels block without its length prefix (equal bytes: the same label set).
    pub labels_block: &'a [u8],
    metadata_block: &'a [u8],
    pub line: &'a [u8],
}

impl<'a> RecordView<'a> {
    pub fn parse(record: &'a [u8]) -> Result<Self, RecordError> {
        Self::parse_after(record, None)
    }

    /// [`RecordView::parse`] of the record after `previous` in a batch: a block with
    /// the same bytes as the previous record's (a stream's labels, most metadata) is
    /// not checked again.
    pub fn parse_after(record: &'a [u8], previous: Option<&Self>) -> Result<Self, RecordError> {
        let (&version, rest) = record.split_first().ok_or(RecordError::Version(None))?;
        if version != VERSION {
            return Err(RecordError::Version(Some(version)));
        }
        let (ts, rest) = rest.split_first_chunk::<8>().ok_or(RecordError::Short)?;
        let (labels_block, rest) = take_block(rest)?;
        let (metadata_block, rest) = take_block(rest)?;
        if previous.is_none_or(|p| p.labels_block != labels_block) {
            check_pairs(labels_block)?;
        }
        if previous.is_none_or(|p| p.metadata_block != metadata_block) {
            check_pairs(metadata_block)?;
        }
        Ok(RecordView {
            timestamp_ns: i64::from_le_bytes(*ts),
            labels_block,
            metadata_block,
            line: rest,
        })
    }

    pub fn labels(&self) -> Pairs<'a> {
        Pairs(self.labels_block)
    }

    pub fn metadata(&self) -> Pairs<'a> {
        Pairs(self.metadata_block)
    }

    /// The metadata block without its length prefix (equal bytes: the same pairs).
    pub fn metadata_block(&self) -> &'a [u8] {
        self.metadata_block
    }

    /// The metadata pairs as the bytes they are (checked UTF-8), without a `str`.
    pub fn metadata_bytes(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let mut block = self.metadata_block;
        std::iter::from_fn(move || {
            let (name, rest) = take_block(block).ok()?;
            let (value, rest) = take_block(rest).ok()?;
            block = rest;
            Some((name, value))
        })
    }
}

fn take_block(rest: &[u8]) -> Result<(&[u8], &[u8]), RecordError> {
    let (len, rest) = rest.split_first_chunk::<4>().ok_or(RecordError::Short)?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(RecordError::Short);
    }
    Ok(rest.split_at(len))
}

/// Walks a block once: every pair whole and UTF-8.
fn check_pairs(mut block: &[u8]) -> Result<(), RecordError> {
    while !block.is_empty() {
        for _ in 0..2 {
            let (text, rest) = take_block(block)?;
            // Most pair texts are short ASCII (levels, ids), for which an ASCII scan
            // is cheaper than a UTF-8 check (std's, which simdutf8 uses below 64 bytes).
            if !text.is_ascii() {
                simdutf8::basic::from_utf8(text).map_err(|_| RecordError::Utf8)?;
            }
            block = rest;
        }
    }
    Ok(())
}

/// The pairs of a run written by [`put_pair`] (text that is not UTF-8 reads as "").
pub fn pairs(run: &[u8]) -> Pairs<'_> {
    Pairs(run)
}

/// The pairs of a checked block.
#[derive(Debug, Clone)]
pub struct Pairs<'a>(&'a [u8]);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, rest) = take_block(self.0).ok()?;
        let (value, rest) = take_block(rest).ok()?;
        self.0 = rest;
        // Checked by `RecordView::parse`.
        let text = |b| std::str::from_utf8(b).unwrap_or_default();
        Some((text(name), text(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: &str) -> Vec<u8> {
        let mut labels = Vec::new();
        put_block(&mut labels, [("namespace", "shop"), ("stream", "stdout")]);
        let mut fixed = Vec::new();
        put_pair(&mut fixed, "pod_uid", "u-1");
        let mut lifted = Vec::new();
        put_pair(&mut lifted, "level", "warn");
        let mut out = Vec::new();
        encode(&mut out, -5, &labels, [&fixed, &lifted], line);
        out
    }

    #[test]
    fn round_trips_every_part() {
        let bytes = record("héllo\tworld");
        let view = RecordView::parse(&bytes).unwrap();
        assert_eq!(view.timestamp_ns, -5);
        assert_eq!(view.line, "héllo\tworld".as_bytes());
        let labels: Vec<_> = view.labels().collect();
        assert_eq!(labels, [("namespace", "shop"), ("stream", "stdout")]);
        let meta: Vec<_> = view.metadata().collect();
        assert_eq!(meta, [("pod_uid", "u-1"), ("level", "warn")]);
        assert_eq!(RecordView::parse(&record("")).unwrap().line, b"");
    }

    #[test]
    fn a_block_like_the_previous_records_is_not_checked_again_and_others_are() {
        let good = record("one");
        let previous = RecordView::parse(&good).unwrap();
        let again = record("two");
        let view = RecordView::parse_after(&again, Some(&previous)).unwrap();
        assert_eq!((view.line, view.labels().count()), (&b"two"[..], 2));
        let mut bad = record("three");
        bad[1 + 8 + 4 + 4] = 0xff;
        assert_eq!(
            RecordView::parse_after(&bad, Some(&previous)),
            Err(RecordError::Utf8)
        );
    }

    #[test]
    fn bad_bytes_are_errors_never_panics() {
        let good = record("line");
        assert_eq!(RecordView::parse(&[]), Err(RecordError::Version(None)));
        assert_eq!(
            RecordView::parse(br#"{"line":"x"}"#),
            Err(RecordError::Version(Some(b'{')))
        );
        for cut in 1..good.len() - 4 {
            assert!(RecordView::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = good.clone();
        bad[1 + 8 + 4 + 4] = 0xff; // the first label name's first byte
        assert_eq!(RecordView::parse(&bad), Err(RecordError::Utf8));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..200)) {
            let mut b = bytes.clone();
            b.insert(0, VERSION);
            if let Ok(v) = RecordView::parse(&b) {
                let _ = (v.labels().count(), v.metadata().count());
            }
        }
    }
}
