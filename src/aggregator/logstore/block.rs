//! A block's raw (uncompressed) bytes, as pure functions: the header's length (u32 LE),
//! a header of per-entry fields, then every line back to back. Keeping the lines
//! together lets a line filter search a whole block with one `memmem` pass and decode
//! only the entries a hit lands in.
//!
//! The header is laid out by column ([`Layout::Columns`], what is written): the entry
//! count, every time (zig-zag delta from the previous), every line length, every
//! metadata count, then the metadata pairs — so the compressor sees like next to like.
//! Chunk files of the first format ([`Layout::Rows`]) hold each entry's fields together
//! (time, length, metadata); they are still read. Formats 3 and 4 ([`Layout::Fields`])
//! store lines as templates and variable columns instead ([`super::fields`]).

use crate::aggregator::tsdb::record::{
    put_str, put_uvarint, unzigzag, zigzag, Cursor, RecordError,
};
use memchr::memmem::Finder;

/// One entry of a head block (owned: the head is mutable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadEntry {
    pub ts: i64,
    pub line: String,
    pub metadata: Vec<(String, String)>,
}

impl HeadEntry {
    /// What the entry counts for in memory and in "raw bytes" (line and metadata).
    pub fn raw_size(&self) -> usize {
        self.line.len()
            + self
                .metadata
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }
}

/// How a block's header is laid out (chunk files name it by their format version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Each entry's time, length and metadata together (chunk format 1).
    Rows,
    /// Times, then lengths, then metadata counts, then metadata (chunk format 2).
    Columns,
    /// Templates and variable columns ([`super::fields`]): chunk format 4, or 3 (read
    /// alike: 4 may write constants into templates, which 3's readers would not search).
    Fields,
}

impl Layout {
    /// The layout the store writes for chunk format `n` (2, or 3 and 4: both write
    /// format 4, 3's successor; format 1 is only read).
    pub fn written_as(n: u8) -> Option<Layout> {
        match n {
            2 => Some(Layout::Columns),
            3 | 4 => Some(Layout::Fields),
            _ => None,
        }
    }

    /// The chunk format the store writes for this layout (format 1's blocks are
    /// written by column, as format 2).
    pub fn written_format(self) -> u8 {
        match self {
            Layout::Rows | Layout::Columns => 2,
            Layout::Fields => 4,
        }
    }

    /// Encodes entries (already in time order) as a block's raw bytes in this layout
    /// (format 1 is never written: its blocks are written by column).
    pub fn encode(self, entries: &[HeadEntry], out: &mut Vec<u8>) {
        match self {
            Layout::Rows | Layout::Columns => encode(entries, out),
            Layout::Fields => {
                super::fields::encode(entries, out);
            }
        }
    }
}

/// Encodes entries (already in time order) as a block's raw bytes, by column.
pub fn encode(entries: &[HeadEntry], out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]); // the header's length, set below
    put_uvarint(out, entries.len() as u64);
    let mut prev = 0i64;
    for e in entries {
        put_uvarint(out, zigzag(e.ts.wrapping_sub(prev)));
        prev = e.ts;
    }
    entries
        .iter()
        .for_each(|e| put_uvarint(out, e.line.len() as u64));
    put_metadata(entries, out);
    let header = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&header.to_le_bytes());
    entries
        .iter()
        .for_each(|e| out.extend_from_slice(e.line.as_bytes()));
}

/// Every entry's metadata count, then the pairs (formats 2 and 3 write them so).
pub(crate) fn put_metadata(entries: &[HeadEntry], out: &mut Vec<u8>) {
    entries
        .iter()
        .for_each(|e| put_uvarint(out, e.metadata.len() as u64));
    for (n, v) in entries.iter().flat_map(|e| &e.metadata) {
        put_str(out, n);
        put_str(out, v);
    }
}

/// Where a block's header ends and its lines begin.
fn lines_start(raw: &[u8]) -> Result<usize, String> {
    let len = raw.get(..4).ok_or("block shorter than its header length")?;
    let start = 4 + u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    if start > raw.len() {
        return Err(format!("block header of {start} bytes past its end"));
    }
    Ok(start)
}

/// The lines of a block, back to back (to search before decoding any entry).
pub fn lines(raw: &[u8]) -> Result<&[u8], String> {
    Ok(&raw[lines_start(raw)?..])
}

/// An entry of a decoded block: its line is `raw[start..start + len]`.
#[derive(Debug, Clone)]
pub struct Slot {
    pub ts: i64,
    pub start: usize,
    pub len: usize,
    pub metadata: Vec<(String, String)>,
}

/// Parses a block's header: its entries' slots, in order.
pub fn decode_slots(raw: &[u8], layout: Layout) -> Result<Vec<Slot>, String> {
    let lines_start = lines_start(raw)?;
    let mut c = Cursor::new(&raw[..lines_start]);
    c.at = 4;
    let mut slots = match layout {
        Layout::Rows => rows(&mut c),
        Layout::Columns => columns(&mut c),
        Layout::Fields => return Err("format 3 and 4 blocks are decoded by fields".into()),
    }
    .map_err(|e| format!("block header: {e}"))?;
    if c.left() != 0 {
        return Err(format!("{} bytes after the block header", c.left()));
    }
    let mut offset = lines_start;
    for s in &mut slots {
        s.start = offset;
        offset = offset.checked_add(s.len).ok_or("line lengths overflow")?;
    }
    if offset != raw.len() {
        return Err(format!(
            "block lines take {} bytes, the header says {}",
            raw.len() - lines_start,
            offset - lines_start
        ));
    }
    Ok(slots)
}

/// A block of any layout decoded into its lines (back to back) and its entries' slots
/// into them: for tests and tools; scans reuse their buffers instead.
pub fn decode_lines(raw: &[u8], layout: Layout) -> Result<(Vec<u8>, Vec<Slot>), String> {
    if layout == Layout::Fields {
        let (mut lines, mut slots) = (Vec::new(), Vec::new());
        super::fields::decode(raw, &mut lines, &mut slots)?;
        return Ok((lines, slots));
    }
    Ok((raw.to_vec(), decode_slots(raw, layout)?))
}

type Parsed = Result<Vec<Slot>, RecordError>;

/// Format 1: per entry its time delta, line length, metadata.
fn rows(c: &mut Cursor<'_>) -> Parsed {
    let n = c.count()?;
    let mut slots = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(c.uvarint()?));
        let len = length(c)?;
        let k = c.count()?;
        slots.push(slot(prev, len, pairs(c, k)?));
    }
    Ok(slots)
}

/// Format 2: the times, the lengths, the metadata counts, the metadata.
fn columns(c: &mut Cursor<'_>) -> Parsed {
    let n = c.count()?;
    let mut slots = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(c.uvarint()?));
        slots.push(slot(prev, 0, Vec::new()));
    }
    for s in &mut slots {
        s.len = length(c)?;
    }
    let counts = (0..n).map(|_| c.count()).collect::<Result<Vec<_>, _>>()?;
    for (s, k) in slots.iter_mut().zip(counts) {
        s.metadata = pairs(c, k)?;
    }
    Ok(slots)
}

fn slot(ts: i64, len: usize, metadata: Vec<(String, String)>) -> Slot {
    Slot {
        ts,
        start: 0,
        len,
        metadata,
    }
}

fn length(c: &mut Cursor<'_>) -> Result<usize, RecordError> {
    let at = c.at;
    usize::try_from(c.uvarint()?).map_err(|_| RecordError::Varint(at))
}

fn pairs(c: &mut Cursor<'_>, n: usize) -> Result<Vec<(String, String)>, RecordError> {
    (0..n).map(|_| Ok((c.string()?, c.string()?))).collect()
}

/// The indexes of the slots whose line holds every needle (all of them when there are
/// none; an empty needle is in every line). The first needle is searched across the
/// whole lines section at once.
pub fn matching(raw: &[u8], slots: &[Slot], needles: &[Finder<'_>]) -> Vec<usize> {
    let needles: Vec<&Finder> = needles.iter().filter(|f| !f.needle().is_empty()).collect();
    let Some((first, rest)) = needles.split_first() else {
        return (0..slots.len()).collect();
    };
    let Some(base) = slots.first().map(|s| s.start) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut pos, mut i) = (base, 0usize);
    while let Some(hit) = first.find(&raw[pos..]).map(|h| h + pos) {
        while i < slots.len() && slots[i].start + slots[i].len <= hit {
            i += 1;
        }
        let Some(s) = slots.get(i) else { break };
        let line = &raw[s.start..s.start + s.len];
        if hit + first.needle().len() > s.start + s.len {
            pos = hit + 1; // spans two lines: look again inside the next
            continue;
        }
        if rest.iter().all(|f| f.find(line).is_some()) {
            out.push(i);
        }
        pos = s.start + s.len;
        i += 1;
        if pos >= raw.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts: i64, line: &str) -> HeadEntry {
        HeadEntry {
            ts,
            line: line.into(),
            metadata: vec![],
        }
    }

    fn lines_matching(entries: &[HeadEntry], needles: &[&str]) -> Vec<String> {
        let mut raw = Vec::new();
        encode(entries, &mut raw);
        let slots = decode_slots(&raw, Layout::Columns).unwrap();
        let finders: Vec<Finder> = needles.iter().map(|n| Finder::new(n.as_bytes())).collect();
        matching(&raw, &slots, &finders)
            .into_iter()
            .map(|i| String::from_utf8(raw[slots[i].start..][..slots[i].len].to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_with_metadata_and_negative_deltas() {
        let mut es = vec![entry(5, "a"), entry(-3, ""), entry(i64::MAX, "ünï")];
        es[1].metadata = vec![("trace_id".into(), "abc".into()), ("k".into(), "".into())];
        let mut raw = Vec::new();
        encode(&es, &mut raw);
        let slots = decode_slots(&raw, Layout::Columns).unwrap();
        let got: Vec<HeadEntry> = slots
            .iter()
            .map(|s| HeadEntry {
                ts: s.ts,
                line: String::from_utf8(raw[s.start..s.start + s.len].to_vec()).unwrap(),
                metadata: s.metadata.clone(),
            })
            .collect();
        assert_eq!(got, es);
    }

    /// The first format's encoder (rows), to check it still decodes.
    fn encode_rows(entries: &[HeadEntry]) -> Vec<u8> {
        let mut out = vec![0; 4];
        put_uvarint(&mut out, entries.len() as u64);
        let mut prev = 0i64;
        for e in entries {
            put_uvarint(&mut out, zigzag(e.ts.wrapping_sub(prev)));
            prev = e.ts;
            put_uvarint(&mut out, e.line.len() as u64);
            put_uvarint(&mut out, e.metadata.len() as u64);
            for (n, v) in &e.metadata {
                put_str(&mut out, n);
                put_str(&mut out, v);
            }
        }
        let header = (out.len() - 4) as u32;
        out[..4].copy_from_slice(&header.to_le_bytes());
        entries
            .iter()
            .for_each(|e| out.extend_from_slice(e.line.as_bytes()));
        out
    }

    #[test]
    fn both_layouts_decode_to_the_same_slots_and_not_as_each_other() {
        let mut es = vec![entry(5, "abc"), entry(9, "de"), entry(12, "")];
        es[1].metadata = vec![("k".into(), "v".into())];
        let mut cols = Vec::new();
        encode(&es, &mut cols);
        let rows = encode_rows(&es);
        let a = decode_slots(&cols, Layout::Columns).unwrap();
        let b = decode_slots(&rows, Layout::Rows).unwrap();
        let key = |s: &Slot| (s.ts, s.start, s.len, s.metadata.clone());
        assert_eq!(
            a.iter().map(key).collect::<Vec<_>>(),
            b.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!(a[1].metadata, es[1].metadata);
        assert!(decode_slots(&rows, Layout::Columns).is_err());
    }

    #[test]
    fn matches_equal_a_plain_filter_even_across_line_boundaries() {
        let es: Vec<HeadEntry> = ["abc", "cab", "xab", "c", "aab", "ab", "b", "", "abab"]
            .iter()
            .enumerate()
            .map(|(i, l)| entry(i as i64, l))
            .collect();
        for needles in [
            vec!["ab"],
            vec!["bc"],
            vec!["ab", "ba"],
            vec!["ca"],
            vec![""],
            vec![],
        ] {
            let want: Vec<String> = es
                .iter()
                .filter(|e| needles.iter().all(|n| e.line.contains(n)))
                .map(|e| e.line.clone())
                .collect();
            assert_eq!(lines_matching(&es, &needles), want, "{needles:?}");
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut raw = Vec::new();
        let mut es = vec![entry(1, "hello"), entry(2, "world")];
        es[0].metadata = vec![("a".into(), "b".into())];
        encode(&es, &mut raw);
        for cut in 0..raw.len() {
            assert!(
                decode_slots(&raw[..cut], Layout::Columns).is_err(),
                "cut {cut}"
            );
        }
        assert!(decode_slots(&[0xff; 12], Layout::Columns).is_err());
    }
}
