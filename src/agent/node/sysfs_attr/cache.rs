//! Sysfs attributes held open between scrapes.
//!
//! Opening, reading and closing an attribute is three system calls; a read at offset 0
//! of a file already open is one, and sysfs renders the value afresh for every read from
//! offset 0. On a node with many interfaces that is most of the netclass collector's
//! cost, so each interface directory's attributes stay open while the directory lives.
//!
//! A directory is known by name *and* inode: an interface removed and re-created under
//! the same name is a new kernfs node with a new inode, so its files are reopened; the
//! old ones answer ENODEV and are closed at the next sweep.
//!
//! Bound: open files are limited to an eighth of the process's RLIMIT_NOFILE (at most
//! 2048) per cache. Directories beyond the bound are read the uncached way (open, read,
//! close), so a node with more interfaces is slower, never short of descriptors.

use super::{read_once, ATTR_MAX};
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::collections::HashMap;
use std::io;
use std::path::Path;

/// One directory's attributes, each open or the error that opening gave.
struct OpenDir {
    ino: u64,
    files: Vec<Result<OwnedFd, Errno>>,
    /// The sweep generation that last read this directory.
    seen: u64,
}

impl OpenDir {
    fn open(dir: &Path, ino: u64, names: &[&str]) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dirfd = rustix::fs::open(dir, flags, Mode::empty())?;
        let files = names
            .iter()
            .map(|n| {
                rustix::fs::openat(&dirfd, *n, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            })
            .collect();
        Ok(OpenDir {
            ino,
            files,
            seen: 0,
        })
    }
}

/// The attributes `names` of many sibling directories (one per interface), kept open.
pub struct AttrCache {
    names: Vec<&'static str>,
    max_dirs: usize,
    dirs: HashMap<String, OpenDir>,
    generation: u64,
}

impl AttrCache {
    /// A cache of attributes `names`, within the file-descriptor bound.
    pub fn new(names: Vec<&'static str>) -> Self {
        Self::with_fd_budget(names, fd_budget())
    }

    pub fn with_fd_budget(names: Vec<&'static str>, fds: usize) -> Self {
        AttrCache {
            max_dirs: fds / names.len().max(1),
            names,
            dirs: HashMap::new(),
            generation: 0,
        }
    }

    /// Reads every attribute of directory `dir` (cache key `key`) and hands each result
    /// to `each(index into names, trimmed value or error)`. Fails only when the
    /// directory itself cannot be found or opened (e.g. the interface is gone).
    pub fn read<E>(
        &mut self,
        key: &str,
        dir: &Path,
        mut each: impl FnMut(usize, io::Result<&[u8]>) -> Result<(), E>,
    ) -> io::Result<Result<(), E>> {
        let ino = rustix::fs::stat(dir)?.st_ino;
        let cached = self.dirs.get_mut(key).filter(|d| d.ino == ino);
        let mut fresh = None;
        let entry = match cached {
            Some(entry) => entry,
            None => fresh.insert(OpenDir::open(dir, ino, &self.names)?),
        };
        entry.seen = self.generation;
        let mut buf = [0; ATTR_MAX];
        for (i, file) in entry.files.iter().enumerate() {
            let value = match file {
                Ok(fd) => read_once(fd, &mut buf),
                Err(errno) => Err(io::Error::from(*errno)),
            };
            if let Err(e) = each(i, value) {
                return Ok(Err(e));
            }
        }
        if let Some(entry) = fresh {
            if self.dirs.len() < self.max_dirs || self.dirs.contains_key(key) {
                self.dirs.insert(key.to_owned(), entry);
            }
        }
        Ok(Ok(()))
    }

    /// Closes the files of directories not read since the previous sweep (interfaces
    /// that went away). Call once per scrape, after reading.
    pub fn sweep(&mut self) {
        let generation = self.generation;
        self.dirs.retain(|_, d| d.seen == generation);
        self.generation += 1;
    }

    /// Open files held.
    #[cfg(test)]
    pub fn open_files(&self) -> usize {
        self.dirs
            .values()
            .map(|d| d.files.iter().filter(|f| f.is_ok()).count())
            .sum()
    }
}

/// An eighth of the soft RLIMIT_NOFILE, at most 2048: room for the rest of the agent
/// (HTTP connections, tailed log files) whatever the limit.
fn fd_budget() -> usize {
    usize::try_from(crate::agent::fdlimit::soft() / 8)
        .unwrap_or(usize::MAX)
        .min(2048)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn iface(root: &Path, name: &str, mtu: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mtu"), format!("{mtu}\n")).unwrap();
        dir
    }

    /// Reads all attributes of `dir` as strings ("ERR" for a failed one).
    fn read(cache: &mut AttrCache, key: &str, dir: &Path) -> io::Result<Vec<String>> {
        let mut got = Vec::new();
        let done = cache.read(key, dir, |_, v| {
            got.push(v.map_or("ERR".into(), |b| String::from_utf8_lossy(b).into_owned()));
            Ok::<(), ()>(())
        })?;
        assert_eq!(done, Ok(()));
        Ok(got)
    }

    #[test]
    fn keeps_files_open_and_sees_new_values() {
        let root = tempfile::tempdir().unwrap();
        let eth0 = iface(root.path(), "eth0", "1500");
        let mut cache = AttrCache::with_fd_budget(vec!["mtu", "speed"], 100);
        assert_eq!(read(&mut cache, "eth0", &eth0).unwrap(), ["1500", "ERR"]);
        assert_eq!(cache.open_files(), 1);
        std::fs::write(eth0.join("mtu"), "9000\n").unwrap();
        assert_eq!(read(&mut cache, "eth0", &eth0).unwrap(), ["9000", "ERR"]);
        assert_eq!(cache.open_files(), 1);
    }

    #[test]
    fn reopens_a_directory_recreated_under_the_same_name() {
        let root = tempfile::tempdir().unwrap();
        let eth0 = iface(root.path(), "eth0", "1500");
        let mut cache = AttrCache::with_fd_budget(vec!["mtu"], 100);
        read(&mut cache, "eth0", &eth0).unwrap();
        std::fs::remove_dir_all(&eth0).unwrap();
        // Keep the old inode number from being reused for the new directory.
        let _other = iface(root.path(), "other", "1");
        iface(root.path(), "eth0", "1400");
        assert_eq!(read(&mut cache, "eth0", &eth0).unwrap(), ["1400"]);
    }

    #[test]
    fn sweep_closes_directories_that_went_away() {
        let root = tempfile::tempdir().unwrap();
        let a = iface(root.path(), "a", "1");
        let b = iface(root.path(), "b", "2");
        let mut cache = AttrCache::with_fd_budget(vec!["mtu"], 100);
        read(&mut cache, "a", &a).unwrap();
        read(&mut cache, "b", &b).unwrap();
        cache.sweep();
        assert_eq!(cache.open_files(), 2);
        read(&mut cache, "a", &a).unwrap();
        cache.sweep();
        assert_eq!(cache.open_files(), 1);
    }

    #[test]
    fn directories_beyond_the_bound_are_read_uncached() {
        let root = tempfile::tempdir().unwrap();
        let a = iface(root.path(), "a", "1");
        let b = iface(root.path(), "b", "2");
        let mut cache = AttrCache::with_fd_budget(vec!["mtu", "speed"], 3);
        assert_eq!(read(&mut cache, "a", &a).unwrap(), ["1", "ERR"]);
        assert_eq!(read(&mut cache, "b", &b).unwrap(), ["2", "ERR"]);
        assert_eq!(read(&mut cache, "b", &b).unwrap(), ["2", "ERR"]);
        assert_eq!(cache.open_files(), 1);
    }

    #[test]
    fn a_missing_directory_is_not_found_and_errors_reach_the_caller() {
        let root = tempfile::tempdir().unwrap();
        let mut cache = AttrCache::with_fd_budget(vec!["mtu"], 100);
        let err = read(&mut cache, "gone", &root.path().join("gone")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let a = iface(root.path(), "a", "1");
        let stopped = cache.read("a", &a, |i, _| Err(i)).unwrap();
        assert_eq!(stopped, Err(0));
    }

    #[test]
    fn the_budget_is_bounded() {
        let budget = fd_budget();
        assert!(budget <= 2048);
    }
}
