//! What the store writes, and when: [`Snapshot`], the next content of the stable file
//! (the whole state, pruned first: [`CheckpointStore::snapshot`]) or of the quick file
//! (what changed since the stable file: [`CheckpointStore::snapshot_quick`]), taken under
//! the store's lock and written without it (blocking I/O); the outcome is handed back
//! ([`CheckpointStore::written`], [`CheckpointStore::written_durably`]).

use super::{durable, format, CheckpointError, CheckpointStore, QuickFile, Record};
use std::path::{Path, PathBuf};

impl CheckpointStore {
    /// Prunes expired entries and, if anything changed since the last write, writes the
    /// checkpoint file atomically and durably, and removes the quick file (the caller
    /// makes no quick writes meanwhile). Returns whether it wrote.
    pub fn persist(&mut self) -> Result<bool, CheckpointError> {
        let Some(snapshot) = self.snapshot() else {
            return Ok(false);
        };
        let result = snapshot.write().and_then(|()| {
            snapshot
                .quick()
                .remove()
                .map_err(|source| CheckpointError::Io {
                    path: snapshot.dir().to_owned(),
                    source,
                })
        });
        self.written_durably(snapshot.state(), result.is_ok());
        result.map(|()| true)
    }

    /// The first half of [`CheckpointStore::persist`], for callers that write without
    /// holding the store (its lock): prunes, and if anything changed returns the stable
    /// file's bytes; the store counts itself clean until
    /// [`CheckpointStore::written_durably`] says the write failed. Only one durable
    /// snapshot may be written at a time.
    pub fn snapshot(&mut self) -> Option<Snapshot> {
        self.prune();
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        Some(Snapshot::new(
            self.dir.clone(),
            self.quick.clone(),
            format::encode(self.records()),
            self.last_change(),
        ))
    }

    /// [`CheckpointStore::snapshot`] whether or not anything changed (the stable file
    /// is behind the quick one).
    pub fn snapshot_all(&mut self) -> Snapshot {
        self.dirty = true;
        self.snapshot().expect("a dirty store has a snapshot")
    }

    /// The outcome of writing the last quick [`Snapshot`].
    pub fn written(&mut self, ok: bool) {
        match ok {
            true => self.stats.persisted += 1,
            false => self.dirty = true,
        }
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
        Some(Snapshot::new(
            self.dir.clone(),
            self.quick.clone(),
            bytes,
            self.last_change(),
        ))
    }

    /// The outcome of writing a durable [`Snapshot`] (the stable file): on success the
    /// quick writes that follow count their changes from its state.
    pub fn written_durably(&mut self, snapshot_state: u64, ok: bool) {
        if ok {
            self.changes.durable(snapshot_state);
        }
        self.written(ok);
    }

    fn records(&self) -> Vec<Record> {
        self.entries.iter().map(|(id, e)| e.record(id)).collect()
    }
}

/// Which file a [`Snapshot`] goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotWrite {
    Durable,
    Quick,
}

/// The checkpoint file's next content, to be written with no lock held (blocking I/O).
pub struct Snapshot {
    dir: PathBuf,
    quick: QuickFile,
    bytes: Vec<u8>,
    /// The number of the store's last change it holds (changes.rs).
    state: u64,
}

impl Snapshot {
    pub(super) fn new(dir: PathBuf, quick: QuickFile, bytes: Vec<u8>, state: u64) -> Self {
        Snapshot {
            dir,
            quick,
            bytes,
            state,
        }
    }

    /// What to hand [`CheckpointStore::written_durably`] once written durably.
    pub fn state(&self) -> u64 {
        self.state
    }

    /// The bytes to write, for measurements.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Writes `checkpoints.json` atomically and durably (tmp file, fsync, rename, fsync
    /// of the directory); the quick file stays (see [`Snapshot::remove_quick`]).
    pub fn write(&self) -> Result<(), CheckpointError> {
        durable::write_atomically(&self.dir, &self.bytes).map_err(|e| self.error(e))
    }

    /// Writes the quick file ([`QuickFile::write`]): safe from a process crash, not
    /// from a power cut, and no wait on the disk; [`Snapshot::write`] later makes the
    /// state durable.
    pub fn write_quick(&self) -> Result<(), CheckpointError> {
        self.quick.write(&self.bytes).map_err(|e| self.error(e))
    }

    pub fn write_as(&self, how: SnapshotWrite) -> Result<(), CheckpointError> {
        match how {
            SnapshotWrite::Durable => self.write(),
            SnapshotWrite::Quick => self.write_quick(),
        }
    }

    /// The store's quick file: removed by the caller once a durable write holds a
    /// state at least as new ([`QuickFile::remove`]).
    pub fn quick(&self) -> &QuickFile {
        &self.quick
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn error(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: self.dir.clone(),
            source,
        }
    }
}
