//! A block's `index` file as pure functions over bytes. Layout (integers are LEB128
//! varints unless fixed; strings are a varint length then UTF-8):
//!
//! ```text
//! "NPI1"
//! symbols:  count, strings (sorted, distinct: every label name and value once)
//! series:   count, then per series (sorted by labels):
//!             label count, (name symbol, value symbol)…,
//!             chunk count, per chunk: zig-zag(min_t - previous max_t, or the block's
//!             min time for the first), max_t - min_t, offset - previous offset
//! postings: count, then per label pair (sorted): name symbol, value symbol,
//!             series count, series index deltas
//! toc:      u64 LE offsets of symbols, series, postings; u64 LE length of `chunks`
//! crc:      u32 LE CRC32 of everything before it
//! ```

use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::postings::Postings;
use crate::aggregator::tsdb::record::put_uvarint;
use std::collections::BTreeMap;

const MAGIC: &[u8; 4] = b"NPI1";
const TOC: usize = 32;

/// Where a chunk lies in the `chunks` file and the times it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    pub min_t: i64,
    pub max_t: i64,
    pub offset: u64,
}

/// A series of a block: its labels and chunks, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSeries {
    pub labels: Labels,
    pub chunks: Vec<ChunkMeta>,
}

/// A decoded index.
#[derive(Debug)]
pub struct Index {
    pub series: Vec<BlockSeries>,
    pub postings: Postings,
    /// The length the `chunks` file must have.
    pub chunks_len: u64,
}

/// Encodes `series` (sorted by labels) whose chunks fill a `chunks_len`-byte file.
pub fn encode(series: &[BlockSeries], block_min: i64, chunks_len: u64) -> Vec<u8> {
    let mut symbols: BTreeMap<&str, u64> = BTreeMap::new();
    for (n, v) in series.iter().flat_map(|s| s.labels.iter()) {
        symbols.insert(n, 0);
        symbols.insert(v, 0);
    }
    let mut out = MAGIC.to_vec();
    let sym_at = out.len() as u64;
    put_uvarint(&mut out, symbols.len() as u64);
    for (i, (s, id)) in symbols.iter_mut().enumerate() {
        put_str(&mut out, s);
        *id = i as u64;
    }
    let series_at = out.len() as u64;
    put_uvarint(&mut out, series.len() as u64);
    let mut postings: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        put_uvarint(&mut out, s.labels.len() as u64);
        for (n, v) in s.labels.iter() {
            let pair = (symbols[n], symbols[v]);
            put_uvarint(&mut out, pair.0);
            put_uvarint(&mut out, pair.1);
            postings.entry(pair).or_default().push(i as u64);
        }
        put_chunks(&mut out, &s.chunks, block_min);
    }
    let postings_at = out.len() as u64;
    put_uvarint(&mut out, postings.len() as u64);
    for ((n, v), refs) in &postings {
        put_uvarint(&mut out, *n);
        put_uvarint(&mut out, *v);
        put_uvarint(&mut out, refs.len() as u64);
        refs.iter().fold(0, |prev, &r| {
            put_uvarint(&mut out, r - prev);
            r
        });
    }
    for x in [sym_at, series_at, postings_at, chunks_len] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn put_chunks(out: &mut Vec<u8>, chunks: &[ChunkMeta], block_min: i64) {
    put_uvarint(out, chunks.len() as u64);
    let (mut prev_t, mut prev_off) = (block_min, 0u64);
    for c in chunks {
        put_uvarint(out, zigzag(c.min_t.wrapping_sub(prev_t)));
        put_uvarint(out, c.max_t.wrapping_sub(c.min_t) as u64);
        put_uvarint(out, c.offset.wrapping_sub(prev_off));
        (prev_t, prev_off) = (c.max_t, c.offset);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Decodes an index; any damage is an error saying what and where.
pub fn decode(b: &[u8], block_min: i64) -> Result<Index, String> {
    if b.len() < MAGIC.len() + TOC + 4 || &b[..4] != MAGIC {
        return Err(format!("not an index (bad magic or {} bytes)", b.len()));
    }
    let (body, crc) = b.split_at(b.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err("CRC mismatch".into());
    }
    let toc = &body[body.len() - TOC..];
    let word = |i: usize| u64::from_le_bytes(toc[i * 8..i * 8 + 8].try_into().expect("8"));
    let at = |i: usize| usize::try_from(word(i)).unwrap_or(usize::MAX);
    let mut c = Cursor { b: body, at: at(0) };
    let symbols = read_symbols(&mut c)?;
    c.at = at(1);
    let series = read_series(&mut c, &symbols, block_min)?;
    c.at = at(2);
    let postings = read_postings(&mut c, &symbols, series.len())?;
    Ok(Index {
        series,
        postings,
        chunks_len: word(3),
    })
}

fn read_symbols(c: &mut Cursor) -> Result<Vec<String>, String> {
    (0..c.count()?).map(|_| c.string()).collect()
}

fn symbol<'a>(c: &mut Cursor, symbols: &'a [String]) -> Result<&'a str, String> {
    let at = c.at;
    let i = c.uvarint()?;
    let s = symbols.get(usize::try_from(i).unwrap_or(usize::MAX));
    s.map(String::as_str)
        .ok_or_else(|| format!("symbol {i} out of range at byte {at}"))
}

fn read_series(
    c: &mut Cursor,
    syms: &[String],
    block_min: i64,
) -> Result<Vec<BlockSeries>, String> {
    let n = c.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let pairs = c.count()?;
        let mut labels = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            labels.push((symbol(c, syms)?.to_owned(), symbol(c, syms)?.to_owned()));
        }
        let chunks = read_chunks(c, block_min)?;
        out.push(BlockSeries {
            labels: Labels::new(labels),
            chunks,
        });
    }
    Ok(out)
}

fn read_chunks(c: &mut Cursor, block_min: i64) -> Result<Vec<ChunkMeta>, String> {
    let n = c.count()?;
    let mut out = Vec::with_capacity(n);
    let (mut prev_t, mut prev_off) = (block_min, 0u64);
    for _ in 0..n {
        let min_t = prev_t.wrapping_add(unzigzag(c.uvarint()?));
        let max_t = min_t.wrapping_add(c.uvarint()? as i64);
        let offset = prev_off.wrapping_add(c.uvarint()?);
        out.push(ChunkMeta {
            min_t,
            max_t,
            offset,
        });
        (prev_t, prev_off) = (max_t, offset);
    }
    Ok(out)
}

fn read_postings(c: &mut Cursor, syms: &[String], series: usize) -> Result<Postings, String> {
    let mut postings = Postings::default();
    for _ in 0..c.count()? {
        let (name, value) = (symbol(c, syms)?, symbol(c, syms)?);
        let n = c.count()?;
        let mut refs = Vec::with_capacity(n);
        let mut prev = 0u64;
        for _ in 0..n {
            prev = prev.wrapping_add(c.uvarint()?);
            if prev >= series as u64 {
                return Err(format!("posting of {name}={value} past the series"));
            }
            refs.push(prev);
        }
        postings.set_list(name, value, refs);
    }
    Ok(postings)
}

/// Reads varints and strings; every read is bounds checked.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn uvarint(&mut self) -> Result<u64, String> {
        let start = self.at;
        let mut x = 0u64;
        for i in 0..10 {
            let Some(&b) = self.b.get(self.at) else {
                return Err(format!("index ends early at byte {}", self.at));
            };
            self.at += 1;
            x |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(format!("varint too long at byte {start}"))
    }

    /// A count of items of at least one byte each: never more than the bytes left.
    fn count(&mut self) -> Result<usize, String> {
        let n = self.uvarint()?;
        let left = self.b.len().saturating_sub(self.at) as u64;
        if n > left {
            return Err(format!("count {n} past the end at byte {}", self.at));
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> Result<String, String> {
        let at = self.at;
        let n = self.count()?;
        let bytes = &self.b[self.at..self.at + n];
        self.at += n;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("string not UTF-8 at byte {at}"))
    }
}
