//! Which entries the store drops, and when: the store holds the files that exist, plus
//! those that left their path less than the retention (`--logs.checkpoint-retention`,
//! [`super::DEFAULT_RETENTION`]) ago; not the files the node had over a day.
//!
//! An entry is a candidate once its file has been closed by the tailer (`mark_gone`) for
//! the retention, or, loaded from disk and not resolved since, once neither it was
//! updated nor the store opened within the retention. A candidate whose path still
//! holds its dev/inode is kept (a rotated file read to its end, a stream waiting for a
//! slot under `--logs.max-open-files`): its entry is what resumes it at its offset after
//! a restart; it is looked at again a retention later. Any other candidate is dropped
//! and counted (`pruned`).
//!
//! What an entry of a file no longer at its path is still good for, and why 5 minutes:
//! - the file was deleted (pod churn, the case that grew `checkpoints.json` to 6,000
//!   entries): nothing. Worse, an entry keyed on few bytes matches any later file
//!   given its inode (report.rs, Fluent Bit #4895). Vector drops a dead file's checkpoint
//!   60 s after (`EXPIRATION_GRACE_DURATION`, file-source-common/checkpointer.rs); Fluent
//!   Bit's tail deletes the file's row from its DB when it drops a deleted file; Promtail
//!   drops the positions of files that no longer exist.
//! - a file renamed while the agent was down (rotated): the restarted tailer finds it
//!   under its new name by dev/inode and resumes it, at its first sync, or when its
//!   stream gets a slot; the retention is counted from the start for that, and a file
//!   not found then is taken as history by the tailer's rules (modified before the
//!   stream's last update: skipped).
//! - inode reuse and rewrites are told by the fingerprint, not by keeping old entries.
//!
//! A few minutes covers a start's first syncs and turns with room; churn then costs
//! (pods deleted per minute) × 5 entries, and a day of churn no longer weighs on every
//! checkpoint write.
//!
//! Looking at the path costs one `stat` per candidate, at most once per retention per
//! entry: a prune runs with each snapshot.

use super::{CheckpointStore, FileId};
use std::os::unix::fs::MetadataExt;

impl CheckpointStore {
    /// Drops the entries of files no longer at their path for the retention.
    pub(super) fn prune(&mut self) {
        let now = self.now();
        let keep = self.retention.as_secs();
        let opened = self.opened;
        let candidates: Vec<FileId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.recheck_at <= now)
            .filter(|(_, e)| match e.gone_since {
                Some(t) => now.saturating_sub(t) >= keep,
                None => !e.seen && now.saturating_sub(e.updated.max(opened)) >= keep,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in candidates {
            let Some(entry) = self.entries.get_mut(&id) else {
                continue;
            };
            if still_at(&id, &entry.path) {
                entry.recheck_at = now.saturating_add(keep.max(1));
                continue;
            }
            self.remove(id);
            self.stats.pruned += 1;
        }
    }
}

/// True when `path` holds the file `id` names (by dev/inode).
fn still_at(id: &FileId, path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.dev() == id.dev && m.ino() == id.ino)
}
