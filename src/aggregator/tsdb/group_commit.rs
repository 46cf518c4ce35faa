//! Group commit for the per-batch sync policy. Appenders write their records to the WAL
//! one at a time (under its lock) and then wait here, outside it, until an fsync that
//! began after their write has finished. Whoever finds no fsync running leads: it takes
//! the WAL's current file and write count, syncs, and wakes everyone; one fsync thus
//! acknowledges every batch written before it started, and writers keep writing while it
//! runs. A failed fsync fails every waiter not yet covered and every later one (what
//! reached the disk is unknown), and the WAL is poisoned through `on_fail`.

use crate::aggregator::model::StorageError;
use std::fs::File;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// What a leader syncs: the open segment and the writes it covers.
#[derive(Debug, Clone)]
pub struct SyncTarget {
    pub file: Arc<File>,
    /// Writes so far (the WAL's sequence number of its last write).
    pub upto: u64,
    /// The segment `file` is, and its length: durable once the sync succeeds.
    pub segment: u64,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Writes up to this sequence number are durable.
    synced: u64,
    /// `(segment, size)` known durable: the WAL is cut back to it after a failure.
    durable: (u64, u64),
    syncing: bool,
    failed: Option<(io::ErrorKind, String)>,
    fsyncs: u64,
}

impl GroupCommit {
    /// Returns once write `seq` is durable. `target` reads the WAL (taking its lock);
    /// `on_fail` gets the last durable `(segment, size)` when a sync fails.
    pub fn wait_durable(
        &self,
        seq: u64,
        target: impl Fn() -> SyncTarget,
        on_fail: impl FnOnce((u64, u64)),
    ) -> Result<(), StorageError> {
        let mut on_fail = Some(on_fail);
        let mut st = self.lock();
        loop {
            if let Some((kind, msg)) = &st.failed {
                return Err(io::Error::new(*kind, format!("WAL fsync failed: {msg}")).into());
            }
            if st.synced >= seq {
                return Ok(());
            }
            if st.syncing {
                st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.syncing = true;
            drop(st);
            st = self.lead(&target, &mut on_fail);
        }
    }

    /// Syncs what `target` gives and publishes the result; returns the state locked.
    fn lead(
        &self,
        target: &impl Fn() -> SyncTarget,
        on_fail: &mut Option<impl FnOnce((u64, u64))>,
    ) -> MutexGuard<'_, State> {
        let t = target();
        let synced = t.file.sync_data();
        let mut st = self.lock();
        st.syncing = false;
        st.fsyncs += 1;
        let Err(e) = synced else {
            st.synced = st.synced.max(t.upto);
            st.durable = (t.segment, t.size);
            self.done.notify_all();
            return st;
        };
        st.failed = Some((e.kind(), e.to_string()));
        let durable = st.durable;
        drop(st); // `on_fail` takes the WAL's lock: never under this one
        if let Some(f) = on_fail.take() {
            f(durable);
        }
        self.done.notify_all();
        self.lock()
    }

    /// The fsyncs run so far.
    pub fn fsyncs(&self) -> u64 {
        self.lock().fsyncs
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
#[path = "group_commit_tests.rs"]
mod tests;
