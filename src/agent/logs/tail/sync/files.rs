//! The files a sync opens and finds on disk: a file opened at its checkpoint (or its
//! default start) once it is checked to be the file probed, a stream's rotated siblings
//! on disk (discovery's list may predate them), and the done files forgotten once gone.

use super::super::file::TailFile;
use super::super::{Stream, Tailer};
use crate::agent::logs::checkpoint::{CheckpointStore, Probe};
use crate::agent::logs::discover::{docker_rotated, path, Discovered};
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

impl Tailer {
    /// Opens `path`, checks it is still the file probed, and starts it at its checkpoint
    /// if it has one, else at `default` (`None`: at its end).
    pub(super) fn open(
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
}

/// Forgets the done files no longer on disk. Discovery's list may predate a file read
/// and closed since: one missing from it is looked for on disk before it is forgotten,
/// else it would be met again as a file not read yet, and read again from its checkpoint
/// (0 while its acknowledgements are still in flight).
pub(super) fn forget_done(stream: &mut Stream, rotated: &[(PathBuf, Probe)], d: &Discovered) {
    let ids = |r: &[(PathBuf, Probe)]| -> HashSet<_> { r.iter().map(|(_, p)| p.id()).collect() };
    let mut present = ids(rotated);
    if stream.done.iter().any(|id| !present.contains(id)) {
        present = ids(&rotated_on_disk(&d.live, &d.rotated));
    }
    stream.done.retain(|id| present.contains(id));
}

/// True when `path` was last modified before the Unix second `since` (unknown: false,
/// so the file is read rather than skipped).
pub(in crate::agent::logs::tail) fn modified_before(path: &Path, since: u64) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    let secs = modified
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    secs.is_some_and(|d| d.as_secs() < since)
}

/// The rotated siblings (`N.log.<stamp>`) of the live file `live` on disk now, and
/// those discovery `listed`, probed, in name order.
pub(super) fn rotated_on_disk(live: &Path, listed: &[PathBuf]) -> Vec<(PathBuf, Probe)> {
    let mut paths = siblings_on_disk(live);
    paths.extend(listed.iter().cloned());
    paths.sort_by_key(|p| oldest_first(p));
    paths.dedup();
    let probe = |p: PathBuf| Probe::read(&p).ok().map(|probe| (p, probe));
    paths.into_iter().filter_map(probe).collect()
}

/// A rotated file's place, oldest first: kubelet's `N.log.<timestamp>` by name (the
/// time), Docker's `<id>-json.log.<k>` (cri-dockerd) by `k`, the highest first (Docker
/// renames `.1` to `.2` at each rotation). A stream holds one kind or the other.
fn oldest_first(p: &Path) -> (std::cmp::Reverse<u32>, PathBuf) {
    let docker_k = p
        .extension()
        .and_then(|e| e.to_str())
        .and_then(|e| e.parse::<u32>().ok());
    (std::cmp::Reverse(docker_k.unwrap_or(0)), p.to_owned())
}

/// The stream's rotated files on disk now: kubelet's `N.log.<timestamp>` beside `live`,
/// and Docker's beside its target where `live` is a cri-dockerd symlink (the same rule
/// as discovery's, [`docker_rotated`]).
fn siblings_on_disk(live: &Path) -> Vec<PathBuf> {
    let mut out = docker_rotated(live);
    let n = live
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(path::parse_live_name);
    let (Some(n), Some(dir)) = (n, live.parent()) else {
        return out;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let sibling = |p: &PathBuf| {
        let name = p.file_name().and_then(|f| f.to_str());
        name.and_then(path::parse_rotated_name)
            .is_some_and(|(m, _)| m == n)
    };
    out.extend(entries.flatten().map(|e| e.path()).filter(sibling));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With discovery's list empty (a scan that predates the rotations), the tailer still
    /// finds Docker's rotated files of a cri-dockerd stream, oldest first.
    #[test]
    fn docker_rotated_files_are_found_without_discoverys_list() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker/abc");
        std::fs::create_dir_all(&docker).unwrap();
        for name in ["abc-json.log", "abc-json.log.1", "abc-json.log.2"] {
            std::fs::write(docker.join(name), format!("{name}\n")).unwrap();
        }
        let pod = dir.path().join("pods/ns_p_uid/app");
        std::fs::create_dir_all(&pod).unwrap();
        std::os::unix::fs::symlink(docker.join("abc-json.log"), pod.join("0.log")).unwrap();
        let found: Vec<PathBuf> = rotated_on_disk(&pod.join("0.log"), &[])
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            found,
            [docker.join("abc-json.log.2"), docker.join("abc-json.log.1")]
        );
    }
}
