//! The checkpoint store: for each log file (identified by [`FileId`]), the byte offset
//! the sinks have acknowledged, the path it was last seen at and when. Loaded from
//! `<data_dir>/checkpoints.json` at start, persisted atomically ([`durable`]); what is
//! written when is [`snapshot`]'s, quick writes carry only what changed ([`changes`]),
//! and entries of files no longer at their path go after the retention ([`prune`]).
//!
//! At-least-once lives here: an offset only moves forward, on acknowledgement
//! ([`CheckpointStore::advance`] refuses to go back); the one way back is an explicit
//! [`CheckpointStore::reset`] when the tailer sees a copytruncate. A checkpoint file that
//! cannot be read never stops the agent: it is kept aside, counted, and the store starts
//! empty (at worst lines are sent twice, never lost).

mod changes;
mod copies;
pub(crate) mod durable;
mod format;
pub mod identity;
mod prune;
mod quick;
mod snapshot;

pub use identity::{FileId, Fingerprint, Probe, FINGERPRINT_LEN};
pub use quick::QuickFile;
pub use snapshot::{Snapshot, SnapshotWrite};

use changes::Changes;
use format::Record;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// How long an entry outlives its file by default (`--logs.checkpoint-retention`; why
/// this long: [`prune`]).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(5 * 60);

/// A seen-but-unchanged entry refreshes its stored `updated` time at most this often, so
/// that merely seeing files does not rewrite the checkpoint file on every persist.
const TOUCH_PERSIST_INTERVAL: u64 = 60 * 60;

/// Where the store reads the time (a fake in tests).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

#[derive(Debug, Error)]
pub enum CheckpointError {
    #[error("checkpoint directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no checkpoint for file dev={} ino={}", .0.dev, .0.ino)]
    UnknownFile(FileId),
    #[error("refused to move a checkpoint back from {current} to {requested}; a truncated file is reset, not rewound")]
    Backwards { current: u64, requested: u64 },
    #[error("late acknowledgement for generation {acked} of a file now at generation {current} (truncated and read again); ignored")]
    LateAck { acked: u32, current: u32 },
}

/// What the store has had to deal with, for `/metrics`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Unreadable checkpoint files set aside at start.
    pub corrupt_files: u64,
    /// Starts that took their state from a complete temp file (crash before rename).
    pub recovered_from_temp: u64,
    /// Incomplete temp files removed at start (crash during a write).
    pub discarded_temp: u64,
    /// Starts that took their state from the quick file (a crash since the last durable
    /// write).
    pub recovered_from_quick: u64,
    /// Files whose dev/inode came back with other first bytes (inode reuse, rewrite).
    pub inode_reuses: u64,
    /// Explicit resets to 0 (copytruncate).
    pub resets: u64,
    /// Acknowledgements for a file's content from before a reset, ignored.
    pub late_acks: u64,
    /// Entries dropped after their retention.
    pub pruned: u64,
    /// Successful writes of the checkpoint file.
    pub persisted: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    offset: u64,
    path: String,
    updated: u64,
    gone_since: Option<u64>,
    /// Resolved since this process loaded it (not stored).
    seen: bool,
    /// Found still at its path by a prune: not looked for again before then (not stored).
    recheck_at: u64,
}

impl Entry {
    fn record(&self, id: &FileId) -> Record {
        Record {
            id: *id,
            offset: self.offset,
            path: self.path.clone(),
            updated: self.updated,
            gone_since: self.gone_since,
        }
    }
}

pub struct CheckpointStore {
    dir: PathBuf,
    /// The quick file (quick.rs), kept open between writes.
    quick: QuickFile,
    retention: Duration,
    clock: Clock,
    entries: BTreeMap<FileId, Entry>,
    /// Ids handed out before a file's fingerprint grew ─▶ its current id, so that
    /// acknowledgements still in flight find their file.
    aliases: HashMap<FileId, FileId>,
    dirty: bool,
    changes: Changes,
    stats: CheckpointStats,
    /// When this process opened the store (Unix seconds).
    opened: u64,
}

impl CheckpointStore {
    /// Loads the store from `data_dir`, creating the directory if needed. Only a
    /// directory that cannot be created is an error; bad file contents are not.
    pub fn open(data_dir: &Path, retention: Duration) -> Result<Self, CheckpointError> {
        Self::open_with_clock(data_dir, retention, Arc::new(SystemTime::now))
    }

    pub fn open_with_clock(
        data_dir: &Path,
        retention: Duration,
        clock: Clock,
    ) -> Result<Self, CheckpointError> {
        std::fs::create_dir_all(data_dir).map_err(|source| CheckpointError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let mut store = CheckpointStore {
            dir: data_dir.to_owned(),
            quick: QuickFile::new(data_dir),
            retention,
            clock,
            entries: BTreeMap::new(),
            aliases: HashMap::new(),
            dirty: false,
            changes: Changes::default(),
            stats: CheckpointStats::default(),
            opened: 0,
        };
        store.opened = store.now();
        let recovered = durable::recover(data_dir, store.now());
        store.stats.recovered_from_temp = u64::from(recovered.from_temp);
        store.stats.discarded_temp = u64::from(recovered.discarded_temp);
        store.stats.recovered_from_quick = u64::from(recovered.from_quick);
        store.stats.corrupt_files = u64::from(recovered.corrupt.is_some());
        store.changes = Changes::new(recovered.from_quick || recovered.from_temp);
        for record in recovered.records {
            store.load(record);
        }
        Ok(store)
    }

    /// Keeps one entry per dev/inode: the most recently updated if the file had several.
    fn load(&mut self, r: Record) {
        if let Some(other) = self.find(r.id.dev, r.id.ino) {
            if self.entries[&other].updated > r.updated {
                return;
            }
            self.entries.remove(&other);
        }
        let entry = Entry {
            offset: r.offset,
            path: r.path,
            updated: r.updated,
            gone_since: r.gone_since,
            seen: false,
            recheck_at: 0,
        };
        self.entries.insert(r.id, entry);
    }

    /// Finds or creates the entry for the file probed at `path`, and returns its id.
    ///
    /// Same dev/inode and the stored fingerprint a prefix of the file's first bytes: the
    /// same file (perhaps renamed, perhaps grown; a grown partial fingerprint is upgraded).
    /// Same dev/inode, other first bytes: the inode was reused (or the file rewritten),
    /// so the old entry goes and the file starts at offset 0.
    ///
    /// The id carries the entry's generation; a file whose content changed starts a
    /// newer generation than the old entry's, so acks for the old content never match.
    pub fn resolve(&mut self, probe: &Probe, path: &Path) -> FileId {
        let mut id = probe.id();
        let now = self.now();
        match self.find(probe.dev, probe.ino) {
            Some(old) if old.fingerprint.is_prefix_of(&probe.head) => {
                id.fingerprint = id.fingerprint.with_generation(old.fingerprint.generation());
                self.rekey(old, id);
            }
            Some(old) => {
                tracing::debug!(path = %path.display(), ino = probe.ino, offset = self.entries[&old].offset,
                    "A file's inode holds other first bytes than its checkpoint's: the checkpoint was dropped.");
                self.remove(old);
                let next = old.fingerprint.generation().wrapping_add(1);
                id.fingerprint = id.fingerprint.with_generation(next);
                self.stats.inode_reuses += 1;
            }
            None => {}
        }
        let path = path.to_string_lossy();
        let mut changed = false;
        let entry = self.entries.entry(id).or_insert_with(|| {
            changed = true;
            Entry {
                offset: 0,
                path: path.to_string(),
                updated: now,
                gone_since: None,
                seen: true,
                recheck_at: 0,
            }
        });
        if entry.path != path || entry.gone_since.is_some() {
            entry.path = path.into_owned();
            entry.gone_since = None;
            changed = true;
        }
        changed |= now.saturating_sub(entry.updated) >= TOUCH_PERSIST_INTERVAL;
        entry.updated = now;
        entry.seen = true;
        if changed {
            self.touch(id);
        }
        id
    }

    /// Re-keys the entry of `id` on the first bytes `probe` read from the same file now
    /// (it grew since it was keyed), keeping its path and offset; returns the id to use.
    /// Acknowledgements still in flight for `id` find the entry through an alias. A probe
    /// of another file, or bytes that do not extend the fingerprint, change nothing.
    pub fn refresh(&mut self, id: &FileId, probe: &Probe) -> FileId {
        let current = self.current(id);
        let grown = current.dev == probe.dev
            && current.ino == probe.ino
            && current.fingerprint.is_prefix_of(&probe.head);
        match grown {
            true => self.extend_key(&current, Fingerprint::of(&probe.head)),
            false => current,
        }
    }

    /// Re-keys the entry of `id` on `longer`, the fingerprint of more of the same
    /// file's first bytes (the caller read them, the file may have changed since: a
    /// truncated file's entry keeps naming the content its offset counts in); returns
    /// the id to use. A fingerprint covering no more bytes than the key changes nothing.
    pub fn extend_key(&mut self, id: &FileId, longer: Fingerprint) -> FileId {
        let current = self.current(id);
        let covered = current.fingerprint.covered_len();
        if longer.covered_len() <= covered || !self.entries.contains_key(&current) {
            return current;
        }
        let generation = current.fingerprint.generation();
        let new = FileId {
            fingerprint: longer.with_generation(generation),
            ..current
        };
        self.rekey(current, new);
        new
    }

    /// True when the store has an entry for the file probed (the same identity rules as
    /// [`CheckpointStore::resolve`], without creating one): the tailer asks this before
    /// `resolve` to tell a file it has a checkpoint for from one it meets for the first time.
    pub fn knows(&self, probe: &Probe) -> bool {
        self.find(probe.dev, probe.ino)
            .is_some_and(|old| old.fingerprint.is_prefix_of(&probe.head))
    }

    /// The acknowledged offset of a file, if the store knows it.
    pub fn get(&self, id: &FileId) -> Option<u64> {
        self.entries.get(&self.current(id)).map(|e| e.offset)
    }

    /// Records that the sinks acknowledged the file up to `offset`. Never moves back. An
    /// ack for a content from before a reset (an older generation) is ignored and counted.
    pub fn advance(&mut self, id: &FileId, offset: u64) -> Result<(), CheckpointError> {
        let now = self.now();
        if !self.entries.contains_key(&self.current(id)) {
            if let Some(current) = self.find(id.dev, id.ino) {
                let (acked, current) = (
                    id.fingerprint.generation(),
                    current.fingerprint.generation(),
                );
                if acked < current {
                    self.stats.late_acks += 1;
                    return Err(CheckpointError::LateAck { acked, current });
                }
            }
        }
        let entry = self.entry_mut(id)?;
        if offset < entry.offset {
            return Err(CheckpointError::Backwards {
                current: entry.offset,
                requested: offset,
            });
        }
        if offset > entry.offset {
            entry.offset = offset;
            entry.updated = now;
            self.touch(self.current(id));
        }
        Ok(())
    }

    /// Sets a file's offset back to 0: the tailer saw it truncated (copytruncate). The
    /// entry moves to the next generation, returned: acks still in flight for the old
    /// content (the old id, and ids aliased to it) no longer find it.
    pub fn reset(&mut self, id: &FileId) -> Result<FileId, CheckpointError> {
        let now = self.now();
        let old = self.current(id);
        let mut entry = self
            .entries
            .remove(&old)
            .ok_or(CheckpointError::UnknownFile(*id))?;
        // Aliases to `old` are kept: they now find no entry (late acks), unless the copy
        // is claimed (`claim_copy`), which points them at it.
        entry.offset = 0;
        entry.updated = now;
        let next = old.fingerprint.generation().wrapping_add(1);
        let new = FileId {
            fingerprint: old.fingerprint.with_generation(next),
            ..old
        };
        self.entries.insert(new, entry);
        self.stats.resets += 1;
        self.touch(old);
        self.touch(new);
        Ok(new)
    }

    /// Records that the file is gone; its entry is pruned once the retention has passed.
    pub fn mark_gone(&mut self, id: &FileId) -> Result<(), CheckpointError> {
        let now = self.now();
        let entry = self.entry_mut(id)?;
        if entry.gone_since.is_none() {
            entry.gone_since = Some(now);
            self.touch(self.current(id));
        }
        Ok(())
    }

    pub fn stats(&self) -> &CheckpointStats {
        &self.stats
    }

    /// How many files the store tracks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The one entry for a dev/inode, whatever its fingerprint.
    fn find(&self, dev: u64, ino: u64) -> Option<FileId> {
        let (lo, hi) = Fingerprint::bounds();
        let range = FileId {
            dev,
            ino,
            fingerprint: lo,
        }..=FileId {
            dev,
            ino,
            fingerprint: hi,
        };
        self.entries.range(range).next().map(|(id, _)| *id)
    }

    fn rekey(&mut self, old: FileId, new: FileId) {
        if old == new {
            return;
        }
        let entry = self.entries.remove(&old).expect("rekeyed entry exists");
        self.entries.insert(new, entry);
        for target in self.aliases.values_mut().filter(|t| **t == old) {
            *target = new;
        }
        self.aliases.insert(old, new);
        self.touch(old);
        self.touch(new);
    }

    fn remove(&mut self, id: FileId) {
        self.entries.remove(&id);
        self.aliases.retain(|from, to| *to != id && *from != id);
        self.touch(id);
    }

    fn current(&self, id: &FileId) -> FileId {
        *self.aliases.get(id).unwrap_or(id)
    }

    fn entry_mut(&mut self, id: &FileId) -> Result<&mut Entry, CheckpointError> {
        let current = self.current(id);
        self.entries
            .get_mut(&current)
            .ok_or(CheckpointError::UnknownFile(*id))
    }

    fn now(&self) -> u64 {
        let now = (self.clock)();
        now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests;
