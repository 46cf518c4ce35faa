//! One scrape of the cgroup tree: the pods found by the walk become [`Row`]s — the pod
//! cgroup (`container=""`) and each container cgroup, named through [`ContainerNames`],
//! with fresh counters, a cached spec, and the network of the pod's sandbox. A cgroup
//! that vanished since the walk has no row.

use super::families::{Row, RowLabels};
use super::files::{CgroupDir, Errors};
use super::layout::{Hierarchy, PodCg, V1Roots};
use super::naming::{ContainerName, ContainerNames};
use super::netdev;
use super::open_files::{DirCache, Dirs};
use super::spec_cache::SpecCache;
use super::stats::{ContainerStats, Spec};
use super::{v1, v2};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What one scrape reads with.
pub struct Scrape<'a> {
    pub hierarchy: &'a Hierarchy,
    pub procfs: &'a Path,
    pub names: &'a dyn ContainerNames,
    pub errors: &'a Errors,
    pub specs: &'a mut SpecCache,
    pub dirs: &'a mut DirCache,
    pub now: Instant,
    pub buf: Vec<u8>,
}

impl Scrape<'_> {
    /// The rows of every pod, pod row first, containers in path order.
    pub fn rows(&mut self, pods: &[PodCg]) -> Vec<Row> {
        let mut rows = Vec::with_capacity(pods.len() * 5);
        for pod in pods {
            self.pod_rows(pod, &mut rows);
        }
        rows
    }

    fn pod_rows(&mut self, pod: &PodCg, rows: &mut Vec<Row>) {
        let named: Vec<Option<ContainerName>> = pod
            .containers
            .iter()
            .map(|c| self.names.container(&pod.uid, &c.id))
            .collect();
        let (namespace, pod_name) = match self.names.pod(&pod.uid) {
            Some(p) => (p.namespace, p.pod),
            None => named
                .iter()
                .flatten()
                .next()
                .map(|c| (c.namespace.clone(), c.pod.clone()))
                .unwrap_or_default(),
        };
        let base = RowLabels {
            namespace,
            pod: pod_name,
            ..RowLabels::default()
        };
        let pod_id = format!("/{}", pod.rel);
        let Some(pod_row) = self.row(
            &pod.rel,
            pod.ino,
            None,
            RowLabels {
                id: pod_id,
                ..base.clone()
            },
        ) else {
            return; // the pod is gone
        };
        let first = rows.len();
        rows.push(pod_row);
        let mut unnamed = Vec::new();
        for (c, name) in pod.containers.iter().zip(named) {
            let labels = RowLabels {
                container: name
                    .as_ref()
                    .map(|n| n.container.clone())
                    .unwrap_or_default(),
                id: format!("/{}", c.rel),
                image: name.as_ref().map(|n| n.image.clone()).unwrap_or_default(),
                name: c.id.clone(),
                ..base.clone()
            };
            if let Some(row) = self.row(&c.rel, c.ino, Some(&pod.rel), labels) {
                if name.is_none() {
                    unnamed.push(rows.len());
                }
                rows.push(row);
            }
        }
        let owner = self.sandbox(rows, &unnamed).unwrap_or(first);
        let pid = rows[owner..]
            .iter()
            .find_map(|r| r.stats.procs.as_ref()?.first().copied());
        if let Some(pid) = pid {
            rows[owner].net = self.network(pid);
        }
    }

    /// The row of one cgroup (inode `ino`, below cgroup `parent`), `None` when it no
    /// longer exists.
    fn row(&mut self, rel: &str, ino: u64, parent: Option<&str>, labels: RowLabels) -> Option<Row> {
        let stats = self.stats(rel, ino, parent)?;
        let spec = self.spec(rel);
        Some(Row {
            labels,
            stats,
            spec,
            net: Vec::new(),
        })
    }

    fn stats(&mut self, rel: &str, ino: u64, parent: Option<&str>) -> Option<ContainerStats> {
        let (buf, errors, hierarchy) = (&mut self.buf, self.errors, self.hierarchy);
        let dirs = self.dirs.get(rel, ino, parent, |parent| match hierarchy {
            Hierarchy::V2 { root } => {
                let dir = match parent {
                    Some(p) => p.open_child(rel.rsplit('/').next().unwrap_or(rel)),
                    None => CgroupDir::open(&root.join(rel)),
                };
                Some(Dirs::V2(dir.ok()?))
            }
            Hierarchy::V1(roots) => {
                let dirs = v1_dirs(roots, rel);
                dirs.memory.as_ref()?;
                Some(Dirs::V1(Box::new(dirs)))
            }
        })?;
        Some(match dirs {
            Dirs::V2(dir) => v2::read_stats(dir, buf, errors),
            Dirs::V1(dirs) => v1::read_stats(dirs, buf, errors),
        })
    }

    fn spec(&mut self, rel: &str) -> Spec {
        let (hierarchy, buf, errors) = (self.hierarchy, &mut self.buf, self.errors);
        self.specs.get(rel, self.now, || {
            let (cpu, memory) = match hierarchy {
                Hierarchy::V2 { root } => match CgroupDir::open(&root.join(rel)) {
                    Ok(dir) => v2::read_spec(&dir, buf, errors),
                    Err(_) => (None, None),
                },
                Hierarchy::V1(roots) => v1::read_spec(&v1_dirs(roots, rel), buf, errors),
            };
            let start_time =
                creation_time(&hierarchy.walk_root().join(rel), hierarchy.creation_file());
            Spec {
                cpu,
                memory,
                start_time,
            }
        })
    }

    /// The sandbox among the unnamed containers: the one running `pause`, or the only
    /// unnamed one.
    fn sandbox(&self, rows: &[Row], unnamed: &[usize]) -> Option<usize> {
        match unnamed {
            [] => None,
            [one] => Some(*one),
            many => many.iter().copied().find(|&i| {
                let pid = rows[i]
                    .stats
                    .procs
                    .as_ref()
                    .and_then(|p| p.first().copied());
                pid.is_some_and(|pid| self.comm(pid).as_deref() == Some("pause"))
            }),
        }
    }

    fn comm(&self, pid: u32) -> Option<String> {
        let text = crate::agent::node::read_file(&self.procfs.join(format!("{pid}/comm"))).ok()?;
        Some(text.trim_end().to_owned())
    }

    fn network(&self, pid: u32) -> Vec<netdev::IfaceStats> {
        let path = self.procfs.join(format!("{pid}/net/dev"));
        // The process may have exited since cgroup.procs was read: no network then.
        let Ok(text) = crate::agent::node::read_file(&path) else {
            return Vec::new();
        };
        netdev::parse(&text).unwrap_or_else(|msg| {
            self.errors
                .parse
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::debug!(path = %path.display(), error = %msg, "Cannot parse a pod's net/dev.");
            Vec::new()
        })
    }
}

fn v1_dirs(roots: &V1Roots, rel: &str) -> v1::V1Dirs {
    let open = |root: &Path| CgroupDir::open(&root.join(rel)).ok();
    v1::V1Dirs {
        cpu: open(&roots.cpu),
        cpuacct: open(&roots.cpuacct),
        memory: open(&roots.memory),
        blkio: open(&roots.blkio),
        pids: open(&roots.pids),
    }
}

/// cAdvisor's raw-cgroup creation time: the older of the directory's mtime and that of
/// `file` in it (which changes less often), in whole unix seconds.
fn creation_time(dir: &Path, file: &str) -> Option<i64> {
    let secs = |p: &Path| -> Option<i64> {
        let t: SystemTime = std::fs::metadata(p).ok()?.modified().ok()?;
        Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64)
    };
    match (secs(dir), secs(&dir.join(file))) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
