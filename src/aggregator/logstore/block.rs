//! A block's raw (uncompressed) bytes, as pure functions: the header's length (u32 LE),
//! a header of per-entry fields — count, then for each entry its time (zig-zag delta from the previous), line length and
//! structured metadata — followed by every line back to back. Keeping the lines
//! together lets a line filter search a whole block with one `memmem` pass and decode
//! only the entries a hit lands in.

use crate::aggregator::tsdb::record::{put_str, put_uvarint, unzigzag, zigzag, Cursor};
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

/// Encodes entries (already in time order) as a block's raw bytes.
pub fn encode(entries: &[HeadEntry], out: &mut Vec<u8>) {
    let mut lines = Vec::with_capacity(entries.iter().map(|e| e.line.len()).sum());
    let at = out.len();
    out.extend_from_slice(&[0; 4]); // the header's length, set below
    put_uvarint(out, entries.len() as u64);
    let mut prev = 0i64;
    for e in entries {
        put_uvarint(out, zigzag(e.ts.wrapping_sub(prev)));
        prev = e.ts;
        put_uvarint(out, e.line.len() as u64);
        put_uvarint(out, e.metadata.len() as u64);
        for (n, v) in &e.metadata {
            put_str(out, n);
            put_str(out, v);
        }
        lines.extend_from_slice(e.line.as_bytes());
    }
    let header = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&header.to_le_bytes());
    out.extend_from_slice(&lines);
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
pub fn decode_slots(raw: &[u8]) -> Result<Vec<Slot>, String> {
    let lines_start = lines_start(raw)?;
    let mut c = Cursor::new(&raw[..lines_start]);
    c.at = 4;
    let bad = |e: crate::aggregator::tsdb::record::RecordError| format!("block header: {e}");
    let n = c.count().map_err(bad)?;
    let mut slots = Vec::with_capacity(n);
    let (mut prev, mut offset) = (0i64, 0usize);
    for _ in 0..n {
        let ts = prev.wrapping_add(unzigzag(c.uvarint().map_err(bad)?));
        prev = ts;
        let len = usize::try_from(c.uvarint().map_err(bad)?).map_err(|_| "line length")?;
        let metas = c.count().map_err(bad)?;
        let mut metadata = Vec::with_capacity(metas);
        for _ in 0..metas {
            metadata.push((c.string().map_err(bad)?, c.string().map_err(bad)?));
        }
        slots.push(Slot {
            ts,
            start: offset,
            len,
            metadata,
        });
        offset = offset.checked_add(len).ok_or("line lengths overflow")?;
    }
    if c.left() != 0 {
        return Err(format!("{} bytes after the block header", c.left()));
    }
    if lines_start + offset != raw.len() {
        return Err(format!(
            "block lines take {} bytes, the header says {offset}",
            raw.len() - lines_start
        ));
    }
    slots.iter_mut().for_each(|s| s.start += lines_start);
    Ok(slots)
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
        let slots = decode_slots(&raw).unwrap();
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
        let slots = decode_slots(&raw).unwrap();
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
            assert!(decode_slots(&raw[..cut]).is_err(), "cut {cut}");
        }
        assert!(decode_slots(&[0xff; 12]).is_err());
    }
}
