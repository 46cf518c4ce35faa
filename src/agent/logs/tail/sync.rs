//! [`Tailer::sync`]: reconciles the open files with what discovery found — new streams,
//! rename rotation, rotated files not seen before, copytruncate, streams gone — and asks
//! the checkpoint store where each newly opened file starts.

use super::file::TailFile;
use super::{StartAt, Stream, Tailer};
use crate::agent::logs::checkpoint::{CheckpointStore, Probe};
use crate::agent::logs::discover::{path, Discovered};
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

    /// Copytruncate: each truncated file restarts at 0 with its checkpoint reset; if a
    /// rotated sibling begins with its old first bytes, that is the copy, read from where
    /// the reader was. Files are handled last first, so inserted copies shift nothing.
    /// The copy is looked for on disk, not in discovery's list: that may predate it, and
    /// a copy met later would be read again from 0.
    fn check_truncations(
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
                if f.id.fingerprint.is_partial() && !f.suspect {
                    // Upgrade a short fingerprint as the file grows (the store re-keys).
                    if let Ok(p) = f.probe() {
                        f.id = store.resolve(&p, live);
                    }
                }
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

    /// Opens `path`, checks it is still the file probed, and starts it at its checkpoint
    /// if it has one, else at `default` (`None`: at its end).
    fn open(
        &mut self,
        path: &Path,
        probe: &Probe,
        default: Option<u64>,
        store: &mut CheckpointStore,
    ) -> Option<TailFile> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(_) => {
                self.stats.io_errors += 1;
                return None;
            }
        };
        let now = Probe::of_file(&file).ok()?;
        if now.dev != probe.dev || now.ino != probe.ino {
            return None; // replaced between probe and open: the next sync sees it
        }
        let known = store.knows(&now);
        let id = store.resolve(&now, path);
        let len = file.metadata().map_or(0, |m| m.len());
        // A stored offset of 0 says nothing worth trusting over `default`: an entry made
        // for an empty file matches any file later given its inode (its fingerprint covers
        // no bytes), and a file with nothing acknowledged starts the same at 0 anyway.
        let acked = store.get(&id);
        let start = match acked {
            Some(acked) if known && acked > 0 => acked,
            _ => default.unwrap_or(len),
        };
        tracing::debug!(path = %path.display(), ino = now.ino, start, len, known, ?acked, ?default,
            "A log file was opened.");
        Some(TailFile::new(file, id, start.min(len)))
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

/// Forgets the done files no longer on disk. Discovery's list may predate a file read
/// and closed since: one missing from it is looked for on disk before it is forgotten,
/// else it would be met again as a file not read yet, and read again from its checkpoint
/// (0 while its acknowledgements are still in flight).
fn forget_done(stream: &mut Stream, rotated: &[(PathBuf, Probe)], d: &Discovered) {
    let ids = |r: &[(PathBuf, Probe)]| -> HashSet<_> { r.iter().map(|(_, p)| p.id()).collect() };
    let mut present = ids(rotated);
    if stream.done.iter().any(|id| !present.contains(id)) {
        present = ids(&rotated_on_disk(&d.live, &d.rotated));
    }
    stream.done.retain(|id| present.contains(id));
}

/// True when `path` was last modified before the Unix second `since` (unknown: false,
/// so the file is read rather than skipped).
pub(super) fn modified_before(path: &Path, since: u64) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    let secs = modified
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    secs.is_some_and(|d| d.as_secs() < since)
}

/// The rotated siblings (`N.log.<stamp>`) of the live file `live` on disk now, and
/// those discovery `listed`, probed, in name order.
fn rotated_on_disk(live: &Path, listed: &[PathBuf]) -> Vec<(PathBuf, Probe)> {
    let mut paths = siblings_on_disk(live);
    paths.extend(listed.iter().cloned());
    paths.sort();
    paths.dedup();
    let probe = |p: PathBuf| Probe::read(&p).ok().map(|probe| (p, probe));
    paths.into_iter().filter_map(probe).collect()
}

fn siblings_on_disk(live: &Path) -> Vec<PathBuf> {
    let n = live
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(path::parse_live_name);
    let (Some(n), Some(dir)) = (n, live.parent()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let sibling = |p: &PathBuf| {
        let name = p.file_name().and_then(|f| f.to_str());
        name.and_then(path::parse_rotated_name)
            .is_some_and(|(m, _)| m == n)
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(sibling)
        .collect()
}
