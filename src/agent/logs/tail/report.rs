//! What the tailer tells besides lines: the checkpoint store, the files it closed
//! (their entries age out) and, at the agent's stop, the first bytes of the files it
//! still has open, so that every entry written at the stop names its file by what it
//! holds, not by the few or no bytes it held when it was opened; its reader, the
//! streams it let go of for good ([`Tailer::take_ended`]).
//!
//! An entry keyed on a short fingerprint (a file opened nearly empty, renamed or
//! closed before a sync grew it) matches any file later given its inode whose first
//! bytes extend it: that file would start at this one's offset, inside a line, its
//! first lines lost (Fluent Bit #4895). And a copytruncate copy is recognised by the
//! first bytes of the file it copies: one keyed on no bytes is never found, so its copy
//! would be read again from 0.

use super::Tailer;
use crate::agent::logs::checkpoint::CheckpointStore;
use std::path::Path;
use std::sync::Arc;

impl Tailer {
    /// The last sync before the agent stops (after the last poll): reports the files
    /// closed since the last sync and keys each open file on the first bytes read from
    /// it, if its key covers fewer: those of the content its offset counts in, even if
    /// the file was truncated since (its copy is then recognised at the next start).
    /// Acknowledgements still in flight find the new keys (the store aliases the old).
    pub fn finish(&mut self, store: &mut CheckpointStore) {
        self.report_closed(store);
        for f in self.streams.values_mut().flat_map(|s| s.files.iter_mut()) {
            f.id = store.extend_key(&f.id, f.head_fp);
        }
    }

    /// Tells the store which files the tailer closed, each keyed again on its first
    /// bytes as they were at the close if its key is short. A sync does it before
    /// anything else: a closed file's inode may already be another file's, which the
    /// sync is about to resolve; and at its end, for the closes the sync made.
    pub(super) fn report_closed(&mut self, store: &mut CheckpointStore) {
        for (id, probe) in std::mem::take(&mut self.closed) {
            let id = match probe {
                Some(p) if id.fingerprint.is_partial() => store.refresh(&id, &p),
                _ => id,
            };
            let _ = store.mark_gone(&id);
        }
    }

    /// The streams (live paths) dropped for good since the last call: discovery no
    /// longer lists them and every file of them is closed (or the stream was parked).
    /// Every line and end-of-file mark of them was handed out by an earlier
    /// [`Tailer::poll`] than the next one, so a caller that takes these before polling
    /// and hands them on before that poll's lines keeps the order. A path met again later
    /// is a new stream.
    pub fn take_ended(&mut self) -> Vec<Arc<Path>> {
        std::mem::take(&mut self.ended)
    }
}
