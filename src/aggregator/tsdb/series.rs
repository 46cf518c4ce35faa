//! One series in the head: its labels, the closed chunks (immutable XOR bytes with their
//! time range) and the open chunk samples are appended to. A chunk is cut at 120
//! samples (as Prometheus does) or when the sample's time leaves the chunk's window
//! (`chunk_range` aligned, 2 h by default), so chunks never straddle a block boundary.

use super::chunk::{XorEncoder, XorIter, SAMPLES_PER_CHUNK};
use crate::aggregator::model::{Labels, Sample, StorageError};
use std::sync::Arc;

/// A full chunk.
#[derive(Debug)]
pub struct ClosedChunk {
    pub min_t: i64,
    pub max_t: i64,
    pub data: Box<[u8]>,
}

#[derive(Debug)]
struct OpenChunk {
    enc: XorEncoder,
    min_t: i64,
    window_end: i64,
}

#[derive(Debug)]
pub struct MemSeries {
    pub labels: Arc<Labels>,
    pub closed: Vec<ClosedChunk>,
    open: Option<OpenChunk>,
    /// Dropped by the head's gc (its slot keeps the refs dense): takes no samples.
    pub dead: bool,
}

impl MemSeries {
    pub fn new(labels: Arc<Labels>) -> Self {
        MemSeries {
            labels,
            closed: Vec::new(),
            open: None,
            dead: false,
        }
    }

    /// The newest sample.
    pub fn last(&self) -> Option<Sample> {
        self.open.as_ref().and_then(|o| o.enc.last())
    }

    /// Appends a sample newer than [`Self::last`] (the caller checked).
    pub fn append(&mut self, s: Sample, chunk_range: i64) {
        let full = self
            .open
            .as_ref()
            .is_some_and(|o| o.enc.num_samples() >= SAMPLES_PER_CHUNK || s.t >= o.window_end);
        if full {
            self.close_open();
        }
        let open = self.open.get_or_insert_with(|| OpenChunk {
            enc: XorEncoder::default(),
            min_t: s.t,
            window_end: s
                .t
                .div_euclid(chunk_range)
                .saturating_add(1)
                .saturating_mul(chunk_range),
        });
        open.enc.append(s.t, s.v);
    }

    fn close_open(&mut self) {
        if let Some(o) = self.open.take() {
            let max_t = o.enc.last().map_or(o.min_t, |s| s.t);
            self.closed.push(ClosedChunk {
                min_t: o.min_t,
                max_t,
                data: o.enc.into_bytes().into_boxed_slice(),
            });
        }
    }

    /// Every chunk's `(min_t, max_t, bytes)`, oldest first.
    fn chunks(&self) -> impl Iterator<Item = (i64, i64, &[u8])> {
        let closed = self.closed.iter().map(|c| (c.min_t, c.max_t, &c.data[..]));
        let open = self.open.iter().filter_map(|o| {
            let last = o.enc.last()?;
            Some((o.min_t, last.t, o.enc.bytes()))
        });
        closed.chain(open)
    }

    /// The samples in `mint..=maxt`, in time order.
    pub fn samples(&self, mint: i64, maxt: i64) -> Result<Vec<Sample>, StorageError> {
        let mut out = Vec::new();
        for (lo, hi, bytes) in self.chunks() {
            if hi < mint || lo > maxt {
                continue;
            }
            let mut it = XorIter::new(bytes).map_err(corrupt)?;
            let mut next = it.seek(mint).map_err(corrupt)?;
            while let Some(s) = next.filter(|s| s.t <= maxt) {
                out.push(s);
                next = it.next_sample().map_err(corrupt)?;
            }
        }
        Ok(out)
    }

    /// Whether a sample lies in `mint..=maxt`.
    pub fn has_sample_in(&self, mint: i64, maxt: i64) -> Result<bool, StorageError> {
        for (lo, hi, bytes) in self.chunks() {
            if hi < mint || lo > maxt {
                continue;
            }
            if lo >= mint || hi <= maxt {
                return Ok(true); // an end sample of the chunk is in range
            }
            let mut it = XorIter::new(bytes).map_err(corrupt)?;
            if it.seek(mint).map_err(corrupt)?.is_some_and(|s| s.t <= maxt) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The oldest sample's time.
    pub fn min_time(&self) -> Option<i64> {
        self.chunks().next().map(|(lo, _, _)| lo)
    }

    /// Copies of the chunks wholly inside `mint..maxt` (`maxt` exclusive), oldest first.
    pub fn chunks_within(&self, mint: i64, maxt: i64) -> Vec<(i64, i64, Vec<u8>)> {
        self.chunks()
            .filter(|&(lo, hi, _)| lo >= mint && hi < maxt)
            .map(|(lo, hi, b)| (lo, hi, b.to_vec()))
            .collect()
    }

    /// Drops the chunks that end before `mint`; true when nothing is left.
    pub fn truncate_before(&mut self, mint: i64) -> bool {
        self.closed.retain(|c| c.max_t >= mint);
        if self.last().is_some_and(|l| l.t < mint) {
            self.open = None;
        }
        self.closed.is_empty() && self.last().is_none()
    }

    /// Empties a series the gc dropped.
    pub fn kill(&mut self) {
        self.closed = Vec::new();
        self.open = None;
        self.dead = true;
    }

    /// `(chunks, samples, bytes)` held.
    pub fn footprint(&self) -> (usize, usize, usize) {
        self.chunks().fold((0, 0, 0), |(c, s, b), (_, _, bytes)| {
            let n = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
            (c + 1, s + n, b + bytes.len())
        })
    }
}

fn corrupt(e: super::bstream::ChunkError) -> StorageError {
    StorageError::Corrupt(format!("head chunk: {e}"))
}
