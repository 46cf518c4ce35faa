//! filesystem: node_exporter 1.5's `node_filesystem_*` families (size, free, avail,
//! files, files_free, readonly, device_error), one series per visible mount point.
//! Mirrors collector/filesystem_linux.go and filesystem_common.go.
//!
//! Where we differ on purpose: mounts come from the host's `<procfs>/1/mountinfo`; a
//! mount point listed twice is reported once, as the last mount listed (the one visible
//! at that path), so bind mounts and re-mounts never produce duplicate series
//! (node_exporter #2805, PITFALLS 14); and statfs runs with a timeout so a hung NFS mount
//! never blocks the scrape (node_exporter #244, PITFALLS 15; see [`statfs`]). The mount
//! table is re-read only when the kernel signals a change (see [`table`]).

mod mounts;
mod statfs;
mod table;

pub use mounts::{parse_mountinfo, parse_mounts, unescape, Mount, MountTable};
pub use statfs::{FsUsage, StatFn};

use super::{CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::MetricFamily;
use regex::Regex;
use statfs::{Outcome, Prober};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use table::TableReader;

/// node_exporter's families, in the order of [`values`]' array.
const FAMILIES: [(&str, &str); 6] = [
    ("node_filesystem_size_bytes", "Filesystem size in bytes."),
    (
        "node_filesystem_free_bytes",
        "Filesystem free space in bytes.",
    ),
    (
        "node_filesystem_avail_bytes",
        "Filesystem space available to non-root users in bytes.",
    ),
    ("node_filesystem_files", "Filesystem total file nodes."),
    (
        "node_filesystem_files_free",
        "Filesystem total free file nodes.",
    ),
    ("node_filesystem_readonly", "Filesystem read-only status."),
];

/// A mount to report, owned so that it outlives the table text between scrapes.
struct Target {
    device: String,
    fstype: String,
    mount_point: String,
    read_only: bool,
}

/// What one read of the mount table gives: the mounts to report and where to statfs
/// them. Kept until the table changes.
struct Snapshot {
    targets: Vec<Target>,
    paths: Arc<Vec<PathBuf>>,
    malformed_lines: usize,
}

struct Cache {
    reader: TableReader,
    snapshot: Option<Arc<Snapshot>>,
}

pub struct Filesystem {
    paths: HostPaths,
    /// `--path.rootfs` as a string prefix to strip from mount points; None for `/`.
    rootfs_prefix: Option<String>,
    mount_points_exclude: Regex,
    fs_types_exclude: Regex,
    cache: Mutex<Cache>,
    prober: Prober,
}

impl Filesystem {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        Self::with_statfs(paths, settings, Arc::new(statfs::statfs))
    }

    /// Like [`Filesystem::new`] with an injected statfs (tests).
    pub fn with_statfs(paths: &HostPaths, settings: &CollectorSettings, stat: StatFn) -> Self {
        let root = paths.rootfs.to_string_lossy();
        let root = root.trim_end_matches('/');
        Filesystem {
            paths: paths.clone(),
            rootfs_prefix: (!root.is_empty()).then(|| root.to_owned()),
            mount_points_exclude: settings.fs_mount_points_exclude.clone(),
            fs_types_exclude: settings.fs_types_exclude.clone(),
            cache: Mutex::new(Cache {
                reader: TableReader::new(paths),
                snapshot: None,
            }),
            prober: Prober::new(stat, settings.fs_mount_timeout),
        }
    }

    /// The mounts to report, from the cache unless the mount table changed.
    fn snapshot(&self) -> Result<Arc<Snapshot>, CollectError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let cache = &mut *cache;
        let changed = cache.reader.read_if_changed(cache.snapshot.is_none())?;
        if let (None, Some(snapshot)) = (&changed, &cache.snapshot) {
            return Ok(snapshot.clone());
        }
        let (text, parse) = changed.unwrap_or_else(|| (String::new(), parse_mountinfo));
        let table = parse(&text);
        if table.malformed_lines > 0 {
            // Logged when the table changes, not on every scrape.
            let lines = table.malformed_lines;
            tracing::warn!(lines, "Skipped malformed lines of the mount table.");
        }
        let snapshot = Arc::new(self.build(table));
        cache.snapshot = Some(snapshot.clone());
        Ok(snapshot)
    }

    fn build(&self, table: MountTable<'_>) -> Snapshot {
        let targets: Vec<Target> = self
            .select(table.mounts)
            .into_iter()
            .map(|m| Target {
                device: m.device.to_owned(),
                fstype: m.fstype.to_owned(),
                mount_point: m.mount_point.into_owned(),
                read_only: m.read_only,
            })
            .collect();
        let paths = targets
            .iter()
            .map(|t| self.paths.root(&t.mount_point))
            .collect();
        Snapshot {
            targets,
            paths: Arc::new(paths),
            malformed_lines: table.malformed_lines,
        }
    }

    /// The mounts to report: mount points relative to the rootfs, one per mount point
    /// (the last listed), then the exclusions applied.
    fn select<'a>(&self, mounts: Vec<Mount<'a>>) -> Vec<Mount<'a>> {
        let mounts: Vec<Mount<'a>> = mounts
            .into_iter()
            .map(|mut m| {
                m.mount_point = self.strip_rootfs(m.mount_point);
                m
            })
            .collect();
        let mut seen = HashSet::with_capacity(mounts.len());
        let mut last: Vec<bool> = mounts
            .iter()
            .rev()
            .map(|m| seen.insert(m.mount_point.as_ref()))
            .collect();
        drop(seen);
        last.reverse();
        mounts
            .into_iter()
            .zip(last)
            .filter(|(m, last)| {
                *last
                    && !self.mount_points_exclude.is_match(&m.mount_point)
                    && !self.fs_types_exclude.is_match(m.fstype)
            })
            .map(|(m, _)| m)
            .collect()
    }

    /// node_exporter's `rootfsStripPrefix`, on whole path components.
    fn strip_rootfs<'a>(&self, mp: Cow<'a, str>) -> Cow<'a, str> {
        let Some(prefix) = self.rootfs_prefix.as_deref() else {
            return mp;
        };
        let cut = match mp.strip_prefix(prefix) {
            Some("") => return Cow::Borrowed("/"),
            Some(rest) if rest.starts_with('/') => prefix.len(),
            _ => return mp,
        };
        match mp {
            Cow::Borrowed(s) => Cow::Borrowed(&s[cut..]),
            Cow::Owned(s) => Cow::Owned(s[cut..].to_owned()),
        }
    }

    /// One outcome per target: stuck mounts are skipped, the rest stat'ed.
    fn stat(&self, snap: &Snapshot) -> Vec<Outcome> {
        let stuck = self
            .prober
            .stuck_flags(snap.targets.iter().map(|t| t.mount_point.as_str()));
        let live = || snap.targets.iter().zip(&stuck).filter(|(_, s)| !**s);
        let names: Vec<&str> = live().map(|(t, _)| t.mount_point.as_str()).collect();
        let paths = if names.len() == snap.targets.len() {
            snap.paths.clone()
        } else {
            let live_paths = snap.paths.iter().zip(&stuck).filter(|(_, s)| !**s);
            Arc::new(live_paths.map(|(p, _)| p.clone()).collect())
        };
        let mut done = self.prober.stat_all(paths, &names).into_iter();
        stuck
            .into_iter()
            .map(|s| match s {
                true => Outcome::Stuck,
                false => done.next().unwrap_or(Outcome::Stuck),
            })
            .collect()
    }
}

/// The six value families of a mount whose statfs succeeded.
fn values(u: &FsUsage, read_only: bool) -> [f64; 6] {
    let bsize = u.block_size as f64;
    [
        u.blocks as f64 * bsize,
        u.blocks_free as f64 * bsize,
        u.blocks_avail as f64 * bsize,
        u.files as f64,
        u.files_free as f64,
        if read_only { 1.0 } else { 0.0 },
    ]
}

impl Collector for Filesystem {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let snap = self.snapshot()?;
        let outcomes = self.stat(&snap);
        let mut families = FAMILIES.map(|(name, help)| MetricFamily::gauge(name, help));
        let mut errors = MetricFamily::gauge(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
        );
        for (t, outcome) in snap.targets.iter().zip(outcomes) {
            let labels = [
                ("device", t.device.as_str()),
                ("fstype", t.fstype.as_str()),
                ("mountpoint", t.mount_point.as_str()),
            ];
            // As node_exporter: a mount that cannot be stat'ed has only device_error.
            let usage = match outcome {
                Outcome::Done(Ok(u)) => u,
                Outcome::Done(Err(e)) => {
                    tracing::debug!(mountpoint = t.mount_point, error = %e, "statfs failed.");
                    errors.push(&labels, 1.0);
                    continue;
                }
                Outcome::Stuck => {
                    errors.push(&labels, 1.0);
                    continue;
                }
            };
            errors.push(&labels, 0.0);
            for (f, v) in families.iter_mut().zip(values(&usage, t.read_only)) {
                f.push(&labels, v);
            }
        }
        out.extend(families);
        out.push(errors);
        out.extend(self.own_metrics(snap.malformed_lines));
        Ok(())
    }
}

impl Filesystem {
    /// nodepulse's own health of this collector: stuck mounts and unreadable lines.
    fn own_metrics(&self, malformed_lines: usize) -> [MetricFamily; 2] {
        [
            MetricFamily::gauge(
                "nodepulse_filesystem_stuck_mounts",
                "Mount points whose statfs did not return within the mount timeout; they \
                 are skipped until the blocked call returns.",
            )
            .value(self.prober.stuck_count() as f64),
            MetricFamily::gauge(
                "nodepulse_filesystem_mount_table_malformed_lines",
                "Lines of the mount table that could not be parsed and were skipped.",
            )
            .value(malformed_lines as f64),
        ]
    }
}

#[cfg(test)]
mod tests;
