//! The aggregator's on-disk metric store: [`Tsdb`] implements [`Querier`] and
//! [`Appender`]. An append batch is checked against the head (order, duplicates),
//! logged to the write-ahead log ([`wal`]) and applied to the in-memory head of XOR
//! chunks ([`chunk`]). `open` replays the WAL. Appenders plan, write and apply one at a
//! time under the WAL's lock; queries hold the head's read lock, see a batch whole or
//! not at all, and never wait on an fsync.
//!
//! What an acknowledged batch (`append` returned `Ok`) survives, by [`SyncPolicy`]:
//! - every policy: `kill -9` of the process — the batch was written to the WAL (the page
//!   cache) before `append` returned;
//! - `EveryBatch` (the default): power loss too — `append` returns only once an fsync
//!   that began after the batch's write has finished. Concurrent appenders share those
//!   fsyncs (group commit, [`group_commit`]): each writes, leaves the lock, and waits;
//!   one fsync acknowledges every batch written before it started. A query may see a
//!   batch while its fsync runs; if that fsync fails, the WAL is cut back to what was
//!   durable, the waiting appenders get the error and the store refuses later appends;
//! - `Interval(d)`: power loss only once a sync ran, at most `d` after the batch.
//!
//! Persistence, as Prometheus's TSDB: once the head spans 1.5 block ranges, its oldest
//! whole range is written as an immutable [`block`] and dropped from the head, and the
//! WAL is truncated behind a checkpoint ([`compact`]); blocks past the retention (time
//! or size) are deleted. Queries merge the blocks and the head ([`query`]).
//!
//! Layout: `<dir>/<ULID>/{meta.json,chunks,index}` per block, `<dir>/wal/NNNNNNNN`
//! segments and `<dir>/wal/checkpoint.NNNNNNNN`. Leftover `*.tmp*` directories (a block
//! write or deletion cut short) are deleted at `open`; a damaged block is refused, logged
//! and counted, and the store opens with the others.

pub mod block;
pub mod bstream;
pub mod chunk;
mod compact;
pub(crate) mod group_commit;
mod head;
pub(crate) mod postings;
mod query;
pub mod record;
mod series;
mod series_index;
pub mod wal;

pub use compact::{CompactStats, TsdbMetrics};
pub use head::HeadStats;
pub use wal::{ReplayStats, SyncPolicy, WalOptions};

use crate::aggregator::model::{AppendOutcome, Appender, Labels, Sample, StorageError};
use block::Block;
use compact::Counters;
use group_commit::GroupCommit;
use head::{Head, Plan};
use record::Record;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use wal::Wal;

/// Settings of the store.
#[derive(Debug, Clone)]
pub struct TsdbOptions {
    pub wal: WalOptions,
    /// Chunks never straddle a multiple of this (ms; 2 h, Prometheus's block range);
    /// a block holds one such range.
    pub chunk_range_ms: i64,
    /// Blocks whose newest time is older than the newest sample minus this are
    /// deleted (ms; 15 d, `--storage.retention`).
    pub retention_ms: i64,
    /// Oldest blocks are deleted while blocks and WAL exceed this many bytes (0: no
    /// limit; `--storage.retention.size`).
    pub retention_bytes: u64,
    /// How often a background thread checks whether the head is due for compaction
    /// (None: only when [`Tsdb::compact`] is called).
    pub compact_every: Option<Duration>,
}

impl Default for TsdbOptions {
    fn default() -> Self {
        TsdbOptions {
            wal: WalOptions::default(),
            chunk_range_ms: 2 * 3600 * 1000,
            retention_ms: 15 * 24 * 3600 * 1000,
            retention_bytes: 0,
            compact_every: Some(Duration::from_secs(60)),
        }
    }
}

/// What `open` found in the WAL.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpenStats {
    pub replay: ReplayStats,
    /// Replayed samples of unknown series or out of order, skipped.
    pub skipped_samples: u64,
    /// Replayed samples older than the newest block's end (already in a block).
    pub samples_in_blocks: u64,
    pub blocks_loaded: u64,
    /// Blocks refused as damaged (logged; left on disk).
    pub blocks_failed: u64,
}

pub struct Tsdb {
    inner: Arc<Inner>,
    opened: OpenStats,
}

struct Inner {
    dir: PathBuf,
    opts: TsdbOptions,
    head: RwLock<Head>,
    wal: Mutex<Wal>,
    /// Sorted by min time; replaced whole by compaction and retention.
    blocks: RwLock<Vec<Arc<Block>>>,
    /// One compaction or retention pass at a time.
    compacting: Mutex<()>,
    counters: Counters,
    /// Syncs the WAL for appenders under `SyncPolicy::EveryBatch`.
    commit: GroupCommit,
    group_commit: bool,
}

impl Tsdb {
    /// Opens (or creates) the store in `dir`: its blocks, then its WAL replayed.
    pub fn open(dir: &Path, opts: TsdbOptions) -> Result<Tsdb, StorageError> {
        std::fs::create_dir_all(dir)?;
        let (blocks, failed) = compact::load_blocks(dir)?;
        let mut head = Head::new(opts.chunk_range_ms);
        head.set_min_valid(
            blocks
                .iter()
                .map(|b| b.meta.max_time)
                .max()
                .unwrap_or(i64::MIN),
        );
        let mut opened = OpenStats {
            blocks_loaded: blocks.len() as u64,
            blocks_failed: failed,
            ..Default::default()
        };
        let (wal, replay) = Wal::open(&dir.join("wal"), opts.wal.clone(), |rec| {
            replay_record(&mut head, rec, &mut opened)
        })?;
        opened.replay = replay;
        if opened.skipped_samples > 0 {
            tracing::warn!(
                skipped = opened.skipped_samples,
                "Skipped WAL samples of unknown series or out of order."
            );
        }
        head.truncate(head.min_valid()); // series replayed with nothing left: gone
        let inner = Arc::new(Inner {
            dir: dir.to_owned(),
            opts: opts.clone(),
            head: RwLock::new(head),
            wal: Mutex::new(wal),
            blocks: RwLock::new(blocks),
            compacting: Mutex::new(()),
            counters: Counters::default(),
            commit: GroupCommit::default(),
            group_commit: opts.wal.sync == SyncPolicy::EveryBatch,
        });
        inner
            .counters
            .blocks_failed
            .store(failed, Ordering::Relaxed);
        if let SyncPolicy::Interval(every) = opts.wal.sync {
            spawn_syncer(Arc::downgrade(&inner), every);
        }
        if let Some(every) = opts.compact_every {
            compact::spawn_compactor(Arc::downgrade(&inner), every);
        }
        Ok(Tsdb { inner, opened })
    }

    /// What `open` replayed.
    pub fn open_stats(&self) -> &OpenStats {
        &self.opened
    }

    pub fn head_stats(&self) -> HeadStats {
        self.inner.read_head().stats()
    }

    /// Bytes of WAL on disk.
    pub fn wal_bytes(&self) -> Result<u64, StorageError> {
        self.inner.lock_wal().disk_bytes()
    }

    /// Fsyncs of the WAL so far (per batch, per group, per segment, on demand).
    pub fn wal_fsyncs(&self) -> u64 {
        let own = self.inner.lock_wal().fsyncs();
        own + self.inner.commit.fsyncs()
    }

    /// Syncs the WAL now (for `Interval` policies, e.g. at shutdown).
    pub fn sync(&self) -> Result<(), StorageError> {
        self.inner.lock_wal().sync()
    }
}

fn replay_record(head: &mut Head, rec: Record, st: &mut OpenStats) -> Result<(), StorageError> {
    match rec {
        Record::Series(list) => list
            .into_iter()
            .try_for_each(|(r, l)| head.add_replayed_series(r, l)),
        Record::Samples(samples) => {
            for s in samples {
                if s.t < head.min_valid() {
                    st.samples_in_blocks += 1;
                } else {
                    st.skipped_samples += u64::from(!head.append(s));
                }
            }
            Ok(())
        }
    }
}

/// Syncs a WAL under an `Interval` policy every `every` until the store is dropped.
fn spawn_syncer(inner: Weak<Inner>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let Some(inner) = inner.upgrade() else { return };
        let synced = inner.lock_wal().sync_if_due();
        if let Err(e) = synced {
            tracing::error!(error = %e, "Could not sync the WAL.");
        }
    });
}

impl Inner {
    fn read_head(&self) -> std::sync::RwLockReadGuard<'_, Head> {
        self.head.read().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_wal(&self) -> std::sync::MutexGuard<'_, Wal> {
        self.wal.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write_head(&self) -> std::sync::RwLockWriteGuard<'_, Head> {
        self.head.write().unwrap_or_else(|e| e.into_inner())
    }

    fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let wal = self.wal.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = wal.sync() {
            tracing::error!(error = %e, "Could not sync the WAL at close.");
        }
    }
}

/// The WAL records of a plan: its new series, then its samples.
fn encode_plan(plan: &Plan) -> (Vec<u8>, Vec<u8>) {
    let mut series = Vec::new();
    if !plan.new_series.is_empty() {
        let list: Vec<(u64, &Labels)> = plan.new_series.iter().map(|(r, l)| (*r, l)).collect();
        record::encode_series(&list, &mut series);
    }
    // At most 28 bytes a sample (ref and time varints, 8 value bytes): sized once.
    let mut samples = Vec::with_capacity(20 + 28 * plan.samples.len());
    if !plan.samples.is_empty() {
        record::encode_samples(&plan.samples, &mut samples);
    }
    (series, samples)
}

impl Appender for Tsdb {
    fn append(&self, batch: &[(Labels, Vec<Sample>)]) -> Result<AppendOutcome, StorageError> {
        let (outcome, seq) = self.inner.write_and_apply(batch)?;
        if let Some(seq) = seq {
            let inner = &self.inner;
            inner.commit.wait_durable(
                seq,
                || inner.lock_wal().sync_target(),
                |durable| inner.lock_wal().poison(durable),
            )?;
        }
        Ok(outcome)
    }
}

impl Inner {
    /// Plans `batch`, logs it and applies it to the head, one appender at a time (the
    /// plan stays valid). Returns the WAL write to wait for under group commit.
    fn write_and_apply(
        &self,
        batch: &[(Labels, Vec<Sample>)],
    ) -> Result<(AppendOutcome, Option<u64>), StorageError> {
        let mut wal = self.lock_wal();
        let plan = self.read_head().plan(batch);
        let (series, samples) = encode_plan(&plan);
        let mut records: Vec<(u8, &[u8])> = Vec::with_capacity(2);
        if !series.is_empty() {
            records.push((record::KIND_SERIES, &series));
        }
        if !samples.is_empty() {
            records.push((record::KIND_SAMPLES, &samples));
        }
        let seq = match records.is_empty() {
            true => None,
            false if self.group_commit => Some(wal.write(&records)?),
            false => wal.log(&records).map(|()| None)?,
        };
        if plan.out_of_bounds > 0 {
            let c = &self.counters.out_of_bounds;
            c.fetch_add(plan.out_of_bounds, Ordering::Relaxed);
        }
        let mut head = self.head.write().unwrap_or_else(|e| e.into_inner());
        for (r, labels) in plan.new_series {
            head.add_series(r, labels)?;
        }
        for s in plan.samples {
            head.append(s);
        }
        Ok((plan.outcome, seq))
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod compact_tests;
#[cfg(test)]
mod tests;
