//! Where pods and containers are in the cgroup tree: cgroup v1 or v2 under the root
//! (`<sysfs>/fs/cgroup` by default), and a walk of the kubepods tree that finds pod
//! cgroups (any QoS, either driver, any `--cgroup-root` prefix) and their container
//! cgroups. The walk descends only into the root's children and `kubepods*` /
//! `burstable` / `besteffort` directories, so system slices cost one listing.

use super::files::Errors;
use super::names::{self, Qos};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// The bounds of one walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLimits {
    /// Depth below the root at which pod cgroups are still looked for (kubepods/burstable/pod = 3).
    pub max_depth: usize,
    /// Pods per scrape (the kubelet's maxPods default is 110).
    pub max_pods: usize,
    /// Containers per pod (sandbox, init, app and ephemeral containers).
    pub max_containers_per_pod: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_depth: 4,
            max_pods: 1024,
            max_containers_per_pod: 64,
        }
    }
}

/// A cgroup hierarchy layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// One unified tree.
    V2 { root: PathBuf },
    /// One tree per controller (a hybrid host's `unified/` is ignored: its controllers are v1).
    V1(V1Roots),
}

/// The cgroup v1 controller mounts read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Roots {
    pub cpu: PathBuf,
    pub cpuacct: PathBuf,
    pub memory: PathBuf,
    pub blkio: PathBuf,
    pub pids: PathBuf,
}

impl Hierarchy {
    /// v2 when the root has `cgroup.controllers`, else v1 below it.
    pub fn detect(root: &Path) -> Hierarchy {
        if root.join("cgroup.controllers").exists() {
            return Hierarchy::V2 {
                root: root.to_owned(),
            };
        }
        // Combined mounts (`cpu,cpuacct`) are often symlinked as `cpu` and `cpuacct`.
        let first = |names: &[&str]| {
            let found = names.iter().map(|n| root.join(n)).find(|p| p.is_dir());
            found.unwrap_or_else(|| root.join(names[names.len() - 1]))
        };
        Hierarchy::V1(V1Roots {
            cpu: first(&["cpu,cpuacct", "cpu"]),
            cpuacct: first(&["cpu,cpuacct", "cpuacct"]),
            memory: root.join("memory"),
            blkio: root.join("blkio"),
            pids: root.join("pids"),
        })
    }

    /// The tree that is walked for pods: the unified one, or v1's memory hierarchy
    /// (always mounted where the kubelet runs).
    pub fn walk_root(&self) -> &Path {
        match self {
            Hierarchy::V2 { root } => root,
            Hierarchy::V1(roots) => &roots.memory,
        }
    }

    /// The file whose mtime cAdvisor takes as the creation time when it is older than
    /// the directory's (helpers.go getSpecInternal).
    pub fn creation_file(&self) -> &'static str {
        match self {
            Hierarchy::V2 { .. } => "cgroup.events",
            Hierarchy::V1(_) => "cgroup.clone_children",
        }
    }
}

/// A container cgroup: runtime id and path below the hierarchy root (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerCg {
    pub id: String,
    pub rel: String,
    /// The directory's inode: a cgroup re-created under the same path has another.
    pub ino: u64,
}

/// A pod cgroup and its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodCg {
    pub uid: String,
    pub qos: Qos,
    pub rel: String,
    pub ino: u64,
    pub containers: Vec<ContainerCg>,
}

/// Every pod below `root`, sorted by path, each with its containers sorted by path.
pub fn walk(root: &Path, limits: &WalkLimits, errors: &Errors) -> Vec<PodCg> {
    let mut pods = Vec::new();
    if let Ok(dir) = open_dir(rustix::fs::CWD, root) {
        descend(&dir, "", 0, limits, errors, &mut pods);
    }
    pods.sort_by(|a, b| a.rel.cmp(&b.rel));
    pods
}

fn descend(
    dir: &OwnedFd,
    rel: &str,
    depth: usize,
    limits: &WalkLimits,
    errors: &Errors,
    pods: &mut Vec<PodCg>,
) {
    for (name, ino) in subdirs(dir) {
        let pod = names::pod(&name);
        let deeper = depth + 1 < limits.max_depth && (depth == 0 || names::may_hold_pods(&name));
        if pod.is_none() && !deeper {
            continue;
        }
        if pod.is_some() && pods.len() >= limits.max_pods {
            errors.over_limit.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // Relative to the open parent: no path walk from the root. Gone meanwhile: skipped.
        let Ok(child) = open_dir(dir, &name) else {
            continue;
        };
        let child_rel = join(rel, &name);
        match pod {
            Some((uid, qos)) => pods.push(PodCg {
                uid,
                qos,
                containers: containers(&child, &child_rel, limits, errors),
                rel: child_rel,
                ino,
            }),
            None => descend(&child, &child_rel, depth + 1, limits, errors, pods),
        }
    }
}

fn containers(dir: &OwnedFd, rel: &str, limits: &WalkLimits, errors: &Errors) -> Vec<ContainerCg> {
    let mut out: Vec<ContainerCg> = Vec::new();
    for (name, ino) in subdirs(dir) {
        let Some(id) = names::container(&name) else {
            continue;
        };
        if out.len() >= limits.max_containers_per_pod {
            errors.over_limit.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        out.push(ContainerCg {
            id: id.to_owned(),
            rel: join(rel, &name),
            ino,
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

fn open_dir(at: impl AsFd, path: impl rustix::path::Arg) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::openat(at, path, flags, Mode::empty())
}

/// Names and inodes of the subdirectories of `dir`. Entries are read with getdents64
/// into one buffer: a cgroup directory lists dozens of control files, and only its
/// subdirectories cost an allocation. An unreadable directory lists nothing.
fn subdirs(dir: &OwnedFd) -> Vec<(String, u64)> {
    let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
    let mut entries = RawDir::new(dir, &mut buf);
    let mut out = Vec::new();
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        let is_dir = match entry.file_type() {
            FileType::Directory => true,
            // No d_type from this filesystem: ask.
            FileType::Unknown => rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory),
            _ => false,
        };
        match name.to_str() {
            Ok("." | "..") | Err(_) => {}
            Ok(name) if is_dir => out.push((name.to_owned(), entry.ino())),
            Ok(_) => {}
        }
    }
    out
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

#[cfg(test)]
mod tests;
