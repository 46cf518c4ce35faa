//! Copytruncate found at a sync (logrotate's `copytruncate`: the live file copied to
//! a rotated name, then cut to 0 in place): the truncated file restarts at 0 with the
//! next generation of its checkpoint, and its copy, when found on disk, is read on from
//! where the reader was, so lines not yet read before the truncation are read exactly
//! once.

use super::super::{Stream, Tailer};
use super::files::rotated_on_disk;
use crate::agent::logs::checkpoint::CheckpointStore;
use std::path::PathBuf;

impl Tailer {
    /// Copytruncate: each truncated file restarts at 0 with its checkpoint reset; if a
    /// rotated sibling begins with its old first bytes, that is the copy, read from where
    /// the reader was. Files are handled last first, so inserted copies shift nothing.
    /// The copy is looked for on disk, not in discovery's list: that may predate it, and
    /// a copy met later would be read again from 0.
    pub(super) fn check_truncations(
        &mut self,
        stream: &mut Stream,
        listed: &[PathBuf],
        store: &mut CheckpointStore,
    ) {
        let truncated: Vec<usize> = (0..stream.files.len())
            .filter(|&i| {
                let f = &stream.files[i];
                f.suspect || f.looks_truncated(true).unwrap_or(false)
            })
            .collect();
        if truncated.is_empty() {
            return;
        }
        let rotated = rotated_on_disk(&stream.path, listed);
        for i in truncated.into_iter().rev() {
            self.stats.truncations += 1;
            // The next generation: acks still in flight for what was read before do not
            // move the new content's checkpoint (the restart below resolves to it); if
            // the copy is found they move the copy's.
            let old = stream.files[i].id;
            let acked = store.get(&old).unwrap_or(0);
            let _ = store.reset(&old);
            let resume_at = stream.files[i].committed();
            let copy = rotated.iter().find(|(_, p)| {
                stream.files[i].is_copied_as(p) && !stream.files.iter().any(|f| f.same_inode(p))
            });
            let mut at = i;
            if let Some((path, probe)) = copy {
                if let Some(c) = self.open(path, probe, Some(resume_at), store) {
                    store.claim_copy(&old, &c.id, acked.min(resume_at));
                    stream.files.insert(i, self.rotated(c));
                    at += 1;
                }
            }
            let f = &mut stream.files[at];
            match f.probe() {
                Ok(p) => f.restart(store.resolve(&p, &stream.path)),
                Err(_) => self.stats.io_errors += 1,
            }
        }
    }
}
