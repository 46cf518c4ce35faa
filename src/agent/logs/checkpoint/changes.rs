//! What changed since the stable file: each change of an entry (new, moved, removed)
//! takes the next number; a durable write that succeeds carries the number it was
//! taken at, and changes up to it are then in the stable file. The quick write after an
//! acknowledged batch encodes only the entries changed since (durable.rs), so with
//! thousands of entries it costs what the last batches touched, not the whole store.
//!
//! The stable file lags the store's start when the state came from a quick or temp file
//! (a crash): quick writes are then whole until a durable write succeeds, or a crash
//! before it would lose the changes the previous process made.

use super::{CheckpointStore, FileId};
use std::collections::BTreeMap;

/// Changes since the stable file, by number.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// The last change's number.
    last: u64,
    /// Each entry changed since the stable file, and its last change's number.
    pub(super) since_stable: BTreeMap<FileId, u64>,
    /// The stable file lacks the state the store started from.
    pub(super) whole: bool,
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
    pub(super) fn durable(&mut self, upto: u64) {
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

    /// The number of the last change a snapshot taken now would hold.
    pub(super) fn last_change(&self) -> u64 {
        self.changes.last
    }
}
