//! What changed since the stable file: each change of an entry (new, moved, removed)
//! takes the next number; a durable write that succeeds carries the number it was
//! taken at, and changes up to it are then in the stable file. The quick write after an
//! acknowledged batch encodes only the entries changed since (durable.rs), so with
//! thousands of entries it costs what the last batches touched, not the whole store.
//!
//! The stable file lags the store's start when the state came from a quick or temp file
//! (a crash): quick writes are then whole until a durable write succeeds, or a crash
//! before it would lose the changes the previous process made.

use super::{format, CheckpointStore, FileId, Snapshot};
use std::collections::BTreeMap;

/// Changes since the stable file, by number.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// The last change's number.
    last: u64,
    /// Each entry changed since the stable file, and its last change's number.
    since_stable: BTreeMap<FileId, u64>,
    /// The stable file lacks the state the store started from.
    whole: bool,
}

impl Changes {
    pub(super) fn new(whole: bool) -> Self {
        Changes {
            whole,
            ..Changes::default()
        }
    }

    pub(super) fn record(&mut self, id: FileId) {
        self.last += 1;
        self.since_stable.insert(id, self.last);
    }

    /// The stable file now holds every change up to `upto`.
    fn durable(&mut self, upto: u64) {
        self.since_stable.retain(|_, n| *n > upto);
        self.whole = false;
    }
}

impl CheckpointStore {
    /// Notes a change of the entry `id` (or its removal).
    pub(super) fn touch(&mut self, id: FileId) {
        self.changes.record(id);
        self.dirty = true;
    }

    /// The quick file's next content if anything changed since the last write: the
    /// entries changed since the stable file, and the ids removed (or the whole state,
    /// see the module's header). Unlike [`CheckpointStore::snapshot`] it prunes nothing:
    /// pruning is left to the durable writes, off the sender's path.
    pub fn snapshot_quick(&mut self) -> Option<Snapshot> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let bytes = match self.changes.whole {
            true => format::encode(self.records()),
            false => {
                let (mut files, mut removed) = (Vec::new(), Vec::new());
                for id in self.changes.since_stable.keys() {
                    match self.entries.get(id) {
                        Some(e) => files.push(e.record(id)),
                        None => removed.push(*id),
                    }
                }
                format::encode_changes(files, removed)
            }
        };
        Some(Snapshot::new(self.dir.clone(), bytes, self.changes.last))
    }

    /// The outcome of writing a durable [`Snapshot`] (the stable file): on success the
    /// quick writes that follow count their changes from its state.
    pub fn written_durably(&mut self, snapshot_state: u64, ok: bool) {
        if ok {
            self.changes.durable(snapshot_state);
        }
        self.written(ok);
    }

    /// The number of the last change a snapshot taken now would hold.
    pub(super) fn last_change(&self) -> u64 {
        self.changes.last
    }

    /// How many entries the next quick write would hold, for tests and measurements.
    pub fn changed_since_stable(&self) -> usize {
        self.changes.since_stable.len()
    }
}
