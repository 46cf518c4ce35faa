//! The checkpointer's two writes (checkpoint/durable.rs has the files):
//!
//! - quick, after each acknowledged batch: the quick file (two slots written in place,
//!   checkpoint/quick.rs), no fsync, while the
//!   sender waits (the crash bound); it holds the entries changed since the last durable
//!   write (checkpoint/changes.rs), and prunes nothing;
//! - durable, on the timer and at shutdown: `checkpoints.json` with fsyncs, then the
//!   quick file is removed, but only if no quick write happened since the durable
//!   write's snapshot (the quick file would then be newer), which `quick_writes`, locked
//!   across each quick write, tells.
//!
//! Both encode the store under its lock and write on the blocking pool without it.

use super::Checkpointer;
use crate::agent::logs::checkpoint::{Snapshot, SnapshotWrite};
use std::sync::atomic::Ordering;

impl Checkpointer {
    pub(super) async fn persist_quickly(&self) {
        let mut quick_writes = self.quick_writes.lock().await;
        let Some(snapshot) = self.lock_store().snapshot_quick() else {
            return;
        };
        let ok = self.write(snapshot, SnapshotWrite::Quick).await;
        if ok {
            *quick_writes += 1;
            self.behind.store(true, Ordering::Release);
        }
        self.written(ok, None);
    }

    /// Writes the stable file if the store changed or the quick file is ahead of it.
    pub(super) async fn persist_durably(&self) {
        let seen = *self.quick_writes.lock().await;
        let snapshot = {
            let mut store = self.lock_store();
            match self.behind.load(Ordering::Acquire) {
                true => Some(store.snapshot_all()),
                false => store.snapshot(),
            }
        };
        let Some(snapshot) = snapshot else {
            return;
        };
        let (quick, state) = (snapshot.quick().clone(), snapshot.state());
        let ok = self.write(snapshot, SnapshotWrite::Durable).await;
        if ok {
            let quick_writes = self.quick_writes.lock().await;
            if *quick_writes == seen {
                if let Err(e) = quick.remove() {
                    tracing::warn!(error = %e, "The quick checkpoint file could not be removed; its state is not newer.");
                }
                self.behind.store(false, Ordering::Release);
            }
        }
        self.written(ok, Some(state));
    }

    async fn write(&self, snapshot: Snapshot, how: SnapshotWrite) -> bool {
        let written = tokio::task::spawn_blocking(move || snapshot.write_as(how)).await;
        if let Ok(Err(e)) = &written {
            tracing::warn!(error = %e, "The checkpoints could not be written; retrying later.");
        }
        matches!(written, Ok(Ok(())))
    }

    /// The outcome of a write; `durable`: the state of the stable file written.
    fn written(&self, ok: bool, durable: Option<u64>) {
        let mut store = self.lock_store();
        match durable {
            Some(state) => store.written_durably(state, ok),
            None => store.written(ok),
        }
        *self
            .metrics
            .checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = store.stats().clone();
    }

    fn lock_store(
        &self,
    ) -> std::sync::MutexGuard<'_, crate::agent::logs::checkpoint::CheckpointStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}
