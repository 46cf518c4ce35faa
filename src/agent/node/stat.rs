//! stat: `node_boot_time_seconds`, `node_context_switches_total`, `node_forks_total`,
//! `node_intr_total`, `node_procs_running`, `node_procs_blocked` from `<procfs>/stat`
//! (parsed by [`super::procstat`], shared with the cpu collector). Mirrors node_exporter
//! 1.5's stat collector (collector/stat_linux.go) with `--collector.stat.softirq` off,
//! its default.

use super::procstat::{self, ProcStat};
use super::{read_file, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

pub struct Stat {
    path: PathBuf,
}

impl Stat {
    pub fn new(paths: &HostPaths) -> Self {
        Stat {
            path: paths.proc("stat"),
        }
    }
}

impl Collector for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let stat = procstat::parse(&read_file(&self.path)?)
            .map_err(|m| CollectError::parse(&self.path, m))?;
        out.extend(families(&stat));
        Ok(())
    }
}

fn families(s: &ProcStat) -> [MetricFamily; 6] {
    let counter = MetricFamily::counter;
    let gauge = MetricFamily::gauge;
    [
        counter("node_intr_total", "Total number of interrupts serviced.")
            .value(s.intr_total as f64),
        counter(
            "node_context_switches_total",
            "Total number of context switches.",
        )
        .value(s.context_switches as f64),
        counter("node_forks_total", "Total number of forks.").value(s.forks as f64),
        gauge("node_boot_time_seconds", "Node boot time, in unixtime.").value(s.boot_time as f64),
        gauge(
            "node_procs_running",
            "Number of processes in runnable state.",
        )
        .value(s.procs_running as f64),
        gauge(
            "node_procs_blocked",
            "Number of processes blocked waiting for I/O to complete.",
        )
        .value(s.procs_blocked as f64),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_from_a_procfs_root() {
        let (_dir, paths) = crate::agent::node::testing::procfs_with(&[(
            "stat",
            include_str!("../../../tests/fixtures/proc/stat"),
        )]);
        let mut out = Vec::new();
        Stat::new(&paths).collect(&mut out).unwrap();
        let got = crate::agent::node::testing::summary(&out);
        assert_eq!(
            got,
            [
                ("node_intr_total", "counter", 378241.0),
                ("node_context_switches_total", "counter", 477505.0),
                ("node_forks_total", "counter", 14785.0),
                ("node_boot_time_seconds", "gauge", 1795450081.0),
                ("node_procs_running", "gauge", 1.0),
                ("node_procs_blocked", "gauge", 0.0),
            ]
        );
    }

    #[test]
    fn a_malformed_value_fails_the_collector() {
        let (_dir, paths) = crate::agent::node::testing::procfs_with(&[("stat", "ctxt lots\n")]);
        let err = Stat::new(&paths).collect(&mut Vec::new()).unwrap_err();
        assert!(matches!(err, CollectError::Parse { .. }), "{err}");
    }
}
