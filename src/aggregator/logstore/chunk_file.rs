//! A chunk on disk, one file per chunk (`chunks/<id as 16 hex digits>`), self-describing
//! so the index can be rebuilt from the files: `"NPL2"`, the codec's byte, the header's
//! length (u32 LE) and CRC32 (u32 LE), the header — stream id, labels, the WAL sequence
//! number it covers, time span, entry and raw byte counts, and a table of blocks (time
//! span, entries, raw length, stored length, CRC32, filter length) — then the blocks
//! back to back, each its trigram filter then its compressed bytes (block header by
//! column). Written to a `.tmp` file, fsynced and renamed.
//!
//! Format 4 (`"NPL4"`) is format 2 with blocks of templates and variable columns
//! ([`super::fields`]); which of the two is written is a setting (`block_layout`).
//! Format 3 (`"NPL3"`) is format 4 without constants written into templates: read as
//! format 4, never written.
//!
//! Format 1 (`"NPL1"`: no filters, block headers by row, no filter length in the table)
//! is still read, so a store written before format 2 opens as it was; it is rewritten
//! only as retention deletes it.

use super::block::Layout;
use super::chunk::{BlockMeta, ChunkSpan, SealedChunk};
use super::codec::Codec;
use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::record::{put_str, put_uvarint, unzigzag, zigzag, Cursor};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"NPL2";
/// Format 4: blocks of templates and variable columns, constants written into
/// templates ([`super::fields`]).
const MAGIC_V4: &[u8; 4] = b"NPL4";
/// Format 3: as 4, without constants in templates; still read.
const MAGIC_V3: &[u8; 4] = b"NPL3";
/// The first format, still read.
const MAGIC_V1: &[u8; 4] = b"NPL1";
/// Magic, codec, header length, header CRC.
const PREAMBLE: usize = 13;
/// A header claiming more is corrupt (a chunk has at most a few hundred blocks).
const MAX_HEADER: usize = 16 << 20;

/// What a chunk file's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkHeader {
    pub stream: u64,
    pub labels: Labels,
    pub upto: u64,
    pub codec: Codec,
    /// How its blocks' headers are laid out (by its format version).
    pub layout: Layout,
    pub span: ChunkSpan,
    pub blocks: Vec<BlockMeta>,
}

pub fn path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016x}"))
}

/// The chunk id a file name stands for (other names: none).
pub fn parse_name(name: &str) -> Option<u64> {
    (name.len() == 16)
        .then(|| u64::from_str_radix(name, 16).ok())
        .flatten()
}

/// Writes the chunk durably (the caller syncs the directory); returns the file's size.
pub fn write(dir: &Path, c: &SealedChunk, labels: &Labels) -> std::io::Result<u64> {
    let mut header = Vec::new();
    put_uvarint(&mut header, c.stream);
    put_uvarint(&mut header, labels.len() as u64);
    for (n, v) in labels.iter() {
        put_str(&mut header, n);
        put_str(&mut header, v);
    }
    for x in [c.upto, zigzag(c.span.min_ts), zigzag(c.span.max_ts)] {
        put_uvarint(&mut header, x);
    }
    put_uvarint(&mut header, c.span.entries);
    put_uvarint(&mut header, c.span.raw_bytes);
    put_uvarint(&mut header, c.blocks.len() as u64);
    for b in &c.blocks {
        put_uvarint(&mut header, zigzag(b.meta.min_ts));
        put_uvarint(&mut header, zigzag(b.meta.max_ts));
        let m = &b.meta;
        for x in [m.entries, m.raw_len, m.len, m.crc, m.bloom_len] {
            put_uvarint(&mut header, u64::from(x));
        }
    }
    let mut out = Vec::with_capacity(PREAMBLE + header.len() + c.mem_bytes());
    out.extend_from_slice(match c.layout {
        Layout::Fields => MAGIC_V4,
        Layout::Rows | Layout::Columns => MAGIC,
    });
    out.push(c.codec.id());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
    out.extend_from_slice(&header);
    for b in &c.blocks {
        out.extend_from_slice(&b.data);
    }
    let target = path(dir, c.id);
    let tmp = target.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&out)?;
    f.sync_all()?;
    fs::rename(&tmp, &target)?;
    Ok(out.len() as u64)
}

/// Reads only a chunk file's header (what the index needs).
pub fn read_header(path: &Path) -> Result<(ChunkHeader, u64), String> {
    let mut f = File::open(path).map_err(|e| e.to_string())?;
    let size = f.metadata().map_err(|e| e.to_string())?.len();
    let mut pre = [0u8; PREAMBLE];
    f.read_exact(&mut pre)
        .map_err(|_| "shorter than its preamble".to_string())?;
    let (len, _) = preamble_len(&pre)?;
    let mut rest = vec![0u8; len];
    f.read_exact(&mut rest)
        .map_err(|_| "header cut short".to_string())?;
    let mut all = pre.to_vec();
    all.extend_from_slice(&rest);
    Ok((parse(&all, size)?, size))
}

/// Parses a whole chunk file's header (the blocks follow it).
pub fn parse(file: &[u8], size: u64) -> Result<ChunkHeader, String> {
    let pre = file.get(..PREAMBLE).ok_or("shorter than its preamble")?;
    let (len, layout) = preamble_len(pre)?;
    let header = file
        .get(PREAMBLE..PREAMBLE + len)
        .ok_or("header cut short")?;
    let want = u32::from_le_bytes(pre[9..13].try_into().expect("4 bytes"));
    if crc32fast::hash(header) != want {
        return Err("header CRC mismatch".into());
    }
    let codec = Codec::from_id(pre[4]).ok_or_else(|| format!("unknown codec {}", pre[4]))?;
    let h = parse_header(header, codec, layout, (PREAMBLE + len) as u64)
        .map_err(|e| format!("header: {e}"))?;
    let end = h
        .blocks
        .last()
        .map_or((PREAMBLE + len) as u64, |b| b.offset + u64::from(b.len));
    if end != size {
        return Err(format!("{size} bytes, its blocks end at {end}"));
    }
    Ok(h)
}

/// The header's length and the blocks' layout the preamble's magic stands for.
fn preamble_len(pre: &[u8]) -> Result<(usize, Layout), String> {
    let layout = match &pre[..4] {
        m if m == MAGIC => Layout::Columns,
        m if m == MAGIC_V3 || m == MAGIC_V4 => Layout::Fields,
        m if m == MAGIC_V1 => Layout::Rows,
        _ => return Err("not a chunk file (bad magic)".into()),
    };
    let len = u32::from_le_bytes(pre[5..9].try_into().expect("4 bytes")) as usize;
    if len > MAX_HEADER {
        return Err(format!("header length {len} too large"));
    }
    Ok((len, layout))
}

fn parse_header(
    b: &[u8],
    codec: Codec,
    layout: Layout,
    mut offset: u64,
) -> Result<ChunkHeader, String> {
    let mut c = Cursor::new(b);
    let e = |e: crate::aggregator::tsdb::record::RecordError| e.to_string();
    let stream = c.uvarint().map_err(e)?;
    let n = c.count().map_err(e)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        pairs.push((c.string().map_err(e)?, c.string().map_err(e)?));
    }
    let upto = c.uvarint().map_err(e)?;
    let (min_ts, max_ts) = (
        unzigzag(c.uvarint().map_err(e)?),
        unzigzag(c.uvarint().map_err(e)?),
    );
    let (entries, raw_bytes) = (c.uvarint().map_err(e)?, c.uvarint().map_err(e)?);
    let nblocks = c.count().map_err(e)?;
    let mut blocks = Vec::with_capacity(nblocks);
    for _ in 0..nblocks {
        let (min, max) = (
            unzigzag(c.uvarint().map_err(e)?),
            unzigzag(c.uvarint().map_err(e)?),
        );
        let mut x = [0u32; 5];
        let fields = if layout == Layout::Rows { 4 } else { 5 }; // format 1: no filter
        for v in &mut x[..fields] {
            *v = u32::try_from(c.uvarint().map_err(e)?).map_err(|_| "block field too large")?;
        }
        let [entries, raw_len, len, crc, bloom_len] = x;
        if bloom_len > len {
            return Err(format!("block filter of {bloom_len} bytes in {len}"));
        }
        blocks.push(BlockMeta {
            min_ts: min,
            max_ts: max,
            entries,
            raw_len,
            offset,
            len,
            bloom_len,
            crc,
        });
        offset += u64::from(len);
    }
    if c.left() != 0 {
        return Err(format!("{} trailing bytes", c.left()));
    }
    let span = ChunkSpan {
        min_ts,
        max_ts,
        entries,
        raw_bytes,
    };
    Ok(ChunkHeader {
        stream,
        labels: Labels::new(pairs),
        upto,
        codec,
        layout,
        span,
        blocks,
    })
}

/// The bytes of `b` (filter, then compressed block) in a chunk file, CRC checked.
pub fn block_bytes<'a>(file: &'a [u8], b: &BlockMeta) -> Result<&'a [u8], String> {
    let start = usize::try_from(b.offset).map_err(|_| "offset")?;
    let data = file
        .get(start..start + b.len as usize)
        .ok_or("block past the end")?;
    if crc32fast::hash(data) != b.crc {
        return Err(format!("block at byte {} fails its CRC", b.offset));
    }
    Ok(data)
}
