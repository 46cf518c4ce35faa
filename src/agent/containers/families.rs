//! The `container_*` families as the kubelet's `/metrics/cadvisor` serves them (cAdvisor
//! metrics/prometheus.go): names, types and HELP texts byte for byte, the six labels
//! `container, id, image, name, namespace, pod` on every series (empty values printed),
//! extra labels (`cpu`, `device`, `interface`) in client_golang's sorted position, and
//! cAdvisor's emission rules (usage only when > 0, CFS series only with a quota, network
//! only on the pod's sandbox).

use super::netdev::IfaceStats;
use super::stats::{spec_memory_value, ContainerStats, Spec};
use crate::exposition::{Label, MetricFamily, MetricType};
use std::borrow::Cow;

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
    /// The six labels, sorted, with `extra` (if any) in its sorted place.
    fn labels(&self, extra: Option<(&'static str, &str)>) -> Vec<Label> {
        let l = &self.labels;
        let mut out: Vec<Label> = Vec::with_capacity(7);
        let mut push = |n: &'static str, v: &str| out.push((Cow::Borrowed(n), v.to_owned()));
        push("container", &l.container);
        if let Some((n @ ("cpu" | "device"), v)) = extra {
            push(n, v);
        }
        push("id", &l.id);
        push("image", &l.image);
        if let Some((n @ "interface", v)) = extra {
            push(n, v);
        }
        push("name", &l.name);
        push("namespace", &l.namespace);
        push("pod", &l.pod);
        out
    }

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

type IoValue = fn(&super::stats::DeviceIo) -> u64;

#[rustfmt::skip]
const FS: &[(&str, &str, IoValue)] = &[
    ("container_fs_reads_bytes_total", "Cumulative count of bytes read", |d| d.read_bytes),
    ("container_fs_writes_bytes_total", "Cumulative count of bytes written", |d| d.write_bytes),
    ("container_fs_reads_total", "Cumulative count of reads completed", |d| d.reads),
    ("container_fs_writes_total", "Cumulative count of writes completed", |d| d.writes),
];

type NetValue = fn(&IfaceStats) -> u64;

#[rustfmt::skip]
const NET: &[(&str, &str, NetValue)] = &[
    ("container_network_receive_bytes_total", "Cumulative count of bytes received", |i| i.rx_bytes),
    ("container_network_receive_packets_total", "Cumulative count of packets received", |i| i.rx_packets),
    ("container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", |i| i.rx_errors),
    ("container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", |i| i.rx_dropped),
    ("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", |i| i.tx_bytes),
    ("container_network_transmit_packets_total", "Cumulative count of packets transmitted", |i| i.tx_packets),
    ("container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting", |i| i.tx_errors),
    ("container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", |i| i.tx_dropped),
];

/// Appends every family for `rows`; `now` (unix seconds) is `container_last_seen`, and
/// `device` names a block device by major:minor (`/dev/vda`, "" when unknown).
pub fn emit(
    rows: &[Row],
    now: i64,
    device: &dyn Fn(u32, u32) -> String,
    out: &mut Vec<MetricFamily>,
) {
    let mut usage = MetricFamily::counter(
        "container_cpu_usage_seconds_total",
        "Cumulative cpu time consumed in seconds.",
    );
    for r in rows {
        match &r.stats.cpu {
            Some(c) if c.usage_ns > 0 => {
                usage.push_labels(r.labels(Some(("cpu", "total"))), c.usage_ns as f64 / NS)
            }
            _ => {}
        }
    }
    out.push(usage);
    for (name, help, kind, value) in SIMPLE {
        let mut f = MetricFamily::new(*name, *help, *kind);
        f.samples.reserve(rows.len());
        for r in rows {
            if let Some(v) = value(r) {
                f.push_labels(r.labels(None), v);
            }
        }
        out.push(f);
    }
    let mut seen = MetricFamily::gauge(
        "container_last_seen",
        "Last time a container was seen by the exporter",
    );
    for r in rows {
        seen.push_labels(r.labels(None), now as f64);
    }
    out.push(seen);
    emit_fs(rows, device, out);
    emit_net(rows, out);
}

fn emit_fs(rows: &[Row], device: &dyn Fn(u32, u32) -> String, out: &mut Vec<MetricFamily>) {
    let mut families: Vec<MetricFamily> = FS
        .iter()
        .map(|(n, h, _)| MetricFamily::counter(*n, *h))
        .collect();
    for r in rows {
        for d in &r.stats.io {
            let dev = device(d.major, d.minor);
            for (f, (_, _, value)) in families.iter_mut().zip(FS) {
                f.push_labels(r.labels(Some(("device", &dev))), value(d) as f64);
            }
        }
    }
    out.extend(families);
}

fn emit_net(rows: &[Row], out: &mut Vec<MetricFamily>) {
    let mut families: Vec<MetricFamily> = NET
        .iter()
        .map(|(n, h, _)| MetricFamily::counter(*n, *h))
        .collect();
    for r in rows {
        for i in &r.net {
            for (f, (_, _, value)) in families.iter_mut().zip(NET) {
                f.push_labels(r.labels(Some(("interface", &i.name))), value(i) as f64);
            }
        }
    }
    out.extend(families);
}
