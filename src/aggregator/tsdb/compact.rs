//! Compaction of the head into blocks, as Prometheus's `db.go` (`compactHead`) and
//! `head.go` (`Truncate`) do it. Once the head spans more than 1.5 block ranges, its
//! oldest whole range `mint..maxt` is persisted, in this order:
//!
//! 1. appends older than `maxt` become out of bounds (under the WAL lock, so no planned
//!    batch is in flight), so the range cannot change while it is copied;
//! 2. its chunks are copied out of the head and written as a block;
//! 3. the block joins the block list (queries now see the range twice, deduplicated);
//! 4. the head drops those chunks and the series left empty;
//! 5. once every due range is done, the WAL is cut to a new segment and the older ones
//!    (and the previous checkpoint) are checkpointed and deleted.
//!
//! A crash after 2 leaves a block and a WAL that still holds its samples: `open` skips
//! replayed samples older than the newest block's end, so nothing is lost or doubled.
//! The background thread runs [`Tsdb::compact`] every `compact_every`, off the append
//! path; it then applies the retention ([`retention`]).

#[path = "retention.rs"]
mod retention;

use super::block::{self, Block};
use super::{wal, Inner, Tsdb};
use crate::aggregator::model::StorageError;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Running counts, exported on the aggregator's `/metrics`.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub compactions: AtomicU64,
    pub compactions_failed: AtomicU64,
    pub blocks_failed: AtomicU64,
    pub retention_deletions_time: AtomicU64,
    pub retention_deletions_size: AtomicU64,
    pub wal_truncations: AtomicU64,
    pub out_of_bounds: AtomicU64,
}

/// A snapshot of the store's counts (Prometheus's `prometheus_tsdb_*` in spirit).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TsdbMetrics {
    pub blocks_loaded: u64,
    pub blocks_bytes: u64,
    pub blocks_failed: u64,
    pub compactions: u64,
    pub compactions_failed: u64,
    pub retention_deletions_time: u64,
    pub retention_deletions_size: u64,
    pub wal_truncations: u64,
    pub head_series: u64,
    pub out_of_bounds_samples: u64,
    pub wal_fsyncs: u64,
}

impl TsdbMetrics {
    /// `(name, help, type, value)` for the aggregator's `/metrics`.
    pub fn families(&self) -> Vec<(&'static str, &'static str, &'static str, u64)> {
        vec![
            (
                "nodepulse_tsdb_blocks_loaded",
                "Blocks the store has open.",
                "gauge",
                self.blocks_loaded,
            ),
            (
                "nodepulse_tsdb_blocks_bytes",
                "Bytes of the open blocks.",
                "gauge",
                self.blocks_bytes,
            ),
            (
                "nodepulse_tsdb_blocks_failed_total",
                "Blocks refused as damaged at open.",
                "counter",
                self.blocks_failed,
            ),
            (
                "nodepulse_tsdb_compactions_total",
                "Head ranges persisted as blocks.",
                "counter",
                self.compactions,
            ),
            (
                "nodepulse_tsdb_compactions_failed_total",
                "Compactions that failed (the head keeps the data).",
                "counter",
                self.compactions_failed,
            ),
            (
                "nodepulse_tsdb_time_retentions_total",
                "Blocks deleted past the retention time.",
                "counter",
                self.retention_deletions_time,
            ),
            (
                "nodepulse_tsdb_size_retentions_total",
                "Blocks deleted past the retention size.",
                "counter",
                self.retention_deletions_size,
            ),
            (
                "nodepulse_tsdb_wal_truncations_total",
                "WAL truncations behind a checkpoint.",
                "counter",
                self.wal_truncations,
            ),
            (
                "nodepulse_tsdb_head_series",
                "Series in the head.",
                "gauge",
                self.head_series,
            ),
            (
                "nodepulse_tsdb_out_of_bounds_samples_total",
                "Samples refused as older than the head's min valid time.",
                "counter",
                self.out_of_bounds_samples,
            ),
            (
                "nodepulse_tsdb_wal_fsyncs_total",
                "fsyncs of the WAL (one may acknowledge many append batches).",
                "counter",
                self.wal_fsyncs,
            ),
        ]
    }
}

/// What one [`Tsdb::compact`] call did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactStats {
    pub blocks_written: u64,
    pub head_chunks_dropped: u64,
    pub head_series_dropped: u64,
    pub wal_segments_deleted: u64,
    pub blocks_deleted: u64,
}

impl Tsdb {
    /// Persists every whole block range the head holds beyond 1.5 ranges, truncates the
    /// head and the WAL behind them, then applies the retention.
    pub fn compact(&self) -> Result<CompactStats, StorageError> {
        let done = self.inner.compact();
        if done.is_err() {
            self.inner
                .counters
                .compactions_failed
                .fetch_add(1, Ordering::Relaxed);
        }
        done
    }

    /// The store's counts now.
    pub fn metrics(&self) -> TsdbMetrics {
        let c = &self.inner.counters;
        let blocks = self.inner.blocks();
        TsdbMetrics {
            blocks_loaded: blocks.len() as u64,
            blocks_bytes: blocks.iter().map(|b| b.bytes).sum(),
            blocks_failed: c.blocks_failed.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            compactions_failed: c.compactions_failed.load(Ordering::Relaxed),
            retention_deletions_time: c.retention_deletions_time.load(Ordering::Relaxed),
            retention_deletions_size: c.retention_deletions_size.load(Ordering::Relaxed),
            wal_truncations: c.wal_truncations.load(Ordering::Relaxed),
            head_series: self.head_stats().series as u64,
            out_of_bounds_samples: c.out_of_bounds.load(Ordering::Relaxed),
            wal_fsyncs: self.wal_fsyncs(),
        }
    }

    /// The open blocks' metas, oldest first.
    pub fn blocks(&self) -> Vec<block::BlockMeta> {
        self.inner.blocks().iter().map(|b| b.meta.clone()).collect()
    }
}

impl Inner {
    fn compact(&self) -> Result<CompactStats, StorageError> {
        let _one = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = CompactStats::default();
        let range = self.opts.chunk_range_ms.max(1);
        let mut truncated = None;
        loop {
            let span = self.read_head().time_range(); // the guard must not outlive this
            let Some((lo, _)) = span.filter(|(lo, hi)| hi.saturating_sub(*lo) > range / 2 * 3)
            else {
                break;
            };
            let mint = lo.div_euclid(range) * range;
            let maxt = mint.saturating_add(range);
            self.compact_range(mint, maxt, &mut st)?;
            truncated = Some(maxt);
        }
        if let Some(maxt) = truncated {
            st.wal_segments_deleted += self.truncate_wal(maxt)?;
            release_freed_memory();
        }
        st.blocks_deleted = self.apply_retention()?;
        Ok(st)
    }

    fn compact_range(
        &self,
        mint: i64,
        maxt: i64,
        st: &mut CompactStats,
    ) -> Result<(), StorageError> {
        {
            let _appends = self.lock_wal();
            self.write_head().set_min_valid(maxt);
        }
        let copies = self.read_head().snapshot(mint, maxt);
        if !copies.is_empty() {
            let dir = block::write(&self.dir, mint, maxt, &copies)?;
            let mut b = Block::open(&dir)?;
            b.share_labels(copies.iter().map(|(labels, _)| &**labels));
            tracing::info!(block = %b.meta.ulid, mint, maxt, series = b.meta.stats.num_series,
                samples = b.meta.stats.num_samples, "Wrote a block of the head.");
            let mut blocks = self.blocks.write().unwrap_or_else(|e| e.into_inner());
            blocks.push(Arc::new(b));
            blocks.sort_by_key(|b| b.meta.min_time);
            st.blocks_written += 1;
        }
        let (chunks, series) = {
            let _appends = self.lock_wal();
            self.write_head().truncate(maxt)
        };
        st.head_chunks_dropped += chunks as u64;
        st.head_series_dropped += series as u64;
        self.counters.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Checkpoints every closed WAL segment: live series, samples from `min_t` on.
    fn truncate_wal(&self, min_t: i64) -> Result<u64, StorageError> {
        let (current, dir, opts) = {
            let mut wal = self.lock_wal();
            (wal.cut()?, wal.dir().to_owned(), wal.options().clone())
        };
        let Some(upto) = current.checked_sub(1) else {
            return Ok(0);
        };
        let live: Vec<bool> = {
            let head = self.read_head();
            (0..head.next_ref()).map(|r| head.is_live(r)).collect()
        };
        let keep = |r: u64| live.get(r as usize).copied().unwrap_or(false);
        let st = wal::checkpoint(&dir, &opts, upto, keep, min_t)?;
        self.counters
            .wal_truncations
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            upto,
            deleted = st.segments_deleted,
            series = st.series_kept,
            samples = st.samples_kept,
            "Truncated the WAL behind a checkpoint."
        );
        Ok(st.segments_deleted)
    }
}

/// Opens every block in `dir` (oldest first) after deleting leftover `.tmp`
/// directories; a damaged block is logged, counted and left out.
pub(super) fn load_blocks(dir: &Path) -> Result<(Vec<Arc<Block>>, u64), StorageError> {
    let (mut blocks, mut failed) = (Vec::new(), 0);
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let unfinished = name.strip_suffix(".tmp").is_some_and(block::is_ulid);
        if unfinished && entry.file_type()?.is_dir() {
            tracing::info!(dir = %entry.path().display(), "Deleted an unfinished block directory.");
            fs::remove_dir_all(entry.path())?;
            continue;
        }
        if !entry.file_type()?.is_dir() || !block::is_ulid(&name) {
            continue;
        }
        match Block::open(&entry.path()) {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e) => {
                failed += 1;
                tracing::error!(error = %e, "Refused a damaged block; it is left on disk.");
            }
        }
    }
    blocks.sort_by_key(|b| b.meta.min_time);
    Ok((blocks, failed))
}

/// Compacts every `every` until the store is dropped.
/// Hands the heap pages a compaction freed (the head's persisted chunks, the copies the
/// block was written from) back to the kernel, as Go's runtime does for Prometheus;
/// glibc's allocator would otherwise keep them in the process's RSS.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims glibc's own heap arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub(super) fn spawn_compactor(inner: Weak<Inner>, every: Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = inner.compact() {
            inner
                .counters
                .compactions_failed
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "Compaction failed; the head keeps the data.");
        }
    });
}
