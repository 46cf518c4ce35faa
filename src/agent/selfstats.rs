//! The agent's own figures on its `/metrics`: client_golang's `process_*` families (so
//! the usual "exporter resource use" dashboards work), build info, the last scrape's
//! duration, and what normalization had to drop.

use crate::exposition::{Dropped, MetricFamily};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Counters the agent keeps across scrapes.
#[derive(Debug, Default)]
pub struct SelfStats {
    duplicate_series: AtomicU64,
    type_conflicts: AtomicU64,
    scrapes: AtomicU64,
}

impl SelfStats {
    /// Adds what one scrape's normalization dropped.
    pub fn record_scrape(&self, dropped: Dropped) {
        self.scrapes.fetch_add(1, Ordering::Relaxed);
        self.duplicate_series
            .fetch_add(dropped.duplicate_series, Ordering::Relaxed);
        self.type_conflicts
            .fetch_add(dropped.type_conflicts, Ordering::Relaxed);
    }

    /// Appends the agent's own families.
    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.push(
            MetricFamily::gauge(
                "nodepulse_build_info",
                "A metric with a constant '1' value labeled by the nodepulse version.",
            )
            .with(&[("version", crate::VERSION)], 1.0),
        );
        let mut dropped = MetricFamily::counter(
            "nodepulse_scrape_series_dropped_total",
            "Series left out of /metrics because they would have broken the scrape, by reason.",
        );
        let dup = self.duplicate_series.load(Ordering::Relaxed) as f64;
        let conflict = self.type_conflicts.load(Ordering::Relaxed) as f64;
        dropped.push(&[("reason", "duplicate_series")], dup);
        dropped.push(&[("reason", "type_conflict")], conflict);
        out.push(dropped);
        out.push(
            MetricFamily::counter("nodepulse_scrapes_total", "Scrapes of /metrics served.")
                .value(self.scrapes.load(Ordering::Relaxed) as f64),
        );
        collect_process(out);
    }
}

/// `process_*` of the agent itself, read from the real `/proc/self` (not the host
/// procfs root), with client_golang's names and units.
fn collect_process(out: &mut Vec<MetricFamily>) {
    let Ok(me) = procfs::process::Process::myself() else {
        return;
    };
    if let Ok(stat) = me.stat() {
        push_stat(&stat, out);
    }
    if let Ok(n) = me.fd_count() {
        out.push(
            MetricFamily::gauge("process_open_fds", "Number of open file descriptors.")
                .value(n as f64),
        );
    }
    if let Ok(limits) = me.limits() {
        out.push(
            MetricFamily::gauge(
                "process_max_fds",
                "Maximum number of open file descriptors.",
            )
            .value(limit_value(limits.max_open_files.soft_limit)),
        );
        out.push(
            MetricFamily::gauge(
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
            )
            .value(limit_value(limits.max_address_space.soft_limit)),
        );
    }
}

/// CPU, memory and start time from `/proc/self/stat`.
fn push_stat(stat: &procfs::process::Stat, out: &mut Vec<MetricFamily>) {
    let ticks = procfs::ticks_per_second() as f64;
    out.push(
        MetricFamily::counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
        )
        .value((stat.utime + stat.stime) as f64 / ticks),
    );
    out.push(
        MetricFamily::gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
        )
        .value(stat.rss as f64 * procfs::page_size() as f64),
    );
    out.push(
        MetricFamily::gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
        )
        .value(stat.vsize as f64),
    );
    // The start time never changes: read the boot time (a /proc/stat parse) once.
    static START: OnceLock<Option<f64>> = OnceLock::new();
    let start = *START.get_or_init(|| {
        let boot = procfs::boot_time_secs().ok()?;
        Some(boot as f64 + stat.starttime as f64 / ticks)
    });
    if let Some(start) = start {
        out.push(
            MetricFamily::gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
            )
            .value(start),
        );
    }
}

/// client_golang reports an unlimited rlimit as RLIM_INFINITY (2^64 - 1).
fn limit_value(v: procfs::process::LimitValue) -> f64 {
    match v {
        procfs::process::LimitValue::Unlimited => u64::MAX as f64,
        procfs::process::LimitValue::Value(n) => n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_process_families_and_drop_counts() {
        let stats = SelfStats::default();
        stats.record_scrape(Dropped {
            duplicate_series: 2,
            type_conflicts: 1,
        });
        let mut out = Vec::new();
        stats.collect(&mut out);
        let names: Vec<_> = out.iter().map(|f| f.name.as_ref()).collect();
        for n in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
            "nodepulse_build_info",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        let rss = out
            .iter()
            .find(|f| f.name == "process_resident_memory_bytes")
            .unwrap();
        assert!(rss.samples[0].value > 0.0);
        let dropped = out
            .iter()
            .find(|f| f.name == "nodepulse_scrape_series_dropped_total")
            .unwrap();
        assert_eq!(dropped.samples[0].value, 2.0);
        assert_eq!(dropped.samples[1].value, 1.0);
    }
}
