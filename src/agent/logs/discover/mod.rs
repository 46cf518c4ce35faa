//! Discovery: which log files to tail. A full scan ([`scan`]) finds every container stream
//! under the pods directory (kubelet's layout, see [`path`]) and the
//! `<containers_dir>/*.log` symlinks that point elsewhere, filtered by include/exclude
//! globs; [`WatchedProvider`] tells when to scan again (inotify through `notify`, and a periodic
//! rescan as the fallback, so a new pod is tailed without a restart: Vector #18710).
//! What to do with the files is the tailer's business ([`crate::agent::logs::tail`]).

pub mod path;
mod watch;

pub use watch::WatchedProvider;

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One container stream as discovery sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// `<pods_dir>/<ns>_<pod>_<uid>/<container>/<N>.log`, or the target of a
    /// `<containers_dir>` symlink outside the pods directory. It may be missing for a
    /// moment during a rotation (renamed, the new one not created yet).
    pub live: PathBuf,
    /// Its rotated siblings `N.log.<timestamp>`, oldest first (never `.gz`), after Docker's
    /// rotated files where `live` is a cri-dockerd symlink ([`docker_rotated`]). The
    /// tailer reads them only as rotated files of this stream, never as streams of their
    /// own.
    pub rotated: Vec<PathBuf>,
}

/// Where to look and what to keep.
#[derive(Debug, Clone)]
pub struct DiscoverConfig {
    pub pods_dir: PathBuf,
    pub containers_dir: Option<PathBuf>,
    /// Globs on the live path; empty means everything. `*` also matches '/'.
    pub include: GlobSet,
    pub exclude: GlobSet,
}

impl DiscoverConfig {
    pub fn new(pods_dir: PathBuf, containers_dir: Option<PathBuf>) -> Self {
        DiscoverConfig {
            pods_dir,
            containers_dir,
            include: GlobSet::empty(),
            exclude: GlobSet::empty(),
        }
    }

    /// Sets the include and exclude globs; a bad pattern is an error naming it.
    pub fn with_globs(
        mut self,
        include: &[&str],
        exclude: &[&str],
    ) -> Result<Self, globset::Error> {
        self.include = glob_set(include)?;
        self.exclude = glob_set(exclude)?;
        Ok(self)
    }

    fn wants(&self, live: &Path) -> bool {
        (self.include.is_empty() || self.include.is_match(live)) && !self.exclude.is_match(live)
    }
}

fn glob_set(patterns: &[&str]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p)?);
    }
    b.build()
}

/// "Which files to tail" (STYLE 4): the tailer's input, faked in tests.
pub trait PathsProvider {
    fn paths(&mut self) -> Vec<Discovered>;
}

/// Scans the pods directory (and the containers directory's symlinks) now. A missing
/// pods directory is an error; unreadable entries below it are skipped (a pod being
/// deleted while scanned).
pub fn scan(config: &DiscoverConfig) -> io::Result<Vec<Discovered>> {
    let mut streams = BTreeMap::new();
    for pod in fs::read_dir(&config.pods_dir)?.flatten() {
        let name = pod.file_name();
        if path::parse_pod_dir(&name.to_string_lossy()).is_none() {
            continue;
        }
        for container in read_dir_paths(&pod.path()) {
            scan_container(&container, &mut streams);
        }
    }
    let mut found: Vec<Discovered> = streams.into_values().collect();
    for d in &mut found {
        let mut older = docker_rotated(&d.live);
        older.append(&mut d.rotated);
        d.rotated = older;
    }
    if let Some(dir) = &config.containers_dir {
        found.extend(symlinked_elsewhere(dir, &found));
    }
    found.retain(|d| config.wants(&d.live));
    Ok(found)
}

/// The `<N>.log` and `<N>.log.<ts>` files of one container directory, grouped by N.
fn scan_container(dir: &Path, streams: &mut BTreeMap<PathBuf, Discovered>) {
    let mut rotated: Vec<(String, PathBuf)> = Vec::new();
    for file in read_dir_paths(dir) {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(n) = path::parse_live_name(&name) {
            stream_of(streams, dir, n);
        } else if let Some((n, stamp)) = path::parse_rotated_name(&name) {
            rotated.push((stamp.to_owned(), file.clone()));
            stream_of(streams, dir, n);
        }
    }
    rotated.sort();
    for (_, file) in rotated {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (n, _) = path::parse_rotated_name(&name).expect("parsed above");
        stream_of(streams, dir, n).rotated.push(file);
    }
}

/// Under cri-dockerd a live file is a symlink to Docker's `<id>-json.log`, which Docker
/// rotates to `<id>-json.log.1`, `.2`, ... beside itself (the higher, the older; `.gz`
/// when compressed), outside the pods directory. Those are the stream's rotated files
/// too, oldest first, so that a file rotated while the agent was down is still found by
/// its checkpoint and read to its end. None for a live file that is no symlink.
pub fn docker_rotated(live: &Path) -> Vec<PathBuf> {
    let Ok(target) = fs::read_link(live) else {
        return Vec::new();
    };
    // a relative link is relative to the link's directory
    let target = live
        .parent()
        .map_or_else(|| target.clone(), |d| d.join(&target));
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let mut older: Vec<(u32, PathBuf)> = read_dir_paths(dir)
        .into_iter()
        .filter_map(|p| {
            let file = p.file_name()?.to_str()?;
            let n = file.strip_prefix(name.as_ref())?.strip_prefix('.')?;
            Some((n.parse::<u32>().ok()?, p))
        })
        .collect();
    older.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    older.into_iter().map(|(_, p)| p).collect()
}

fn stream_of<'a>(
    streams: &'a mut BTreeMap<PathBuf, Discovered>,
    dir: &Path,
    n: u32,
) -> &'a mut Discovered {
    let live = dir.join(format!("{n}.log"));
    streams.entry(live.clone()).or_insert(Discovered {
        live,
        rotated: Vec::new(),
    })
}

/// `<containers_dir>/*.log` symlinks whose targets are not already found (kubelet's point
/// into the pods directory, so they add nothing there): never the same file twice, by
/// canonical path and by dev/inode.
fn symlinked_elsewhere(dir: &Path, found: &[Discovered]) -> Vec<Discovered> {
    let identity = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let mut seen_paths: HashSet<PathBuf> = found
        .iter()
        .filter_map(|d| fs::canonicalize(&d.live).ok())
        .collect();
    let mut seen_ids: HashSet<(u64, u64)> =
        found.iter().filter_map(|d| identity(&d.live)).collect();
    let mut extra = Vec::new();
    for link in read_dir_paths(dir) {
        if link.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let Ok(target) = fs::canonicalize(&link) else {
            continue; // dangling: the container is gone
        };
        let Some(id) = identity(&target) else {
            continue;
        };
        if seen_paths.insert(target.clone()) && seen_ids.insert(id) {
            extra.push(Discovered {
                live: target,
                rotated: Vec::new(),
            });
        }
    }
    extra
}

fn read_dir_paths(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests;
