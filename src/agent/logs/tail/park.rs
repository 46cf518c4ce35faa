//! The open-file budget (`--logs.max-open-files`): at most that many log files are
//! open at once; the streams beyond it wait *parked*, with no file open, and take turns.
//!
//! - A stream met when every slot is taken starts parked, remembering how it would have
//!   started (a live file present at the first start with `StartAt::End`: its length
//!   then; rotated files present then with no checkpoint: history, not read).
//! - At each `sync`, while streams wait, the open streams that can be parked are parked
//!   (one live file, no line half read: nothing is lost by closing it), remembering
//!   their file and position, and go to the back of the queue; then the streams at the
//!   front are opened again while slots are free. Every stream is read in turn (round
//!   robin), and nothing is skipped: a parked stream is read from where it stopped.
//! - A parked file is found again by dev + inode under the live path or a rotated
//!   sibling, so rotation, copytruncate and files rotated more
//!   than once while parked are handled by the normal `sync` rules afterwards.
//! - A parked stream whose files all went (pod deleted while it waited) is let go and
//!   counted, like a rotated file held past `max_hold`, and told as ended.
//!
//! Rotation of an open stream opens its new live file even when no slot is free, so the
//! budget may be exceeded by one file per rotating stream until its old file is drained.

use super::file::TailFile;
use super::sync::{modified_before, Meet};
use super::{StartAt, Stream, Tailer};
use crate::agent::logs::checkpoint::{CheckpointStore, FileId, Probe};
use crate::agent::logs::discover::Discovered;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// A stream waiting for a slot.
pub(super) struct Parked {
    /// The file it was reading and the position; `None`: start as a file met later
    /// (at its checkpoint, or 0).
    file: Option<(FileId, u64)>,
    /// Rotated files already read to their end, or history.
    done: HashSet<FileId>,
}

/// The parked streams and their turn.
#[derive(Default)]
pub(super) struct ParkLot {
    parked: HashMap<Arc<Path>, Parked>,
    queue: VecDeque<Arc<Path>>,
}

impl ParkLot {
    pub fn contains(&self, key: &Arc<Path>) -> bool {
        self.parked.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.parked.len()
    }

    fn park(&mut self, key: Arc<Path>, parked: Parked) {
        self.queue.push_back(key.clone());
        self.parked.insert(key, parked);
    }

    fn next(&mut self) -> Option<(Arc<Path>, Parked)> {
        let key = self.queue.pop_front()?;
        let parked = self.parked.remove(&key)?;
        Some((key, parked))
    }
}

impl Tailer {
    /// Files open now.
    pub(super) fn open_files(&self) -> usize {
        self.streams.values().map(|s| s.files.len()).sum()
    }

    /// A stream met with every slot taken: parked, remembering how it would have started.
    pub(super) fn park_new(
        &mut self,
        key: Arc<Path>,
        d: &Discovered,
        meet: Meet,
        store: &mut CheckpointStore,
    ) {
        let mut parked = Parked {
            file: None,
            done: HashSet::new(),
        };
        let followed = store.last_update_of(&d.live).is_some();
        if meet == Meet::AtStart && (self.first_start || followed) {
            // As `sync` would have met them now (see `Meet`): history is decided now.
            let since = store.last_update_of(&d.live);
            for path in &d.rotated {
                let Ok(probe) = Probe::read(path) else {
                    continue;
                };
                let old = since.is_none_or(|t| modified_before(path, t));
                if !store.knows(&probe) && old {
                    parked.done.insert(probe.id());
                }
            }
            if let Ok(probe) = Probe::read(&d.live) {
                let fresh = since.is_none() && !store.knows(&probe);
                if fresh && self.config.start_at == StartAt::End {
                    let len = std::fs::metadata(&d.live).map_or(0, |m| m.len());
                    parked.file = Some((store.resolve(&probe, &d.live), len));
                }
            }
        }
        self.stats.parks += 1;
        self.parked.park(key, parked);
    }

    /// Streams wait: the open ones that can be parked make way, and waiting ones are
    /// opened while slots are free, in turn.
    pub(super) fn take_turns(&mut self, found: &[Discovered], store: &mut CheckpointStore) {
        if self.parked.len() == 0 {
            return;
        }
        let waiting = self.parked.len();
        let parkable: Vec<Arc<Path>> = self
            .streams
            .iter()
            .filter(|(_, s)| can_park(s))
            .map(|(k, _)| k.clone())
            .take(waiting)
            .collect();
        for key in parkable {
            let mut s = self.streams.remove(&key).expect("listed");
            let f = s.files.pop_front().expect("one file");
            let file = Some((f.id, f.read_pos));
            self.stats.parks += 1;
            self.parked.park(key, Parked { file, done: s.done });
        }
        // Those that waited longest are at the front; those just parked at the back.
        let by_key: HashMap<&Path, &Discovered> =
            found.iter().map(|d| (d.live.as_path(), d)).collect();
        let max = self.config.max_open_files.max(1);
        let mut open = self.open_files();
        while open < max {
            let Some(next) = self.parked.next() else {
                break;
            };
            open += self.unpark(next, &by_key, store);
        }
    }

    fn unpark(
        &mut self,
        (key, parked): (Arc<Path>, Parked),
        by_key: &HashMap<&Path, &Discovered>,
        store: &mut CheckpointStore,
    ) -> usize {
        let Some(d) = by_key.get(&*key) else {
            self.let_go_parked(key, &parked);
            return 0;
        };
        let mut stream = Stream {
            path: key.clone(),
            files: VecDeque::new(),
            done: parked.done,
        };
        if let Some((id, pos)) = parked.file {
            match reopen(d, id, pos) {
                Some(f) => stream.files.push_back(f),
                None => self.stats.files_let_go += 1,
            }
        }
        self.sync_stream(&mut stream, d, (Meet::Later, true), store);
        let opened = stream.files.len();
        self.streams.insert(key, stream);
        opened
    }

    /// Parked streams discovery no longer reports: their files went while they waited.
    pub(super) fn drop_missing_parked(&mut self, seen: &HashSet<Arc<Path>>) {
        let gone: Vec<Arc<Path>> = self
            .parked
            .parked
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            let parked = self.parked.parked.remove(&key).expect("listed");
            self.parked.queue.retain(|k| *k != key);
            self.let_go_parked(key, &parked);
        }
    }

    /// A parked stream gone: its file (closed when it was parked) counted as let go,
    /// and the stream told as ended ([`Tailer::take_ended`]).
    fn let_go_parked(&mut self, key: Arc<Path>, parked: &Parked) {
        if parked.file.is_some() {
            self.stats.files_let_go += 1;
        }
        self.ended.push(key);
    }
}

/// One live file with no line half read: closing it loses nothing.
fn can_park(s: &Stream) -> bool {
    s.files.len() == 1 && s.files[0].live && !s.files[0].suspect && !s.files[0].mid_line()
}

/// Opens the parked file again, found by dev/inode under the live path or a rotated
/// one. Its first bytes are not compared here: a file truncated (or its inode reused)
/// while parked is then found truncated by `sync`, which claims the copy if any.
fn reopen(d: &Discovered, id: FileId, pos: u64) -> Option<TailFile> {
    let paths = std::iter::once(&d.live).chain(&d.rotated);
    paths.into_iter().find_map(|path| {
        let file = File::open(path).ok()?;
        let probe = Probe::of_file(&file).ok()?;
        let same = probe.dev == id.dev && probe.ino == id.ino;
        same.then(|| TailFile::new(file, id, pos))
    })
}
