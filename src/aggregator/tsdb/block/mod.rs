//! Persisted blocks: an immutable directory per time range, as Prometheus's TSDB lays
//! them out (our own byte format, at least as compact as Prometheus's: no encoding byte
//! per chunk). `<dir>/<ULID>/` holds
//!
//! - `meta.json`: `ulid`, `minTime`, `maxTime` (exclusive, as Prometheus's), `stats`
//!   (`numSeries`, `numChunks`, `numSamples`) and `version` (1);
//! - `chunks`: `"NPC1"`, then the head's XOR chunks verbatim, each framed as a varint
//!   length, the chunk's bytes and their CRC32 (u32 LE);
//! - `index`: symbols, series (label symbol refs and chunk metas: min/max time and
//!   offset into `chunks`), postings per label pair, a table of contents and a CRC32
//!   (see [`index`]).
//!
//! `open` reads the index (CRC checked) and checks the chunks file's length; chunks are
//! read with `pread` when a query needs them, and their CRC is checked then. A block
//! whose files are damaged is refused with an error naming the file.

pub mod index;
mod write;

pub use write::{is_ulid, write};

use crate::aggregator::model::{Labels, Sample, Series, StorageError};
use crate::aggregator::tsdb::chunk::XorIter;
use index::{BlockSeries, ChunkMeta};
use promql_parser::label::Matcher;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const CHUNKS_MAGIC: &[u8; 4] = b"NPC1";

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    pub num_series: u64,
    pub num_chunks: u64,
    pub num_samples: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    pub ulid: String,
    pub min_time: i64,
    /// Exclusive: the block holds samples in `min_time..max_time`.
    pub max_time: i64,
    pub stats: BlockStats,
    pub version: u32,
}

/// An open block: its meta and index in memory, its chunks on disk.
#[derive(Debug)]
pub struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    series: Vec<BlockSeries>,
    postings: crate::aggregator::tsdb::postings::Postings,
    chunks: File,
    chunks_len: u64,
    /// Bytes of the block's files.
    pub bytes: u64,
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("block file {}: {why}", path.display()))
}

impl Block {
    pub fn open(dir: &Path) -> Result<Block, StorageError> {
        let meta_path = dir.join("meta.json");
        let meta: BlockMeta =
            serde_json::from_slice(&read(&meta_path)?).map_err(|e| corrupt(&meta_path, e))?;
        if meta.version != 1 || meta.min_time >= meta.max_time {
            return Err(corrupt(&meta_path, "unknown version or empty time range"));
        }
        let index_path = dir.join("index");
        let index_bytes = read(&index_path)?;
        let index =
            index::decode(&index_bytes, meta.min_time).map_err(|e| corrupt(&index_path, e))?;
        let chunks_path = dir.join("chunks");
        let chunks = File::open(&chunks_path).map_err(|e| io_at(&chunks_path, e))?;
        let len = chunks.metadata()?.len();
        let mut magic = [0u8; 4];
        if len != index.chunks_len
            || chunks.read_exact_at(&mut magic, 0).is_err()
            || &magic != CHUNKS_MAGIC
        {
            let why = format!(
                "{len} bytes, the index expects {}, or bad magic",
                index.chunks_len
            );
            return Err(corrupt(&chunks_path, why));
        }
        let bytes = len + index_bytes.len() as u64 + std::fs::metadata(&meta_path)?.len();
        Ok(Block {
            dir: dir.to_owned(),
            meta,
            series: index.series,
            postings: index.postings,
            chunks,
            chunks_len: len,
            bytes,
        })
    }

    /// Takes each series' labels from an equal set in `sorted` (ascending, as the
    /// block's series are), so a block cut from the head shares the head's label
    /// strings instead of holding a second copy of every one. Returns how many did.
    pub fn share_labels<'a>(&mut self, sorted: impl IntoIterator<Item = &'a Labels>) -> usize {
        let mut theirs = sorted.into_iter().peekable();
        let mut shared = 0;
        for s in &mut self.series {
            while theirs.next_if(|l| **l < s.labels).is_some() {}
            if let Some(l) = theirs.next_if(|l| **l == s.labels) {
                s.labels = l.clone();
                shared += 1;
            }
        }
        shared
    }

    /// Whether the block holds times in `mint..=maxt`.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && self.meta.max_time > mint
    }

    /// The series matching `matchers` with samples in `mint..=maxt`, sorted by labels.
    pub fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError> {
        let mut out = Vec::new();
        for s in self.matching(matchers) {
            let mut samples = Vec::new();
            for c in s
                .chunks
                .iter()
                .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            {
                self.read_samples(c, mint, maxt, &mut samples)?;
            }
            if !samples.is_empty() {
                out.push(Series {
                    labels: s.labels.clone(),
                    samples,
                });
            }
        }
        Ok(out)
    }

    /// The labels of the series `select` would return.
    pub fn label_sets(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        let mut out = Vec::new();
        for s in self.matching(matchers) {
            for c in s
                .chunks
                .iter()
                .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            {
                let mut one = Vec::new();
                if c.min_t >= mint || c.max_t <= maxt || {
                    self.read_samples(c, mint, maxt, &mut one)?;
                    !one.is_empty()
                } {
                    out.push(s.labels.clone());
                    break;
                }
            }
        }
        Ok(out)
    }

    fn matching<'a>(
        &'a self,
        matchers: &'a [Matcher],
    ) -> impl Iterator<Item = &'a BlockSeries> + 'a {
        let refs: Box<dyn Iterator<Item = u64>> = match self.postings.candidates(matchers) {
            Some(refs) => Box::new(refs.into_iter()),
            None => Box::new(0..self.series.len() as u64),
        };
        refs.map(|r| &self.series[r as usize])
            .filter(move |s| s.labels.matches(matchers))
    }

    /// Appends the samples of chunk `c` in `mint..=maxt` to `out`.
    fn read_samples(
        &self,
        c: &ChunkMeta,
        mint: i64,
        maxt: i64,
        out: &mut Vec<Sample>,
    ) -> Result<(), StorageError> {
        let data = self.read_chunk(c.offset)?;
        let path = self.dir.join("chunks");
        let bad = |e| corrupt(&path, format_args!("chunk at {}: {e}", c.offset));
        let mut it = XorIter::new(&data).map_err(bad)?;
        let mut next = it.seek(mint).map_err(bad)?;
        while let Some(s) = next.filter(|s| s.t <= maxt) {
            out.push(s);
            next = it.next_sample().map_err(bad)?;
        }
        Ok(())
    }

    /// The chunk framed at `offset`, its CRC checked.
    fn read_chunk(&self, offset: u64) -> Result<Vec<u8>, StorageError> {
        let path = self.dir.join("chunks");
        let bad = |why: &str| corrupt(&path, format_args!("chunk at {offset}: {why}"));
        let mut buf = vec![0u8; 512];
        let got = read_at_most(&self.chunks, &mut buf, offset)?;
        buf.truncate(got);
        let (len, head) = uvarint(&buf).ok_or_else(|| bad("bad length"))?;
        let total = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_add(head + 4));
        let total = total.filter(|&t| offset.saturating_add(t as u64) <= self.chunks_len);
        let total = total.ok_or_else(|| bad("length past the end of the file"))?;
        if total > buf.len() {
            let more = buf.len();
            buf.resize(total, 0);
            self.chunks
                .read_exact_at(&mut buf[more..], offset + more as u64)?;
        }
        let (data, crc) = buf[head..total].split_at(total - head - 4);
        if crc32fast::hash(data) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(bad("CRC mismatch"));
        }
        Ok(data.to_vec())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, StorageError> {
    std::fs::read(path).map_err(|e| io_at(path, e))
}

fn io_at(path: &Path, e: std::io::Error) -> StorageError {
    StorageError::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

/// `pread` until `buf` is full or the file ends; the bytes read.
fn read_at_most(f: &File, buf: &mut [u8], offset: u64) -> Result<usize, StorageError> {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], offset + got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// A LEB128 varint at the start of `b`: `(value, bytes)`.
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
