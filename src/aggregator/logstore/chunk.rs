//! A stream's chunk in memory, as Loki's `MemChunk` is: an uncompressed head block that
//! takes entries in any order, cut (sorted, encoded, compressed) into an immutable block
//! once it holds `block_bytes`, with its trigram filter ([`bloom`]); the chunk itself is sealed by the store (size, age,
//! idleness, memory pressure) and then written to disk whole.

use super::block::{HeadEntry, Layout};
use super::bloom;
use super::codec::Codec;
use bytes::Bytes;

/// Per-entry bookkeeping a head entry costs beyond its bytes (struct and allocations).
const HEAD_ENTRY_OVERHEAD: usize = 64;

/// Where a block is and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMeta {
    pub min_ts: i64,
    pub max_ts: i64,
    pub entries: u32,
    pub raw_len: u32,
    /// Offset of its bytes (trigram filter, then compressed lines) in the chunk file
    /// (0 while in memory).
    pub offset: u64,
    /// Its bytes: filter and compressed block.
    pub len: u32,
    /// The filter's share of `len` (0: none; chunk format 1 has none).
    pub bloom_len: u32,
    /// CRC32 of its bytes (filter and compressed block).
    pub crc: u32,
}

/// A block held in memory, filter then compressed bytes (shared with scans running
/// outside the lock).
#[derive(Debug, Clone)]
pub struct MemBlock {
    pub meta: BlockMeta,
    pub data: Bytes,
}

/// Times, counts and sizes of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSpan {
    pub min_ts: i64,
    pub max_ts: i64,
    pub entries: u64,
    pub raw_bytes: u64,
}

impl ChunkSpan {
    pub const EMPTY: ChunkSpan = ChunkSpan {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        entries: 0,
        raw_bytes: 0,
    };

    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.entries > 0 && self.min_ts < end && self.max_ts >= start
    }

    fn add(&mut self, ts: i64, raw: usize) {
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        self.entries += 1;
        self.raw_bytes += raw as u64;
    }
}

/// The chunk a stream appends to.
#[derive(Debug)]
pub struct OpenChunk {
    pub blocks: Vec<MemBlock>,
    /// Entries in push order, not yet compressed.
    pub head: Vec<HeadEntry>,
    head_bytes: usize,
    compressed: usize,
    pub span: ChunkSpan,
    /// Wall time (ns) of the last append: for the idle period.
    pub last_append: i64,
}

impl OpenChunk {
    pub fn new(now: i64) -> Self {
        OpenChunk {
            blocks: Vec::new(),
            head: Vec::new(),
            head_bytes: 0,
            compressed: 0,
            span: ChunkSpan::EMPTY,
            last_append: now,
        }
    }

    /// Adds an entry; cuts the head block once it holds `block_bytes`.
    pub fn push(&mut self, e: HeadEntry, now: i64, block_bytes: usize, coding: (Codec, Layout)) {
        let raw = e.raw_size();
        let cut = self.cuts_after(&e, block_bytes);
        self.span.add(e.ts, raw);
        self.head_bytes += raw + HEAD_ENTRY_OVERHEAD;
        self.head.push(e);
        self.last_append = now;
        if cut {
            self.cut_head(coding);
        }
    }

    /// Whether [`Self::push`]ing `e` cuts the head block (it then holds `block_bytes`).
    pub fn cuts_after(&self, e: &HeadEntry, block_bytes: usize) -> bool {
        self.head_bytes + e.raw_size() + HEAD_ENTRY_OVERHEAD >= block_bytes
    }

    /// Sorts the head by time (ties keep push order), encodes (in `layout`) and
    /// compresses (with `codec`) it.
    pub fn cut_head(&mut self, (codec, layout): (Codec, Layout)) {
        if self.head.is_empty() {
            return;
        }
        let mut head = std::mem::take(&mut self.head);
        // most heads arrive in time order: checked in one pass, sorted (with the stable
        // sort's scratch allocation) only when not
        if !head.is_sorted_by_key(|e| e.ts) {
            head.sort_by_key(|e| e.ts);
        }
        let mut raw = Vec::with_capacity(self.head_bytes);
        layout.encode(&head, &mut raw);
        let mut data = bloom::build(head.iter().map(|e| e.line.as_bytes()));
        let bloom_len = data.len() as u32;
        data.extend_from_slice(&codec.compress(&raw));
        let meta = BlockMeta {
            min_ts: head[0].ts,
            max_ts: head[head.len() - 1].ts,
            entries: head.len() as u32,
            raw_len: raw.len() as u32,
            offset: 0,
            len: data.len() as u32,
            bloom_len,
            crc: crc32fast::hash(&data),
        };
        let data = Bytes::from(data);
        self.compressed += data.len();
        self.head_bytes = 0;
        self.blocks.push(MemBlock { meta, data });
    }

    /// Bytes it holds in memory.
    pub fn mem_bytes(&self) -> usize {
        self.head_bytes + self.compressed
    }

    /// Compressed bytes of its cut blocks.
    pub fn compressed_bytes(&self) -> usize {
        self.compressed
    }

    pub fn is_empty(&self) -> bool {
        self.span.entries == 0
    }

    /// Whether an entry equal to (`ts`, `line`) is in the head block.
    pub fn head_has(&self, ts: i64, line: &str) -> bool {
        self.head.iter().any(|e| e.ts == ts && e.line == line)
    }

    /// The head's entries in `start..end`, in time order (ties in push order).
    pub fn head_in(&self, start: i64, end: i64) -> Vec<HeadEntry> {
        let mut out: Vec<HeadEntry> = self
            .head
            .iter()
            .filter(|e| e.ts >= start && e.ts < end)
            .cloned()
            .collect();
        out.sort_by_key(|e| e.ts);
        out
    }

    /// Cuts the head and hands the chunk over for writing.
    pub fn seal(mut self, coding: (Codec, Layout), id: u64, stream: u64, upto: u64) -> SealedChunk {
        self.cut_head(coding);
        SealedChunk {
            id,
            stream,
            upto,
            codec: coding.0,
            layout: coding.1,
            span: self.span,
            blocks: self.blocks,
        }
    }
}

/// A chunk cut from its stream, waiting to be (or being) written to disk.
#[derive(Debug)]
pub struct SealedChunk {
    pub id: u64,
    pub stream: u64,
    /// Every entry of the stream from WAL records up to this sequence number is in this
    /// chunk or an earlier one.
    pub upto: u64,
    pub codec: Codec,
    /// How its blocks are encoded (the chunk file's format follows).
    pub layout: Layout,
    pub span: ChunkSpan,
    pub blocks: Vec<MemBlock>,
}

impl SealedChunk {
    pub fn mem_bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.data.len()).sum()
    }
}
