//! Cgroup directories and their counter files held open between scrapes.
//!
//! Opening, reading and closing a cgroup file is three system calls; a read at offset 0
//! of a file already open is one, and cgroupfs (kernfs seq_file) renders the file
//! afresh for every read from offset 0. A scrape reads about nine files of each of
//! hundreds of cgroups, so each cgroup's directory and counter files stay open while
//! the cgroup lives.
//!
//! A cgroup is known by path *and* inode (from the walk's directory entries): a cgroup
//! removed and re-created under the same path (a static pod's uid is stable) is a new
//! kernfs node, so its files are reopened. Entries of cgroups the walk no longer finds
//! are closed by [`DirCache::sweep`]. A held file that fails to read (kernfs answers
//! ENODEV once the file is gone) is closed and the file opened afresh.
//!
//! Bound: the open files held are limited by a setting and by half of the soft
//! RLIMIT_NOFILE (room for the rest of the agent). The agent raises that soft limit to
//! the hard one at start ([`fdlimit::raise`], called by the binary, as Go programs
//! such as cAdvisor do; systemd's default soft limit, 1024, is kept low only for programs
//! using select(2)); the collector only reads it. Beyond the bound, cgroups and files are
//! read the uncached way (open, read, close) and counted in [`FdBudget::uncached`].
//!
//! A file a held directory does not have (`blkio.io_serviced_recursive` of a v1 kernel
//! without CFQ/BFQ, `memory.peak` before 5.19, `memory.swap.current` without swap
//! accounting) is remembered as absent and not looked up again for [`ABSENT_SKIPS`]
//! reads: a failed `openat` on cgroupfs costs as much as a read.

use super::files::CgroupDir;
use super::v1::V1Dirs;
use crate::agent::fdlimit;
use fnv::FnvHashMap;
use rustix::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How many more files may be held open, and how many could not be.
#[derive(Debug)]
pub struct FdBudget {
    left: AtomicUsize,
    held: AtomicUsize,
    /// Directories and files opened and closed within a scrape for want of budget.
    pub uncached: AtomicU64,
}

impl FdBudget {
    /// A budget of `max` files, at most half of the soft RLIMIT_NOFILE in force.
    pub fn new(max: usize) -> Arc<Self> {
        let half = usize::try_from(fdlimit::soft() / 2).unwrap_or(usize::MAX);
        Self::exact(max.min(half))
    }

    /// A budget of exactly `max` files.
    pub fn exact(max: usize) -> Arc<Self> {
        Arc::new(FdBudget {
            left: AtomicUsize::new(max),
            held: AtomicUsize::new(0),
            uncached: AtomicU64::new(0),
        })
    }

    /// Takes `n` files from the budget; false (nothing taken, counted) when short.
    pub fn take(&self, n: usize) -> bool {
        let taken = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n))
            .is_ok();
        if taken {
            self.held.fetch_add(n, Ordering::Relaxed);
        } else {
            self.uncached.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// Returns `n` closed files to the budget.
    pub fn give(&self, n: usize) {
        self.left.fetch_add(n, Ordering::Relaxed);
        self.held.fetch_sub(n, Ordering::Relaxed);
    }

    /// Files held open now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

/// How many reads of a file found absent answer "absent" before it is looked up again
/// (a controller enabled later adds its files to existing cgroups).
pub const ABSENT_SKIPS: u32 = 32;

/// The files of one cached directory, kept open (by name) within the budget.
pub struct Held {
    budget: Arc<FdBudget>,
    files: Mutex<Vec<(Box<str>, OwnedFd)>>,
    /// Files found absent, with the reads left before the next look-up.
    absent: Mutex<Vec<(Box<str>, u32)>>,
    /// Where the next look-up starts: files are read in the same order every scrape,
    /// so the file after the last one read is usually the next asked for.
    next: AtomicUsize,
}

impl Held {
    pub fn new(budget: Arc<FdBudget>) -> Self {
        Held {
            budget,
            files: Mutex::new(Vec::new()),
            absent: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
        }
    }

    /// Whether `name` was found absent and is not due for another look-up (each call
    /// counts one read towards it).
    pub fn is_absent(&self, name: &str) -> bool {
        let mut absent = self.absent.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = absent.iter().position(|(n, _)| &**n == name) else {
            return false;
        };
        if absent[i].1 == 0 {
            absent.swap_remove(i);
            return false;
        }
        absent[i].1 -= 1;
        true
    }

    /// Remembers that `name` does not exist in this directory.
    pub fn mark_absent(&self, name: &str) {
        let mut absent = self.absent.lock().unwrap_or_else(|e| e.into_inner());
        if !absent.iter().any(|(n, _)| &**n == name) {
            absent.push((name.into(), ABSENT_SKIPS));
        }
    }

    /// Runs `read` on the held file `name`: `None` when it is not held, or when the
    /// read failed (the file is then closed, to be opened afresh).
    pub fn read<T, E>(&self, name: &str, read: impl FnOnce(&OwnedFd) -> Result<T, E>) -> Option<T> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let (n, start) = (files.len(), self.next.load(Ordering::Relaxed));
        let i = (start..start + n)
            .map(|k| k % n)
            .find(|&i| &*files[i].0 == name)?;
        self.next.store(i + 1, Ordering::Relaxed);
        match read(&files[i].1) {
            Ok(v) => Some(v),
            Err(_) => {
                files.swap_remove(i);
                self.budget.give(1);
                None
            }
        }
    }

    /// Keeps `fd` open as `name` when the budget allows (else it is closed, counted).
    pub fn keep(&self, name: &str, fd: OwnedFd) {
        if self.budget.take(1) {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            files.push((name.into(), fd));
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let files = self.files.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.give(files.len());
    }
}

/// The open directories of one cgroup.
pub enum Dirs {
    V2(CgroupDir),
    /// Boxed: five directories, against one.
    V1(Box<V1Dirs>),
}

impl Dirs {
    fn all(&mut self) -> Vec<&mut CgroupDir> {
        match self {
            Dirs::V2(d) => vec![d],
            Dirs::V1(d) => [
                &mut d.cpu,
                &mut d.cpuacct,
                &mut d.memory,
                &mut d.blkio,
                &mut d.pids,
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}

struct Entry {
    ino: u64,
    dirs: Dirs,
    /// The directory fds taken from the budget.
    fds: usize,
    seen: u64,
}

/// Open cgroups by path below the hierarchy root.
pub struct DirCache {
    budget: Arc<FdBudget>,
    /// FNV: the keys are this node's own cgroup paths (no hash flooding to fear), hashed
    /// several hundred times a scrape.
    entries: FnvHashMap<String, Entry>,
    /// The last cgroup opened beyond the budget: dropped (closed) at the next open.
    scratch: Option<Dirs>,
    generation: u64,
}

impl DirCache {
    pub fn new(budget: Arc<FdBudget>) -> Self {
        DirCache {
            budget,
            entries: FnvHashMap::default(),
            scratch: None,
            generation: 0,
        }
    }

    /// The open directories of cgroup `rel` (inode `ino` in the walk), opened with
    /// `open` (given the cached v2 directory of `parent`, if any) when not cached or
    /// re-created; `None` when the cgroup is gone.
    pub fn get(
        &mut self,
        rel: &str,
        ino: u64,
        parent: Option<&str>,
        open: impl FnOnce(Option<&CgroupDir>) -> Option<Dirs>,
    ) -> Option<&Dirs> {
        self.scratch = None;
        if self.entries.get(rel).is_some_and(|e| e.ino == ino) {
            let e = self.entries.get_mut(rel)?;
            e.seen = self.generation;
            return Some(&e.dirs);
        }
        let parent = parent
            .and_then(|p| self.entries.get(p))
            .and_then(|e| match &e.dirs {
                Dirs::V2(d) => Some(d),
                Dirs::V1(_) => None,
            });
        let mut dirs = open(parent)?;
        if let Some(old) = self.entries.remove(rel) {
            self.budget.give(old.fds);
        }
        let fds = dirs.all().len();
        if !self.budget.take(fds) {
            return Some(self.scratch.insert(dirs));
        }
        for d in dirs.all() {
            d.hold_files(Held::new(self.budget.clone()));
        }
        let entry = Entry {
            ino,
            dirs,
            fds,
            seen: self.generation,
        };
        Some(&self.entries.entry(rel.to_owned()).or_insert(entry).dirs)
    }

    /// Closes the cgroups not asked for since the previous sweep (gone); starts the
    /// next scrape.
    pub fn sweep(&mut self) {
        let (generation, budget) = (self.generation, &self.budget);
        self.entries.retain(|_, e| {
            let keep = e.seen == generation;
            if !keep {
                budget.give(e.fds);
            }
            keep
        });
        self.scratch = None;
        self.generation += 1;
    }

    pub fn budget(&self) -> &Arc<FdBudget> {
        &self.budget
    }
}

impl Drop for DirCache {
    fn drop(&mut self) {
        for e in self.entries.values() {
            self.budget.give(e.fds);
        }
    }
}

#[cfg(test)]
mod tests;
