//! [`Tailer::sync`]: reconciles the open files with what discovery found — new streams,
//! rename rotation, rotated files not seen before, copytruncate, streams gone — and asks
//! the checkpoint store where each newly opened file starts (copytruncate in
//! `sync/copytruncate.rs`; opening files and finding them on disk in `sync/files.rs`).

use super::file::TailFile;
use super::{StartAt, Stream, Tailer};
use crate::agent::logs::checkpoint::{CheckpointStore, Probe};
use crate::agent::logs::discover::Discovered;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod copytruncate;
mod files;

pub(super) use files::modified_before;
use files::{forget_done, rotated_on_disk};

/// How a file met for the first time is started.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Meet {
    /// Present at this process's first sync, in a stream the checkpoints show was
    /// followed before (last updated at this Unix second): the agent was down. A file
    /// unknown by identity was made while it was down (read from 0) if it was modified
    /// since; an older rotated one is history whose checkpoint has been pruned.
    Resumed(u64),
    /// Present at the first sync: a checkpoint, or `start_at` (live) / skip (rotated).
    AtStart,
    /// Appeared since: a checkpoint, or 0.
    Later,
}

impl Tailer {
    /// Brings the open files in line with `found` (all streams discovery sees now).
    pub fn sync(&mut self, found: &[Discovered], store: &mut CheckpointStore) {
        // First: a file closed by a poll since the last sync may have freed its inode
        // for a new file this sync resolves; its entry must not match that file
        // (report.rs).
        self.report_closed(store);
        let meet = if self.synced_once {
            Meet::Later
        } else {
            self.first_start = store.is_empty();
            Meet::AtStart
        };
        let mut seen = HashSet::new();
        let max = self.config.max_open_files.max(1);
        let mut open = self.open_files();
        for d in found {
            let key: Arc<Path> = Arc::from(d.live.as_path());
            seen.insert(key.clone());
            if self.parked.contains(&key) {
                continue; // its turn comes in `take_turns`
            }
            let existing = self.streams.remove(&key);
            if existing.is_none() && open >= max {
                self.park_new(key, d, meet, store);
                continue;
            }
            let new = existing.is_none();
            let mut stream = existing.unwrap_or_else(|| Stream {
                path: key.clone(),
                files: VecDeque::new(),
                done: HashSet::new(),
            });
            let before = stream.files.len();
            self.sync_stream(&mut stream, d, (meet, new), store);
            open = (open + stream.files.len()).saturating_sub(before);
            self.streams.insert(key, stream);
        }
        self.drop_missing_parked(&seen);
        self.end_missing_streams(&seen);
        self.take_turns(found, store);
        self.report_closed(store);
        self.synced_once = true;
    }

    pub(super) fn sync_stream(
        &mut self,
        stream: &mut Stream,
        d: &Discovered,
        (meet, new): (Meet, bool),
        store: &mut CheckpointStore,
    ) {
        let meet = match (meet, store.last_update_of(&d.live)) {
            (Meet::AtStart, Some(updated)) => Meet::Resumed(updated),
            // A stream never followed, met at a restart: it began while the agent was
            // down (or just before it stopped); its rotated files are not history.
            (Meet::AtStart, None) if !self.first_start => Meet::Later,
            (meet, _) => meet,
        };
        // The live path is probed once, before the rotated files are listed: a file
        // rotated away before this live file was created is then on that list.
        let live = Probe::read(&d.live).ok();
        let rotated = self.rotated_now(stream, d, live.as_ref(), new);
        self.check_truncations(stream, &d.rotated, store);
        self.retire_unlisted(stream, live.as_ref(), &rotated);
        for (path, probe) in &rotated {
            self.sync_rotated(stream, path, probe, meet, store);
        }
        self.sync_live(stream, &d.live, live, meet, store);
        forget_done(stream, &rotated, d);
    }

    /// The stream's rotated files, probed, oldest first: discovery's list, or the
    /// directory read again for a stream met for the first time, when the live path no
    /// longer names the live file, or when it names a file about to be opened (the
    /// stream may hold no live file: a sync ran between a rename and the next file's
    /// creation, and files may have been rotated unseen since). The list may predate
    /// rotations (a scan racing them, inotify late): a rotated file it lacks, met later,
    /// would be read after the newer files already read.
    fn rotated_now(
        &mut self,
        stream: &Stream,
        d: &Discovered,
        live: Option<&Probe>,
        new: bool,
    ) -> Vec<(PathBuf, Probe)> {
        let moved = |f: &TailFile| f.live && !live.is_some_and(|p| f.same_inode(p));
        let unopened = live.is_some_and(|p| {
            !stream.files.iter().any(|f| f.same_inode(p)) && !stream.done.contains(&p.id())
        });
        if new || unopened || stream.files.iter().any(moved) {
            return rotated_on_disk(&d.live, &d.rotated);
        }
        let probe = |p: &PathBuf| Probe::read(p).ok().map(|pr| (p.clone(), pr));
        d.rotated.iter().filter_map(probe).collect()
    }

    /// A live file renamed and gone from disk (rotated, then deleted or gzipped while
    /// open) has no name to place it among the rotated files: it is retired before they
    /// are placed, so the ones not seen yet, rotated after it, go after it.
    fn retire_unlisted(
        &mut self,
        stream: &mut Stream,
        live: Option<&Probe>,
        rotated: &[(PathBuf, Probe)],
    ) {
        for f in stream.files.iter_mut().filter(|f| f.live) {
            let renamed = !live.is_some_and(|p| f.same_inode(p));
            if renamed && !rotated.iter().any(|(_, p)| f.same_inode(p)) {
                self.stats.rotations += 1;
                f.live = false;
                f.gone_since = Some((self.clock)());
            }
        }
    }

    fn rotated(&self, mut f: TailFile) -> TailFile {
        f.live = false;
        f.gone_since = Some((self.clock)());
        f
    }

    /// A rotated sibling: an open file renamed, a file already done, a copy in progress,
    /// or a file rotated before the reader caught up (read it, before the live file).
    fn sync_rotated(
        &mut self,
        stream: &mut Stream,
        path: &Path,
        probe: &Probe,
        meet: Meet,
        store: &mut CheckpointStore,
    ) {
        if let Some(f) = stream.files.iter_mut().find(|f| f.same_inode(probe)) {
            self.mark_rotated(f);
            return;
        }
        let id = probe.id();
        if stream.done.contains(&id) {
            return;
        }
        if stream.files.iter().any(|f| f.is_copied_as(probe)) {
            return; // a copy of an open file: claimed if that file turns out truncated
        }
        if stream.files.iter().any(|f| f.may_be_copying_to(probe)) {
            // A copy still being written: opened now it would be read from 0 (all its
            // lines twice); the next syncs see it whole, claimed or read as above.
            return;
        }
        // Copytruncate while the agent was down: the copy of a known file is read on
        // from that file's checkpoint.
        let copy_of = match store.knows_by_content(probe) {
            false => store.copy_source(probe, &stream.path),
            true => None,
        };
        let start = match (meet, copy_of) {
            (_, Some((_, acked))) => Some(acked),
            (Meet::AtStart, None) if !store.knows(probe) => None,
            (Meet::Resumed(since), None) if !store.knows(probe) && modified_before(path, since) => {
                None
            }
            _ => Some(0),
        };
        let Some(start) = start else {
            stream.done.insert(id); // history from before the agent started
            return;
        };
        let Some(f) = self.open(path, probe, Some(start), store) else {
            return;
        };
        if let Some((old, acked)) = copy_of {
            tracing::debug!(path = %path.display(), ino = probe.ino, from_ino = old.ino, acked,
                "A rotated file was taken as the copy of a known file.");
            store.claim_copy(&old, &f.id, acked);
        }
        let f = self.rotated(f);
        let at = stream
            .files
            .iter()
            .position(|f| f.live)
            .unwrap_or(stream.files.len());
        stream.files.insert(at, f);
    }

    /// The live path, as probed before the rotated files were listed: unchanged,
    /// replaced (rename rotation), or missing for now. Replaced again since, it is not
    /// opened (`open` checks the inode): the next sync lists the file rotated meanwhile.
    fn sync_live(
        &mut self,
        stream: &mut Stream,
        live: &Path,
        probe: Option<Probe>,
        meet: Meet,
        store: &mut CheckpointStore,
    ) {
        for f in stream.files.iter_mut().filter(|f| f.live) {
            if probe.as_ref().is_some_and(|p| f.same_inode(p)) {
                upgrade_key(f, live, store);
                return;
            }
            self.stats.rotations += 1;
            f.live = false;
            f.gone_since = Some((self.clock)());
            tracing::debug!(path = %live.display(), ino = f.id.ino, "The live file was rotated away.");
        }
        let Some(probe) = probe else { return };
        if stream.done.contains(&probe.id()) || stream.files.iter().any(|f| f.same_inode(&probe)) {
            return;
        }
        let start = match meet {
            Meet::AtStart if !store.knows(&probe) => match self.config.start_at {
                StartAt::Beginning => Some(0),
                StartAt::End => None,
            },
            _ => Some(0),
        };
        if let Some(f) = self.open(live, &probe, start, store) {
            stream.files.push_back(f);
        }
    }

    fn mark_rotated(&mut self, f: &mut TailFile) {
        if f.live {
            self.stats.rotations += 1;
            f.live = false;
        }
        f.gone_since.get_or_insert_with(|| (self.clock)());
    }

    /// Streams discovery no longer reports: their live file is gone (pod deleted). Open
    /// files are read to their end (or held at most `max_hold`); empty streams are dropped.
    /// A stream dropped is told by [`Tailer::take_ended`].
    fn end_missing_streams(&mut self, seen: &HashSet<Arc<Path>>) {
        let now = (self.clock)();
        let ended = &mut self.ended;
        self.streams.retain(|key, s| {
            if seen.contains(key) {
                return true;
            }
            for f in s.files.iter_mut() {
                f.live = false;
                f.gone_since.get_or_insert(now);
            }
            s.done.clear();
            if s.files.is_empty() {
                ended.push(key.clone());
            }
            !s.files.is_empty()
        });
    }
}

/// Upgrades a live file's short fingerprint as the file grows (the store re-keys its
/// entry). A file that no longer begins with the bytes it is keyed on was truncated or
/// rewritten since `check_truncations` looked, earlier in this sync (logrotate's
/// copytruncate racing the sync): it is marked suspect and left to the next sync's
/// `check_truncations`, which hands the acknowledged offset on to the copy. Resolved
/// here, the entry was dropped as an inode reused, the offset with it, and the copy was
/// claimed at 0: read again from its start after a restart.
pub(in crate::agent::logs::tail) fn upgrade_key(
    f: &mut TailFile,
    live: &Path,
    store: &mut CheckpointStore,
) {
    if !f.id.fingerprint.is_partial() || f.suspect {
        return;
    }
    let Ok(p) = f.probe() else { return };
    if f.id.fingerprint.is_prefix_of(&p.head) {
        f.id = store.resolve(&p, live);
    } else {
        f.suspect = true;
    }
}
