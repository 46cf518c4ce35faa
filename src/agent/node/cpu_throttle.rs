//! The thermal throttle part of the `cpu` collector: `node_cpu_core_throttles_total`
//! `{core,package}` and `node_cpu_package_throttles_total{package}` from
//! `<sysfs>/devices/system/cpu/cpuN/thermal_throttle/`, emitted only where the kernel
//! has those files (Intel with the therm_throt driver), as node_exporter 1.5's
//! `updateThermalThrottle` does.
//!
//! node_exporter re-reads every CPU's topology on each scrape even when no CPU has
//! throttle counters (VMs, AMD): two file reads per CPU for nothing. We probe which CPUs
//! have counters, and their package and core ids, at most once a minute and read only
//! the counters on each scrape. A CPU brought online between probes shows up at the
//! next probe.

use super::read_uint;
use crate::exposition::MetricFamily;
use std::collections::btree_map::{BTreeMap, Entry};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const REPROBE_AFTER: Duration = Duration::from_secs(60);

/// A CPU that has a `thermal_throttle` directory, with its topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottledCpu {
    pub dir: PathBuf,
    pub package: u64,
    pub core: u64,
}

pub struct Throttle {
    cpu_root: PathBuf,
    probe: Mutex<Option<(Instant, Vec<ThrottledCpu>)>>,
}

impl Throttle {
    pub fn new(paths: &super::HostPaths) -> Self {
        Throttle {
            cpu_root: paths.sys("devices/system/cpu"),
            probe: Mutex::new(None),
        }
    }

    /// Appends the two throttle families when any CPU has counters.
    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        let cpus = self.cpus();
        if cpus.is_empty() {
            return;
        }
        let (packages, cores) = count(&cpus, |p| read_uint(p).ok());
        out.extend(families(&packages, &cores));
    }

    fn cpus(&self) -> Vec<ThrottledCpu> {
        let mut probe = self.probe.lock().unwrap_or_else(|e| e.into_inner());
        match &*probe {
            Some((at, cpus)) if at.elapsed() < REPROBE_AFTER => cpus.clone(),
            _ => {
                let cpus = probe_cpus(&self.cpu_root);
                *probe = Some((Instant::now(), cpus.clone()));
                cpus
            }
        }
    }
}

/// Lists `cpu[0-9]*` directories (in name order, as Go's glob) that have a
/// `thermal_throttle` directory and a readable topology. node_exporter skips a CPU
/// without `physical_package_id` or `core_id`; one without counters adds nothing.
fn probe_cpus(cpu_root: &Path) -> Vec<ThrottledCpu> {
    let Ok(entries) = std::fs::read_dir(cpu_root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| is_cpu_dir_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .filter(|dir| dir.join("thermal_throttle").is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let package = read_uint(&dir.join("topology/physical_package_id")).ok()?;
            let core = read_uint(&dir.join("topology/core_id")).ok()?;
            Some(ThrottledCpu { dir, package, core })
        })
        .collect()
}

/// Matches the glob `cpu[0-9]*`.
fn is_cpu_dir_name(name: &str) -> bool {
    name.strip_prefix("cpu")
        .and_then(|rest| rest.bytes().next())
        .is_some_and(|b| b.is_ascii_digit())
}

/// Reads each core's counter from the first of its CPUs (hyperthread siblings share
/// it) and each package's from the first CPU of the package that has one, as
/// node_exporter does. `read` returns `None` for a missing or unreadable file.
pub fn count(
    cpus: &[ThrottledCpu],
    read: impl Fn(&Path) -> Option<u64>,
) -> (BTreeMap<u64, u64>, BTreeMap<(u64, u64), u64>) {
    let mut packages = BTreeMap::new();
    let mut cores = BTreeMap::new();
    for cpu in cpus {
        if let Entry::Vacant(slot) = cores.entry((cpu.package, cpu.core)) {
            if let Some(n) = read(&cpu.dir.join("thermal_throttle/core_throttle_count")) {
                slot.insert(n);
            }
        }
        if let Entry::Vacant(slot) = packages.entry(cpu.package) {
            if let Some(n) = read(&cpu.dir.join("thermal_throttle/package_throttle_count")) {
                slot.insert(n);
            }
        }
    }
    (packages, cores)
}

fn families(packages: &BTreeMap<u64, u64>, cores: &BTreeMap<(u64, u64), u64>) -> [MetricFamily; 2] {
    let mut package_f = MetricFamily::counter(
        "node_cpu_package_throttles_total",
        "Number of times this CPU package has been throttled.",
    );
    for (package, n) in packages {
        package_f.push(&[("package", &package.to_string())], *n as f64);
    }
    let mut core_f = MetricFamily::counter(
        "node_cpu_core_throttles_total",
        "Number of times this CPU core has been throttled.",
    );
    for ((package, core), n) in cores {
        let labels = [
            ("core", &*core.to_string()),
            ("package", &*package.to_string()),
        ];
        core_f.push(&labels, *n as f64);
    }
    [package_f, core_f]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::node::HostPaths;

    fn write(root: &Path, rel: &str, contents: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    #[test]
    fn cpu_dir_names_follow_the_glob() {
        assert!(is_cpu_dir_name("cpu0"));
        assert!(is_cpu_dir_name("cpu17"));
        assert!(!is_cpu_dir_name("cpufreq"));
        assert!(!is_cpu_dir_name("cpuidle"));
        assert!(!is_cpu_dir_name("cpu"));
    }

    #[test]
    fn siblings_share_core_and_package_counters() {
        let cpu = |n: u32, package, core| ThrottledCpu {
            dir: PathBuf::from(format!("/c/cpu{n}")),
            package,
            core,
        };
        // cpu0 and cpu2 are siblings of core 0; cpu0 lacks the package counter.
        let cpus = [cpu(0, 0, 0), cpu(1, 0, 1), cpu(2, 0, 0), cpu(3, 1, 0)];
        let read = |p: &Path| {
            let s = p.to_string_lossy();
            match (s.contains("cpu0"), s.ends_with("package_throttle_count")) {
                (true, true) => None,
                (_, true) => Some(if s.contains("cpu3") { 9 } else { 5 }),
                _ => Some(s.as_bytes()[6] as u64 - b'0' as u64 + 100),
            }
        };
        let (packages, cores) = count(&cpus, read);
        assert_eq!(packages, BTreeMap::from([(0, 5), (1, 9)]));
        assert_eq!(
            cores,
            BTreeMap::from([((0, 0), 100), ((0, 1), 101), ((1, 0), 103)])
        );
    }

    #[test]
    fn collects_from_a_sysfs_root() {
        let dir = tempfile::tempdir().unwrap();
        let c = "devices/system/cpu";
        for (n, core) in [(0, 0), (1, 0)] {
            write(
                dir.path(),
                &format!("{c}/cpu{n}/topology/physical_package_id"),
                "0\n",
            );
            write(
                dir.path(),
                &format!("{c}/cpu{n}/topology/core_id"),
                &format!("{core}\n"),
            );
            let t = format!("{c}/cpu{n}/thermal_throttle");
            write(
                dir.path(),
                &format!("{t}/core_throttle_count"),
                &format!("{}\n", 7 + n),
            );
            write(dir.path(), &format!("{t}/package_throttle_count"), "42\n");
        }
        // No thermal_throttle directory: contributes nothing (a VM's CPU).
        write(dir.path(), &format!("{c}/cpu2/topology/core_id"), "1\n");
        let paths = HostPaths {
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Throttle::new(&paths).collect(&mut out);
        assert_eq!(out[0].name, "node_cpu_package_throttles_total");
        assert_eq!(out[0].samples[0].value, 42.0);
        assert_eq!(out[1].name, "node_cpu_core_throttles_total");
        assert_eq!(out[1].samples.len(), 1);
        assert_eq!(out[1].samples[0].value, 7.0);
        assert_eq!(out[1].samples[0].labels[0].0, "core");
    }

    #[test]
    fn no_counters_no_families() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "devices/system/cpu/cpu0/topology/core_id",
            "0\n",
        );
        let paths = HostPaths {
            sysfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Throttle::new(&paths).collect(&mut out);
        assert!(out.is_empty());
    }
}
