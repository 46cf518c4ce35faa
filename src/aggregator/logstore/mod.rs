//! The log store: Loki's push in ([`LogAppender`]), entries by stream and time out
//! ([`LogReader`]), on local disk.
//!
//! A push is judged under the state lock (Loki's out-of-order window, duplicates,
//! bounds, limits), applied to the streams' open chunks, and its accepted entries are
//! written as one WAL record (the TSDB's WAL, framing our own [`record`]); the push
//! returns once a group-commit fsync covers it. A stream's open chunk has an
//! uncompressed head block cut into compressed blocks ([`chunk`], [`block`]); chunks
//! are sealed by size, span, idleness and memory pressure and written one file each
//! ([`chunk_file`], [`flush`]), then the WAL is truncated behind them. The index —
//! streams, label postings, per stream its chunks' spans — lives in memory and is
//! persisted in [`index_file`]. Reads ([`read`], [`scan`]) open only chunks overlapping
//! the range. Retention by age and size deletes whole chunk files ([`retention`]).
//!
//! Layout: `<dir>/wal/` (segments), `<dir>/chunks/<id>` and `<dir>/index`.

pub mod block;
pub mod bloom;
pub mod chunk;
pub mod chunk_file;
pub mod codec;
pub mod fields;
mod flush;
pub mod index_file;
mod metrics;
mod options;
mod read;
pub mod record;
mod retention;
pub mod scan;
mod spare;
mod state;
mod stream;

pub use codec::Codec;
pub use index_file::LoadStats;
pub use metrics::Row;
pub use options::{wall_clock_ns, LogStoreOptions};

use crate::aggregator::model::logs::{LogAppender, LogStoreError, PushOutcome, PushStream};
use crate::aggregator::model::StorageError;
use crate::aggregator::tsdb::group_commit::GroupCommit;
use crate::aggregator::tsdb::wal::{ReplayStats, SyncPolicy, Wal, WalOptions};
use metrics::Counters;
use state::{Mode, State};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What the store found at open.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpenStats {
    pub load: LoadStats,
    pub replay: ReplayStats,
}

pub struct LogStore {
    dir: PathBuf,
    opts: LogStoreOptions,
    state: RwLock<State>,
    wal: Mutex<Wal>,
    commit: GroupCommit,
    /// Held while chunks are written (one writer at a time).
    flushing: Mutex<()>,
    /// Held while the WAL is truncated or retention runs.
    maintaining: Mutex<()>,
    /// Bytes written to the WAL since it was last truncated.
    wal_bytes: AtomicU64,
    counters: Counters,
    opened: OpenStats,
}

impl From<StorageError> for LogStoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Io(e) => LogStoreError::Io(e),
            StorageError::Corrupt(why) => LogStoreError::Corrupt(why),
            StorageError::Limit(why) => LogStoreError::Limit(why),
        }
    }
}

impl LogStore {
    /// Opens (or creates) the store in `dir`: reads the index and the chunk headers it
    /// lacks, replays the WAL (a torn tail is cut and counted), and writes out what
    /// replay sealed.
    pub fn open(dir: &Path, opts: LogStoreOptions) -> Result<LogStore, LogStoreError> {
        opts.validate()
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let chunks = dir.join("chunks");
        std::fs::create_dir_all(&chunks)?;
        let counters = Counters::default();
        let (mut state, load) = index_file::load(dir, &chunks, &counters)?;
        let wal_opts = WalOptions {
            kinds: &[record::KIND_PUSH],
            ..opts.wal.clone()
        };
        let now = (opts.now)();
        let (wal, replay) = Wal::open_raw(&dir.join("wal"), wal_opts, |_, payload| {
            let rec = record::decode(payload).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            state.apply(
                rec.streams,
                Mode::Replay { seq: rec.seq, now },
                &opts,
                &counters,
            );
            Ok(())
        })?;
        Counters::add(&counters.wal_torn_bytes, replay.torn_bytes);
        state.seal_biggest(&opts);
        let wal_bytes = AtomicU64::new(wal.disk_bytes()?);
        let opened = OpenStats { load, replay };
        tracing::info!(
            streams = state.streams.len(),
            chunks = opened.load.chunks,
            records = opened.replay.records,
            "Opened the log store."
        );
        let store = LogStore {
            dir: dir.to_owned(),
            opts,
            state: RwLock::new(state),
            wal: Mutex::new(wal),
            commit: GroupCommit::default(),
            flushing: Mutex::new(()),
            maintaining: Mutex::new(()),
            wal_bytes,
            counters,
            opened,
        };
        store.flush_queue()?;
        Ok(store)
    }

    /// What open found.
    pub fn open_stats(&self) -> &OpenStats {
        &self.opened
    }

    /// The store's counters and gauges as `(name, help, type, value)`.
    pub fn metrics(&self) -> Vec<Row> {
        let st = self.read_state();
        let g = metrics::Gauges {
            streams: st.streams.len() as u64,
            memory_bytes: st.mem_bytes as u64,
            chunks_on_disk: st.streams.values().map(|s| s.chunks.len() as u64).sum(),
            disk_bytes: st.disk_bytes,
        };
        metrics::rows(&self.counters, g)
    }

    /// Applies a push and writes its WAL record; returns the write's sequence number
    /// (None: nothing accepted, nothing to wait for).
    fn apply_and_log(
        &self,
        streams: Vec<PushStream>,
    ) -> Result<(PushOutcome, Option<u64>), LogStoreError> {
        let now = (self.opts.now)();
        let mut st = self.write_state();
        let (outcome, record) = st.apply(streams, Mode::Push { now }, &self.opts, &self.counters);
        let Some(record) = record else {
            return Ok((outcome, None));
        };
        let mut wal = self.lock_wal();
        let seq = wal.write(&[(record::KIND_PUSH, &record)])?;
        self.wal_bytes.fetch_add(record.len() as u64 + 9, Relaxed);
        Ok((outcome, Some(seq)))
    }

    fn wait_durable(&self, seq: u64) -> Result<(), LogStoreError> {
        if self.opts.wal.sync != SyncPolicy::EveryBatch {
            return Ok(self.lock_wal().sync_if_due()?);
        }
        let target = || self.lock_wal().sync_target();
        let on_fail = |durable| self.lock_wal().poison(durable);
        Ok(self.commit.wait_durable(seq, target, on_fail)?)
    }

    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_wal(&self) -> MutexGuard<'_, Wal> {
        self.wal.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LogAppender for LogStore {
    fn push(&self, streams: Vec<PushStream>) -> Result<PushOutcome, LogStoreError> {
        let (outcome, seq) = self.apply_and_log(streams)?;
        if let Some(seq) = seq {
            self.wait_durable(seq)?;
            self.after_push();
        }
        Ok(outcome)
    }
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
