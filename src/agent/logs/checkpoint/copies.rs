//! What the store knows beyond one file's offset: copies that copytruncate made of a
//! file (the copy takes the old content's checkpoint and its late acknowledgements),
//! and which streams were followed before a restart.

use super::{CheckpointStore, FileId, Probe};
use std::path::Path;

impl CheckpointStore {
    /// The tailer found `copy`, a copy of the content `old` had before it was truncated
    /// (copytruncate), and reads on from it: the copy's checkpoint starts at what was
    /// acknowledged of `old` (`acked`), and acks still in flight for `old` now move the
    /// copy's (same content, same offsets) instead of being ignored.
    pub fn claim_copy(&mut self, old: &FileId, copy: &FileId, acked: u64) {
        let old = self.current(old);
        let copy = self.current(copy);
        let Some(entry) = self.entries.get_mut(&copy) else {
            return;
        };
        if acked > entry.offset {
            entry.offset = acked;
            self.touch(copy);
        }
        for target in self.aliases.values_mut().filter(|t| **t == old) {
            *target = copy;
        }
        self.aliases.insert(old, copy);
    }

    /// Like [`CheckpointStore::knows`], but an entry keyed on no bytes (made for an
    /// empty file) does not count: it matches any file later given its inode, such as a
    /// copytruncate copy, which must still be looked up with [`CheckpointStore::copy_source`].
    pub fn knows_by_content(&self, probe: &Probe) -> bool {
        self.find(probe.dev, probe.ino).is_some_and(|old| {
            old.fingerprint.covered_len() > 0 && old.fingerprint.is_prefix_of(&probe.head)
        })
    }

    /// A file not known by identity that begins with the first bytes of a known one
    /// last seen at `live` on another inode: the copy copytruncate made of it while the
    /// agent was down. Returns the known file's id and acknowledged offset (the copy is
    /// read on from there).
    pub fn copy_source(&self, probe: &Probe, live: &Path) -> Option<(FileId, u64)> {
        let live = live.to_string_lossy();
        self.entries.iter().find_map(|(id, e)| {
            let other_inode = (id.dev, id.ino) != (probe.dev, probe.ino);
            let fp = &id.fingerprint;
            let copied = fp.covered_len() > 0 && fp.is_prefix_of(&probe.head);
            (other_inode && copied && e.path == live).then_some((*id, e.offset))
        })
    }

    /// When the store last updated an entry of the stream whose live file is `live`
    /// (the live file, or one rotated from it: `<live>.<suffix>`), if it has any: the
    /// stream was followed before, until about then.
    pub fn last_update_of(&self, live: &Path) -> Option<u64> {
        let live = live.to_string_lossy();
        let of_stream = |p: &str| {
            p.strip_prefix(live.as_ref())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        let entries = self.entries.values().filter(|e| of_stream(&e.path));
        entries.map(|e| e.updated).max()
    }
}
