//! The `container_*` families as the kubelet's `/metrics/cadvisor` serves them (cAdvisor
//! metrics/prometheus.go): names, types and HELP texts byte for byte, the six labels
//! `container, id, image, name, namespace, pod` on every series (empty values printed),
//! extra labels (`cpu`, `device`, `interface`) in client_golang's sorted position, and
//! cAdvisor's emission rules (usage only when > 0, CFS series only with a quota, network
//! only on the pod's sandbox).

use super::labels::RowSets;
use super::netdev::IfaceStats;
use super::stats::{spec_memory_value, ContainerStats, Spec};
use crate::exposition::{LabelSet, MetricFamily, MetricType};
use std::sync::Arc;

/// The kubelet's label values of one cgroup's series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowLabels {
    pub container: String,
    pub id: String,
    pub image: String,
    pub name: String,
    pub namespace: String,
    pub pod: String,
}

/// One cgroup's series: labels, counters, spec, and (sandbox only) network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub labels: RowLabels,
    pub stats: ContainerStats,
    pub spec: Spec,
    pub net: Vec<IfaceStats>,
}

impl Row {
    fn cfs(&self) -> bool {
        self.spec.cpu.is_some_and(|c| c.quota_us != 0)
    }
}

type Value = fn(&Row) -> Option<f64>;

const NS: f64 = 1e9;
use MetricType::{Counter, Gauge};

/// Families with one series per row: name, HELP, type, value (`None`: no series).
#[rustfmt::skip]
const SIMPLE: &[(&str, &str, MetricType, Value)] = &[
    ("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", Counter, |r| Some(r.stats.cpu.as_ref()?.user_ns as f64 / NS)),
    ("container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", Counter, |r| Some(r.stats.cpu.as_ref()?.system_ns as f64 / NS)),
    ("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", Counter, |r| r.cfs().then_some(r.stats.cpu.as_ref()?.periods as f64)),
    ("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", Counter, |r| r.cfs().then_some(r.stats.cpu.as_ref()?.throttled_periods as f64)),
    ("container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", Counter, |r| r.cfs().then_some(r.stats.cpu.as_ref()?.throttled_ns as f64 / NS)),
    ("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", Gauge, |r| Some(r.stats.memory.as_ref()?.usage as f64)),
    ("container_memory_working_set_bytes", "Current working set in bytes.", Gauge, |r| Some(r.stats.memory.as_ref()?.working_set() as f64)),
    ("container_memory_rss", "Size of RSS in bytes.", Gauge, |r| Some(r.stats.memory.as_ref()?.rss as f64)),
    ("container_memory_cache", "Number of bytes of page cache memory.", Gauge, |r| Some(r.stats.memory.as_ref()?.cache as f64)),
    ("container_memory_mapped_file", "Size of memory mapped files in bytes.", Gauge, |r| Some(r.stats.memory.as_ref()?.mapped_file as f64)),
    ("container_memory_swap", "Container swap usage in bytes.", Gauge, |r| Some(r.stats.memory.as_ref()?.swap as f64)),
    ("container_memory_failcnt", "Number of memory usage hits limits", Counter, |r| Some(r.stats.memory.as_ref()?.failcnt as f64)),
    ("container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes", Gauge, |r| Some(r.stats.memory.as_ref()?.max_usage as f64)),
    ("container_oom_events_total", "Count of out of memory events observed for the container", Counter, |r| Some(r.stats.memory.as_ref()?.oom_kills as f64)),
    ("container_spec_cpu_period", "CPU period of the container.", Gauge, |r| Some(r.spec.cpu?.period_us as f64)),
    ("container_spec_cpu_quota", "CPU quota of the container.", Gauge, |r| r.cfs().then_some(r.spec.cpu?.quota_us as f64)),
    ("container_spec_cpu_shares", "CPU share of the container.", Gauge, |r| Some(r.spec.cpu?.shares as f64)),
    ("container_spec_memory_limit_bytes", "Memory limit for the container.", Gauge, |r| Some(spec_memory_value(r.spec.memory?.limit))),
    ("container_spec_memory_reservation_limit_bytes", "Memory reservation limit for the container.", Gauge, |r| Some(spec_memory_value(r.spec.memory?.reservation))),
    ("container_spec_memory_swap_limit_bytes", "Memory swap limit for the container.", Gauge, |r| Some(spec_memory_value(r.spec.memory?.swap_limit))),
    ("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", Gauge, |r| Some(r.spec.start_time? as f64)),
    ("container_processes", "Number of processes running inside the container.", Gauge, |r| Some(r.stats.procs.as_ref()?.len() as f64)),
    ("container_threads", "Number of threads running inside the container", Gauge, |r| Some(r.stats.threads? as f64)),
];

/// A family with one series per row and device (or interface): name, HELP, value.
type PerItem<T> = (&'static str, &'static str, fn(&T) -> u64);

#[rustfmt::skip]
const FS: &[PerItem<super::stats::DeviceIo>] = &[
    ("container_fs_reads_bytes_total", "Cumulative count of bytes read", |d| d.read_bytes),
    ("container_fs_writes_bytes_total", "Cumulative count of bytes written", |d| d.write_bytes),
    ("container_fs_reads_total", "Cumulative count of reads completed", |d| d.reads),
    ("container_fs_writes_total", "Cumulative count of writes completed", |d| d.writes),
];

#[rustfmt::skip]
const NET: &[PerItem<IfaceStats>] = &[
    ("container_network_receive_bytes_total", "Cumulative count of bytes received", |i| i.rx_bytes),
    ("container_network_receive_packets_total", "Cumulative count of packets received", |i| i.rx_packets),
    ("container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", |i| i.rx_errors),
    ("container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", |i| i.rx_dropped),
    ("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", |i| i.tx_bytes),
    ("container_network_transmit_packets_total", "Cumulative count of packets transmitted", |i| i.tx_packets),
    ("container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting", |i| i.tx_errors),
    ("container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", |i| i.tx_dropped),
];

/// Appends every family for `rows`, labelled with their `sets` (same order, see
/// [`super::labels`]); `now` (unix seconds) is `container_last_seen`.
pub fn emit(rows: &[Row], sets: &[RowSets], now: i64, out: &mut Vec<MetricFamily>) {
    let mut usage = MetricFamily::counter(
        "container_cpu_usage_seconds_total",
        "Cumulative cpu time consumed in seconds.",
    );
    for (r, l) in rows.iter().zip(sets) {
        match &r.stats.cpu {
            Some(c) if c.usage_ns > 0 => usage.push_shared(&l.cpu_total, c.usage_ns as f64 / NS),
            _ => {}
        }
    }
    out.push(usage);
    for (name, help, kind, value) in SIMPLE {
        let mut f = MetricFamily::new(*name, *help, *kind);
        f.samples.reserve(rows.len());
        for (r, l) in rows.iter().zip(sets) {
            if let Some(v) = value(r) {
                f.push_shared(&l.base, v);
            }
        }
        out.push(f);
    }
    let mut seen = MetricFamily::gauge(
        "container_last_seen",
        "Last time a container was seen by the exporter",
    );
    seen.samples.reserve(rows.len());
    for l in sets {
        seen.push_shared(&l.base, now as f64);
    }
    out.push(seen);
    emit_per(rows, sets, FS, |r| &r.stats.io, |l| &l.devices, out);
    emit_per(rows, sets, NET, |r| &r.net, |l| &l.interfaces, out);
}

/// Families with one series per row and device (or interface): `items` of a row and
/// their sets, in the same order.
fn emit_per<T>(
    rows: &[Row],
    sets: &[RowSets],
    families: &[PerItem<T>],
    items: impl Fn(&Row) -> &Vec<T>,
    item_sets: impl Fn(&RowSets) -> &Vec<Arc<LabelSet>>,
    out: &mut Vec<MetricFamily>,
) {
    for (name, help, value) in families {
        let mut f = MetricFamily::counter(*name, *help);
        for (r, l) in rows.iter().zip(sets) {
            for (item, set) in items(r).iter().zip(item_sets(l)) {
                f.push_shared(set, value(item) as f64);
            }
        }
        out.push(f);
    }
}
