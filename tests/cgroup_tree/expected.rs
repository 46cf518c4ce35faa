//! The hand-computed expectations of [`Node`]: every container_* series of the small
//! node, by the key `name{labels}` with the labels in the kubelet's (sorted) order.

use super::node::{Labels, Node, FILE_MTIME};
use super::Version;

/// The key of a series with the six kubelet labels plus `extra`, sorted by name.
pub fn key(name: &str, l: &Labels, extra: Option<(&str, &str)>) -> String {
    let mut pairs = vec![
        ("container", l.container.as_str()),
        ("id", l.id.as_str()),
        ("image", ""),
        ("name", l.name.as_str()),
        ("namespace", l.namespace.as_str()),
        ("pod", l.pod.as_str()),
    ];
    pairs.extend(extra);
    pairs.sort();
    let labels: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

impl Node {
    /// (series key, expected value; `None`: no such series), computed by hand.
    pub fn expected(&self) -> Vec<(String, Option<f64>)> {
        let v2 = self.version == Version::V2;
        let k = |n: &str, l: &Labels| key(n, l, None);
        let (a, p, s, pod) = (&self.a_app, &self.a_proxy, &self.a_sandbox, &self.a_pod);
        let cpu = |l: &Labels| {
            key(
                "container_cpu_usage_seconds_total",
                l,
                Some(("cpu", "total")),
            )
        };
        let dev = |n: &str| key(n, a, Some(("device", "/dev/vda")));
        let net = |n: &str, l: &Labels| key(n, l, Some(("interface", "eth0")));
        vec![
            // app: 2553407 µs; user 161 ticks = 1.61 s; system 0.94 s; CFS from cpu.stat.
            (cpu(a), Some(2.553407)),
            (k("container_cpu_user_seconds_total", a), Some(1.61)),
            (k("container_cpu_system_seconds_total", a), Some(0.94)),
            (k("container_cpu_cfs_periods_total", a), Some(1452.0)),
            (
                k("container_cpu_cfs_throttled_periods_total", a),
                Some(12.0),
            ),
            (
                k("container_cpu_cfs_throttled_seconds_total", a),
                Some(0.345678),
            ),
            (k("container_memory_usage_bytes", a), Some(30_000_000.0)),
            // 30,000,000 − 12,288,000 inactive_file
            (
                k("container_memory_working_set_bytes", a),
                Some(17_712_000.0),
            ),
            (k("container_memory_rss", a), Some(9_043_968.0)),
            (k("container_memory_cache", a), Some(20_480_000.0)),
            (k("container_memory_mapped_file", a), Some(6_209_536.0)),
            (k("container_memory_swap", a), Some(4096.0)),
            (k("container_memory_failcnt", a), Some(7.0)),
            (k("container_memory_max_usage_bytes", a), Some(41_943_040.0)),
            (k("container_oom_events_total", a), Some(1.0)),
            (k("container_spec_cpu_period", a), Some(100_000.0)),
            (k("container_spec_cpu_quota", a), Some(50_000.0)),
            // v2 weight 10 → 2 + 9·262142/9999 = 237; v1 shares as written.
            (
                k("container_spec_cpu_shares", a),
                Some(if v2 { 237.0 } else { 256.0 }),
            ),
            (
                k("container_spec_memory_limit_bytes", a),
                Some(536_870_912.0),
            ),
            (k("container_spec_memory_swap_limit_bytes", a), Some(0.0)),
            (
                k("container_spec_memory_reservation_limit_bytes", a),
                Some(0.0),
            ),
            (
                k("container_start_time_seconds", a),
                Some(FILE_MTIME as f64),
            ),
            (k("container_processes", a), Some(2.0)),
            (k("container_threads", a), Some(9.0)),
            (dev("container_fs_reads_bytes_total"), Some(1_097_728.0)),
            (dev("container_fs_writes_bytes_total"), Some(4096.0)),
            (dev("container_fs_reads_total"), Some(41.0)),
            (dev("container_fs_writes_total"), Some(1.0)),
            (net("container_network_receive_bytes_total", a), None),
            // proxy: no CPU used → no usage series; no quota → no CFS; unlimited → 0.
            (cpu(p), None),
            (k("container_cpu_user_seconds_total", p), Some(0.0)),
            (k("container_cpu_cfs_periods_total", p), None),
            (k("container_spec_cpu_quota", p), None),
            (k("container_memory_working_set_bytes", p), Some(0.0)),
            (k("container_spec_memory_limit_bytes", p), Some(0.0)),
            (k("container_spec_cpu_shares", p), Some(2.0)),
            (
                key(
                    "container_fs_reads_bytes_total",
                    p,
                    Some(("device", "/dev/vda")),
                ),
                None,
            ),
            // sandbox: the pod's network, from /proc/4200/net/dev (lo skipped).
            (cpu(s), Some(0.03)),
            (
                net("container_network_receive_bytes_total", s),
                Some(180_507_737.0),
            ),
            (
                net("container_network_receive_packets_total", s),
                Some(8858.0),
            ),
            (net("container_network_receive_errors_total", s), Some(3.0)),
            (
                net("container_network_receive_packets_dropped_total", s),
                Some(4.0),
            ),
            (
                net("container_network_transmit_bytes_total", s),
                Some(632_052.0),
            ),
            (
                net("container_network_transmit_packets_total", s),
                Some(6737.0),
            ),
            (net("container_network_transmit_errors_total", s), Some(5.0)),
            (
                net("container_network_transmit_packets_dropped_total", s),
                Some(6.0),
            ),
            (
                net("container_network_receive_bytes_total", s).replace("eth0", "lo"),
                None,
            ),
            // pod: container="", its own cgroup's numbers; no processes of its own.
            (cpu(pod), Some(9.0)),
            (
                k("container_memory_working_set_bytes", pod),
                Some(70_000_000.0),
            ),
            // v2 weight 4 → 2 + 3·262142/9999 = 80.
            (
                k("container_spec_cpu_shares", pod),
                Some(if v2 { 80.0 } else { 82.0 }),
            ),
            (k("container_processes", pod), Some(0.0)),
            (k("container_threads", pod), Some(13.0)),
            (net("container_network_receive_bytes_total", pod), None),
            // pod B: unnamed; the sandbox is the container running `pause`.
            (
                k("container_memory_usage_bytes", &self.b_pod),
                Some(80_000_000.0),
            ),
            (
                k("container_memory_usage_bytes", &self.b_app),
                Some(30_000_000.0),
            ),
            (
                net("container_network_receive_bytes_total", &self.b_sandbox),
                Some(1000.0),
            ),
            (
                net("container_network_receive_bytes_total", &self.b_app),
                None,
            ),
        ]
    }
}
