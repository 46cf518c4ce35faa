//! The head's side of compaction: its time range, a snapshot of the chunks of a block's
//! range, the min valid time below which appends are out of bounds, and truncation with
//! the gc of series left empty (their slots stay, dead, so refs stay dense; their labels
//! leave the labels map and the postings, so the same labels come back under a new ref).

use super::Head;
use crate::aggregator::model::{Labels, StorageError};
use std::sync::Arc;

/// A series' chunks inside a block's range: `(min_t, max_t, XOR bytes)`, oldest first.
pub type ChunkCopies = Vec<(i64, i64, Vec<u8>)>;

impl Head {
    /// Samples older than this are refused (out of bounds) and skipped at replay.
    pub fn min_valid(&self) -> i64 {
        self.min_valid_t
    }

    /// Raises the min valid time (never lowers it).
    pub fn set_min_valid(&mut self, t: i64) {
        self.min_valid_t = self.min_valid_t.max(t);
    }

    /// The oldest and newest sample times of the live series.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let live = self.series.iter().filter(|s| !s.dead);
        live.fold(None, |acc, s| {
            let (Some(lo), Some(hi)) = (s.min_time(), s.last()) else {
                return acc;
            };
            Some(acc.map_or((lo, hi.t), |(a, b)| (lo.min(a), hi.t.max(b))))
        })
    }

    /// Copies of every chunk wholly in `mint..maxt`, per series, sorted by labels.
    pub fn snapshot(&self, mint: i64, maxt: i64) -> Vec<(Arc<Labels>, ChunkCopies)> {
        let mut out: Vec<_> = (self.series.iter().filter(|s| !s.dead))
            .map(|s| (s.labels.clone(), s.chunks_within(mint, maxt)))
            .filter(|(_, chunks)| !chunks.is_empty())
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Drops the chunks that end before `mint` and the series left empty; raises the
    /// min valid time to `mint`. Returns `(chunks, series)` dropped.
    pub fn truncate(&mut self, mint: i64) -> (usize, usize) {
        self.set_min_valid(mint);
        let (mut chunks, mut dropped) = (0, Vec::new());
        for (r, s) in self.series.iter_mut().enumerate().filter(|(_, s)| !s.dead) {
            let before = s.footprint().0;
            let empty = s.truncate_before(mint);
            chunks += before - s.footprint().0;
            if empty {
                self.index.remove(self.index.hash(&s.labels), r as u64);
                s.kill();
                dropped.push(r as u64);
            }
        }
        if !dropped.is_empty() {
            let series = &self.series;
            self.postings.retain(|r| !series[r as usize].dead);
        }
        (chunks, dropped.len())
    }

    /// Whether series `r` is in the head and not dropped.
    pub fn is_live(&self, r: u64) -> bool {
        self.series.get(r as usize).is_some_and(|s| !s.dead)
    }

    /// Adds a replayed series `r`: a checkpoint leaves gaps where dropped series were,
    /// so refs may jump ahead (the gap becomes dead slots), never back.
    pub fn add_replayed_series(&mut self, r: u64, labels: Labels) -> Result<(), StorageError> {
        const MAX_GAP: u64 = 1 << 24; // a corrupt ref must not size an allocation
        if r < self.next_ref() || r - self.next_ref() > MAX_GAP {
            return self.add_series(r, labels); // refused with the usual error
        }
        while self.next_ref() < r {
            let mut gap = super::MemSeries::new(Arc::new(Labels::default()));
            gap.kill();
            self.series.push(gap);
        }
        self.add_series(r, labels)
    }
}
