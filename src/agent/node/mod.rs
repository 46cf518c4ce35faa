//! Node collectors: node_exporter's metric families read from the host's procfs and
//! sysfs. Each collector is a file with a pure parser over file contents (tested on real
//! samples) and a thin `Collector` impl that reads from the configured root paths.

use crate::agent::config::CollectorSettings;
use crate::exposition::MetricFamily;
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

pub mod arp;
pub mod conntrack;
pub mod cpu;
pub mod cpu_throttle;
pub mod diskstats;
pub mod entropy;
pub mod field_filter;
pub mod filefd;
pub mod filesystem;
mod goint;
pub mod host_net;
pub mod loadavg;
pub mod meminfo;
pub mod netclass;
pub mod netdev;
pub mod netstat;
pub mod os;
pub mod pressure;
pub mod procstat;
mod pseudo_file;
pub mod selinux;
pub mod sockstat;
pub mod softnet;
pub mod stat;
mod sysfs_attr;
#[cfg(test)]
mod testing;
pub mod textfile;
pub mod time;
pub mod timex;
pub mod udp_queues;
pub mod uname;
pub mod vmstat;

/// Builds one collector from the host paths and the collector settings.
type Ctor = fn(&HostPaths, &CollectorSettings) -> Box<dyn Collector>;

/// Every node collector, by node_exporter's name, in scrape order.
const REGISTRY: &[(&str, Ctor)] = &[
    ("arp", |p, _| Box::new(arp::Arp::new(p))),
    ("conntrack", |p, _| Box::new(conntrack::Conntrack::new(p))),
    ("cpu", |p, _| Box::new(cpu::Cpu::new(p))),
    ("diskstats", |p, s| {
        Box::new(diskstats::DiskStats::new(p, s))
    }),
    ("entropy", |p, _| Box::new(entropy::Entropy::new(p))),
    ("filefd", |p, _| Box::new(filefd::FileFd::new(p))),
    ("filesystem", |p, s| {
        Box::new(filesystem::Filesystem::new(p, s))
    }),
    ("loadavg", |p, _| Box::new(loadavg::LoadAvg::new(p))),
    ("meminfo", |p, _| Box::new(meminfo::MemInfo::new(p))),
    ("netclass", |p, s| Box::new(netclass::NetClass::new(p, s))),
    ("netdev", |p, s| Box::new(netdev::NetDev::new(p, s))),
    ("netstat", |p, s| Box::new(netstat::NetStat::new(p, s))),
    ("os", |p, _| Box::new(os::Os::new(p))),
    ("pressure", |p, _| Box::new(pressure::Pressure::new(p))),
    ("selinux", |_, _| {
        Box::new(selinux::Selinux::new(selinux::SelinuxPaths::default()))
    }),
    ("sockstat", |p, _| Box::new(sockstat::SockStat::new(p))),
    ("softnet", |p, _| {
        Box::new(softnet::SoftnetCollector::new(p))
    }),
    ("stat", |p, _| Box::new(stat::Stat::new(p))),
    ("textfile", |_, s| {
        let dir = s.textfile_directory.clone();
        Box::new(textfile::TextFile::new(dir, s.textfile_max_file_bytes))
    }),
    ("time", |p, _| Box::new(time::Time::new(p))),
    ("timex", |_, _| Box::new(timex::TimexCollector)),
    ("udp_queues", |p, _| Box::new(udp_queues::UdpQueues::new(p))),
    ("uname", |_, _| Box::new(uname::Uname)),
    ("vmstat", |p, s| Box::new(vmstat::VmStat::new(p, s))),
];

/// The names of all node collectors (for `--collectors.disable`).
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|(n, _)| *n)
}

/// Builds every collector that is not disabled.
pub fn build(paths: &HostPaths, settings: &CollectorSettings) -> Vec<Box<dyn Collector>> {
    REGISTRY
        .iter()
        .filter(|(name, _)| !settings.disabled.contains(*name))
        .map(|(_, ctor)| ctor(paths, settings))
        .collect()
}

/// Where the host's pseudo-filesystems are mounted (`--path.procfs`, `--path.sysfs`,
/// `--path.rootfs`): `/host/proc` and friends inside a container, a temp dir in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub procfs: PathBuf,
    pub sysfs: PathBuf,
    pub rootfs: PathBuf,
}

impl Default for HostPaths {
    fn default() -> Self {
        HostPaths {
            procfs: PathBuf::from("/proc"),
            sysfs: PathBuf::from("/sys"),
            rootfs: PathBuf::from("/"),
        }
    }
}

impl HostPaths {
    /// A path below the procfs root, e.g. `proc("loadavg")`.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.procfs.join(rel)
    }

    /// A path below the sysfs root, e.g. `sys("class/net")`.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// A host path (absolute on the host) seen through the rootfs prefix.
    pub fn root(&self, host_path: &str) -> PathBuf {
        self.rootfs.join(host_path.trim_start_matches('/'))
    }
}

/// Why a collector could not produce its families.
#[derive(Debug, Error)]
pub enum CollectError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {path}: {msg}")]
    Parse { path: PathBuf, msg: String },
}

impl CollectError {
    pub fn parse(path: &Path, msg: impl Into<String>) -> Self {
        CollectError::Parse {
            path: path.to_owned(),
            msg: msg.into(),
        }
    }

    /// True when the file does not exist (the kernel lacks the feature): such a collector
    /// reports failure quietly, as node_exporter does, instead of logging every scrape.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CollectError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads a whole (small) pseudo-file to a string.
pub fn read_file(path: &Path) -> Result<String, CollectError> {
    pseudo_file::read_pseudo_file(path).map_err(|source| CollectError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads a file holding one unsigned integer (sysctls, sysfs counters), like
/// node_exporter's `readUintFromFile`: surrounding whitespace is ignored.
pub fn read_uint(path: &Path) -> Result<u64, CollectError> {
    let text = read_file(path)?;
    let text = text.trim();
    text.parse()
        .map_err(|_| CollectError::parse(path, format!("not an unsigned integer: {text:?}")))
}

/// A source of node metric families, read fresh on every scrape.
pub trait Collector: Send + Sync {
    /// The collector's name as node_exporter spells it (`cpu`, `meminfo`, ...).
    fn name(&self) -> &'static str;

    /// Appends this collector's families to `out`.
    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError>;
}

/// Runs every collector once, appending its families plus node_exporter's
/// `node_scrape_collector_duration_seconds` and `node_scrape_collector_success`.
/// A failing collector reports success 0; the rest of the scrape goes on.
pub fn collect_all(collectors: &[Box<dyn Collector>], out: &mut Vec<MetricFamily>) {
    let mut duration = MetricFamily::gauge(
        "node_scrape_collector_duration_seconds",
        "node_exporter: Duration of a collector scrape.",
    );
    let mut success = MetricFamily::gauge(
        "node_scrape_collector_success",
        "node_exporter: Whether a collector succeeded.",
    );
    for c in collectors {
        let start = Instant::now();
        let mut families = Vec::new();
        let ok = match c.collect(&mut families) {
            Ok(()) => {
                out.append(&mut families);
                true
            }
            Err(e) if e.is_not_found() => {
                tracing::debug!(collector = c.name(), error = %e, "Collector found nothing to read.");
                false
            }
            Err(e) => {
                tracing::warn!(collector = c.name(), error = %e, "Collector failed.");
                false
            }
        };
        let labels = [("collector", c.name())];
        duration.push(&labels, start.elapsed().as_secs_f64());
        success.push(&labels, if ok { 1.0 } else { 0.0 });
    }
    out.push(duration);
    out.push(success);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fails;
    impl Collector for Fails {
        fn name(&self) -> &'static str {
            "fails"
        }
        fn collect(&self, _: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
            Err(CollectError::parse(Path::new("/x"), "broken"))
        }
    }

    struct Works;
    impl Collector for Works {
        fn name(&self) -> &'static str {
            "works"
        }
        fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
            out.push(MetricFamily::gauge("node_works", "w").value(1.0));
            Ok(())
        }
    }

    #[test]
    fn a_failing_collector_does_not_fail_the_scrape() {
        let collectors: Vec<Box<dyn Collector>> = vec![Box::new(Fails), Box::new(Works)];
        let mut out = Vec::new();
        collect_all(&collectors, &mut out);
        let success = out
            .iter()
            .find(|f| f.name == "node_scrape_collector_success")
            .unwrap();
        let by_name: Vec<_> = success
            .samples
            .iter()
            .map(|s| (s.labels[0].1.as_str(), s.value))
            .collect();
        assert_eq!(by_name, [("fails", 0.0), ("works", 1.0)]);
        assert!(out.iter().any(|f| f.name == "node_works"));
    }

    #[test]
    fn host_paths_join_below_their_roots() {
        let p = HostPaths {
            procfs: "/host/proc".into(),
            sysfs: "/host/sys".into(),
            rootfs: "/host/root".into(),
        };
        assert_eq!(p.proc("1/net/dev"), PathBuf::from("/host/proc/1/net/dev"));
        assert_eq!(p.sys("class/net"), PathBuf::from("/host/sys/class/net"));
        assert_eq!(
            p.root("/etc/os-release"),
            PathBuf::from("/host/root/etc/os-release")
        );
    }
}
