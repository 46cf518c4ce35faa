//! Getting chunks to disk: sealed chunks are written outside the state lock (one
//! writer at a time) and then swapped for index entries; the WAL is truncated behind
//! them once it passes its size limit; [`LogStore::maintain`] (the caller's timer) seals
//! idle chunks and runs retention; [`LogStore::shutdown`] writes everything out.

use super::chunk::SealedChunk;
use super::metrics::Counters;
use super::options::ns;
use super::stream::ChunkRef;
use super::{chunk_file, index_file, lock, LogStore};
use crate::aggregator::model::logs::LogStoreError;
use crate::aggregator::model::Labels;
use std::collections::HashSet;
use std::fs::File;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

impl LogStore {
    /// After a durable push: seals the biggest chunks when over the memory budget,
    /// writes what is sealed, truncates the WAL when due. Failures are logged and
    /// counted: the push itself is durable in the WAL.
    pub(super) fn after_push(&self) {
        {
            let over = self.read_state().mem_bytes > self.opts.max_memory_bytes;
            if over {
                let n = self.write_state().seal_biggest(&self.opts);
                Counters::add(&self.counters.memory_pressure_flushes, n);
            }
        }
        let queued = !self.read_state().queue.is_empty();
        if queued && self.flushing.try_lock().is_ok() {
            if let Err(e) = self.flush_queue() {
                tracing::warn!(error = %e, "Could not write log chunks; will retry.");
            }
        }
        if self.wal_bytes.load(Relaxed) > self.opts.wal_max_bytes {
            if let Err(e) = self.truncate_wal() {
                tracing::warn!(error = %e, "Could not truncate the log WAL; will retry.");
            }
        }
    }

    /// Writes every sealed chunk waiting; returns how many were written.
    pub fn flush_queue(&self) -> Result<u64, LogStoreError> {
        let _one = lock(&self.flushing);
        let batch: Vec<(Arc<SealedChunk>, Labels)> = {
            let mut st = self.write_state();
            let queue = std::mem::take(&mut st.queue);
            queue
                .into_iter()
                .filter_map(|c| st.streams.get(&c.stream).map(|s| (c, s.labels.clone())))
                .collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let dir = self.dir.join("chunks");
        let (mut done, mut failed, mut error) = (Vec::new(), Vec::new(), None);
        // A chunk is written only after its stream's earlier ones: its header's WAL
        // sequence number says every earlier record of the stream is on disk.
        let mut blocked = HashSet::new();
        for (c, labels) in batch {
            if blocked.contains(&c.stream) {
                failed.push(c);
                continue;
            }
            match chunk_file::write(&dir, &c, &labels) {
                Ok(size) => done.push((c, size)),
                Err(e) => {
                    Counters::add(&self.counters.chunk_flush_failures, 1);
                    blocked.insert(c.stream);
                    failed.push(c);
                    error = Some(e);
                }
            }
        }
        if let Err(e) = File::open(&dir).and_then(|d| d.sync_all()) {
            failed.extend(done.drain(..).map(|(c, _)| c));
            error = Some(e);
        }
        let written = done.len() as u64;
        self.install(done, failed);
        Counters::add(&self.counters.chunks_flushed, written);
        error.map_or(Ok(written), |e| Err(e.into()))
    }

    /// Swaps written chunks for index entries; puts failed ones back in the queue.
    fn install(&self, done: Vec<(Arc<SealedChunk>, u64)>, mut failed: Vec<Arc<SealedChunk>>) {
        let mut st = self.write_state();
        for (c, size) in done {
            st.mem_bytes = st.mem_bytes.saturating_sub(c.mem_bytes());
            st.disk_bytes += size;
            let Some(s) = st.streams.get_mut(&c.stream) else {
                continue;
            };
            s.sealed.retain(|x| x.id != c.id);
            s.chunks.push(ChunkRef {
                id: c.id,
                span: c.span,
                file_bytes: size,
            });
            s.flushed_upto = s.flushed_upto.max(c.upto);
        }
        failed.append(&mut st.queue); // earlier chunks first
        st.queue = failed;
    }

    /// Seals every open chunk, writes them all, persists the index and deletes the WAL
    /// segments they cover.
    pub fn truncate_wal(&self) -> Result<(), LogStoreError> {
        let _one = lock(&self.maintaining);
        let segment = self.lock_wal().cut()?;
        self.write_state().seal_where(&self.opts, |_| true);
        self.flush_queue()?;
        index_file::write(&self.dir, &self.read_state())?;
        self.lock_wal().remove_segments_before(segment)?;
        self.wal_bytes.store(0, Relaxed);
        Counters::add(&self.counters.wal_truncations, 1);
        Ok(())
    }

    /// Periodic upkeep (call it every few tens of seconds): seals chunks idle for the
    /// idle period, writes sealed chunks, runs retention and truncates the WAL when due.
    pub fn maintain(&self) -> Result<(), LogStoreError> {
        let now = (self.opts.now)();
        let idle = ns(self.opts.chunk_idle_period);
        self.write_state().seal_where(&self.opts, |s| {
            s.open
                .as_ref()
                .is_some_and(|c| now.saturating_sub(c.last_append) >= idle)
        });
        self.flush_queue()?;
        self.apply_retention(now)?;
        if self.wal_bytes.load(Relaxed) > self.opts.wal_max_bytes {
            self.truncate_wal()?;
        }
        Ok(())
    }

    /// Writes every chunk and the index and empties the WAL (Loki flushes on shutdown
    /// too): the next open replays nothing.
    pub fn shutdown(&self) -> Result<(), LogStoreError> {
        self.truncate_wal()
    }
}
