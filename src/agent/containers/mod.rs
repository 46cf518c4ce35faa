//! Container metrics from the cgroup tree: cAdvisor's `container_*` families with the
//! labels the kubelet's `/metrics/cadvisor` gives them, for every pod and container
//! cgroup of the node (cgroup v1 and v2; systemd and cgroupfs drivers; containerd,
//! CRI-O and docker). Read fresh on every scrape: a container that is gone has no series
//! at the next one.
//!
//! Data flow: [`layout`] finds pod and container cgroups ─▶ [`scrape`] names them
//! ([`naming`]) and reads [`v2`] / [`v1`] files ([`files`]) into [`stats`], limits
//! through [`spec_cache`], the sandbox's network ([`netdev`]) ─▶ [`families`], each
//! cgroup's series sharing label sets kept between scrapes ([`labels`]).

pub mod families;
pub mod files;
pub mod labels;
pub mod layout;
pub mod logdir;
pub mod names;
pub mod naming;
pub mod netdev;
pub mod open_files;
mod scrape;
pub mod spec_cache;
pub mod stats;
pub mod v1;
pub mod v2;

use crate::agent::node::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use families::Row;
use files::Errors;
use labels::LabelCache;
use layout::{Hierarchy, WalkLimits};
use naming::ContainerNames;
use open_files::{DirCache, FdBudget};
use spec_cache::SpecCache;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The collector's name, as `--collectors.disable` takes it.
pub const NAME: &str = "containers";

/// Settings of the containers collector.
#[derive(Debug, Clone)]
pub struct ContainersSettings {
    /// The cgroup mount; `None`: `<sysfs>/fs/cgroup`.
    pub cgroup_root: Option<PathBuf>,
    pub limits: WalkLimits,
    /// How long a cgroup's limits and creation time are reused before being re-read.
    pub spec_refresh: Duration,
    /// Cgroup directories and counter files held open between scrapes (at most half
    /// of the soft RLIMIT_NOFILE); beyond, files are opened for each read. About ten
    /// per pod or container cgroup (v1: five directories and twelve files); each held
    /// file keeps a seq_file page of kernel memory (BENCHMARKS.md, real cgroupfs).
    pub max_open_files: usize,
}

impl Default for ContainersSettings {
    fn default() -> Self {
        ContainersSettings {
            cgroup_root: None,
            limits: WalkLimits::default(),
            spec_refresh: Duration::from_secs(60),
            max_open_files: 8192,
        }
    }
}

/// The `containers` collector.
pub struct ContainersCollector {
    root: PathBuf,
    procfs: PathBuf,
    sysfs: PathBuf,
    names: Arc<dyn ContainerNames>,
    limits: WalkLimits,
    specs: Mutex<SpecCache>,
    dirs: Mutex<DirCache>,
    labels: Mutex<LabelCache>,
    errors: Errors,
}

impl ContainersCollector {
    pub fn new(
        paths: &HostPaths,
        names: Arc<dyn ContainerNames>,
        settings: &ContainersSettings,
    ) -> Self {
        ContainersCollector {
            root: settings
                .cgroup_root
                .clone()
                .unwrap_or_else(|| paths.sys("fs/cgroup")),
            procfs: paths.procfs.clone(),
            sysfs: paths.sysfs.clone(),
            names,
            limits: settings.limits,
            specs: Mutex::new(SpecCache::new(settings.spec_refresh)),
            dirs: Mutex::new(DirCache::new(FdBudget::new(settings.max_open_files))),
            labels: Mutex::default(),
            errors: Errors::default(),
        }
    }

    /// One scrape's rows (pod rows and container rows), before they become families.
    pub fn rows(&self) -> Vec<Row> {
        let hierarchy = Hierarchy::detect(&self.root);
        let pods = layout::walk(hierarchy.walk_root(), &self.limits, &self.errors);
        self.names.refresh();
        let mut specs = self.specs.lock().unwrap_or_else(|e| e.into_inner());
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        let mut scrape = scrape::Scrape {
            hierarchy: &hierarchy,
            procfs: &self.procfs,
            names: self.names.as_ref(),
            errors: &self.errors,
            specs: &mut specs,
            dirs: &mut dirs,
            now: Instant::now(),
            buf: Vec::with_capacity(8 * 1024),
        };
        let rows = scrape.rows(&pods);
        specs.sweep();
        dirs.sweep();
        rows
    }

    /// The collector's own counters.
    fn own_families(&self, rows: &[Row], out: &mut Vec<MetricFamily>) {
        let mut errors = MetricFamily::counter(
            "nodepulse_containers_errors_total",
            "Cgroup files the containers collector could not read or parse, and pods or containers left out at a walk limit.",
        );
        for (reason, n) in [
            ("read", &self.errors.read),
            ("parse", &self.errors.parse),
            ("over_limit", &self.errors.over_limit),
        ] {
            errors.push(&[("reason", reason)], n.load(Ordering::Relaxed) as f64);
        }
        let unnamed = rows.iter().filter(|r| r.labels.pod.is_empty()).count();
        out.push(errors);
        let dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        let budget = dirs.budget();
        out.push(
            MetricFamily::gauge(
                "nodepulse_containers_open_files",
                "Cgroup directories and files the containers collector holds open between scrapes.",
            )
            .value(budget.held() as f64),
        );
        out.push(
            MetricFamily::counter(
                "nodepulse_containers_uncached_opens_total",
                "Cgroups and cgroup files opened and closed within a scrape because the open-file bound was reached.",
            )
            .value(budget.uncached.load(Ordering::Relaxed) as f64),
        );
        out.push(
            MetricFamily::gauge(
                "nodepulse_containers_unnamed_cgroups",
                "Pod and container cgroups of the last scrape whose pod could not be named.",
            )
            .value(unnamed as f64),
        );
    }

    /// `/dev/<name>` of a block device from `<sysfs>/dev/block/MAJ:MIN`, "" if unknown.
    fn device_name(
        &self,
        cache: &mut HashMap<(u32, u32), String>,
        major: u32,
        minor: u32,
    ) -> String {
        cache
            .entry((major, minor))
            .or_insert_with(|| {
                let link = self.sysfs.join(format!("dev/block/{major}:{minor}"));
                std::fs::read_link(link)
                    .ok()
                    .and_then(|t| t.file_name()?.to_str().map(|n| format!("/dev/{n}")))
                    .unwrap_or_default()
            })
            .clone()
    }
}

impl Collector for ContainersCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let rows = self.rows();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut devices = HashMap::new();
        let mut device = |major, minor| self.device_name(&mut devices, major, minor);
        let mut labels = self.labels.lock().unwrap_or_else(|e| e.into_inner());
        let sets = labels.sets(&rows, &mut device);
        labels.sweep();
        drop(labels);
        families::emit(&rows, &sets, now, out);
        self.own_families(&rows, out);
        Ok(())
    }
}
