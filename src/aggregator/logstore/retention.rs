//! Retention: whole chunk files are deleted once their newest entry is older than the
//! retention period, and then oldest first while the chunks on disk exceed the size
//! limit. Streams left with nothing are forgotten. Each deletion is counted.

use super::metrics::Counters;
use super::options::ns;
use super::state::State;
use super::{chunk_file, LogStore};
use crate::aggregator::model::logs::LogStoreError;
use std::collections::HashSet;

impl LogStore {
    /// Deletes the chunks retention no longer keeps.
    pub fn apply_retention(&self, now: i64) -> Result<(), LogStoreError> {
        let _one = super::lock(&self.maintaining);
        let doomed = {
            let mut st = self.write_state();
            let mut doomed = Vec::new();
            if !self.opts.retention.is_zero() {
                let cutoff = now.saturating_sub(ns(self.opts.retention));
                let old = drop_chunks(&mut st, |c| c.span.max_ts < cutoff);
                Counters::add(&self.counters.chunks_deleted_age, old.len() as u64);
                doomed.extend(old);
            }
            let big = drop_oldest_over(&mut st, self.opts.retention_bytes);
            Counters::add(&self.counters.chunks_deleted_size, big.len() as u64);
            doomed.extend(big);
            st.forget_empty_streams();
            doomed
        };
        let dir = self.dir.join("chunks");
        for id in doomed {
            match std::fs::remove_file(chunk_file::path(&dir, id)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Removes the chunk refs `doomed` picks from every stream; returns their ids.
fn drop_chunks(st: &mut State, doomed: impl Fn(&super::stream::ChunkRef) -> bool) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut freed = 0;
    for s in st.streams.values_mut() {
        s.chunks.retain(|c| {
            let drop = doomed(c);
            if drop {
                ids.push(c.id);
                freed += c.file_bytes;
            }
            !drop
        });
    }
    st.disk_bytes = st.disk_bytes.saturating_sub(freed);
    ids
}

/// While the chunks on disk exceed `limit` (0: none), the oldest (by newest entry) go.
fn drop_oldest_over(st: &mut State, limit: u64) -> Vec<u64> {
    if limit == 0 || st.disk_bytes <= limit {
        return Vec::new();
    }
    let mut all: Vec<(i64, u64, u64)> = st
        .streams
        .values()
        .flat_map(|s| s.chunks.iter().map(|c| (c.span.max_ts, c.id, c.file_bytes)))
        .collect();
    all.sort_unstable();
    let mut over = st.disk_bytes - limit;
    let mut picked = HashSet::new();
    for (_, id, bytes) in all {
        if over == 0 {
            break;
        }
        picked.insert(id);
        over = over.saturating_sub(bytes);
    }
    drop_chunks(st, |c| picked.contains(&c.id))
}
