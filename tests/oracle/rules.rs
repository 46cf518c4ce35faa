//! The oracle's policy: which families are left out, which must be present, which are
//! constants, and the few gauges that legitimately move between two scrapes.
//!
//! Every other family is checked with the scrape bracket: node_exporter is scraped
//! before (A) and after (C) the agent (B), so a counter must satisfy A ≤ B ≤ C and a
//! gauge min(A,C) ≤ B ≤ max(A,C). The bracket already covers values that only step or
//! only grow, so these need no entry: node_load* (the kernel recomputes them every 5 s),
//! node_time_seconds (grows), node_pressure_* (counters), node_timex_* (the kernel and
//! the NTP daemon step them at most once a second), every *_total counter.

/// Families that are about the exporter process, not the node.
pub fn ignored(family: &str) -> bool {
    ["go_", "promhttp_", "process_", "nodepulse_"]
        .iter()
        .any(|p| family.starts_with(p))
        || family == "node_exporter_build_info"
}

/// Families that must be present in both scrapes and compared.
pub const REQUIRED: &[&str] = &[
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes",
    "node_load1",
    "node_boot_time_seconds",
    "node_context_switches_total",
    "node_forks_total",
    "node_intr_total",
    "node_procs_running",
    "node_filesystem_size_bytes",
    "node_disk_reads_completed_total",
    "node_network_receive_bytes_total",
    "node_network_up",
    "node_network_info",
    "node_netstat_Tcp_InSegs",
    "node_vmstat_pgfault",
    "node_sockstat_sockets_used",
    "node_filefd_allocated",
    "node_nf_conntrack_entries_limit",
    "node_pressure_cpu_waiting_seconds_total",
    "node_uname_info",
    "node_os_info",
    "node_time_seconds",
    "node_selinux_enabled",
    "node_textfile_scrape_error",
];

/// Constants of the running system: A, B and C must be equal.
const EXACT: &[&str] = &[
    "node_memory_MemTotal_bytes",
    "node_memory_SwapTotal_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_boot_time_seconds",
    "node_filefd_maximum",
    "node_nf_conntrack_entries_limit",
    "node_entropy_pool_size_bits",
];

const MIB: f64 = 1024.0 * 1024.0;

/// How a value is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// A == B == C.
    Exact,
    /// B inside the bracket widened by `abs + rel × max(|A|, |C|)`.
    Bracket { abs: f64, rel: f64 },
    /// Presence and labels only.
    Skip,
}

const fn slack(abs: f64, rel: f64) -> Check {
    Check::Bracket { abs, rel }
}

/// `(family or prefix*, check, why)`: the first match wins. Keep it small.
#[rustfmt::skip]
const TOLERANCES: &[(&str, Check, &str)] = &[
    ("node_scrape_collector_duration_seconds", Check::Skip,
     "each exporter's own timing"),
    ("node_scrape_collector_success", Check::Skip,
     "checked on its own: 1 wherever node_exporter reports 1"),
    ("node_cpu_seconds_total", slack(0.05, 0.0),
     "iowait (and idle on tickless CPUs) can step back a few ticks (kernel proc.rst)"),
    ("node_memory_*", slack(64.0 * MIB, 0.05),
     "every allocation on the host moves free/used pages, the scrapers' own included; \
      still far below a unit error (kB vs bytes is ×1024)"),
    ("node_procs_*", slack(32.0, 0.0),
     "run queue at the instant of reading; the scrapers' own threads are on it"),
    ("node_sockstat_*_mem_bytes", slack(MIB, 0.0),
     "socket buffer pages, moved by the scrapes' own connections"),
    ("node_sockstat_*", slack(64.0, 0.0),
     "socket counts; every scrape opens and closes a TCP connection"),
    ("node_netstat_Tcp_CurrEstab", slack(64.0, 0.0),
     "established connections, the scrapes' own included"),
    ("node_nf_conntrack_entries", slack(64.0, 0.0),
     "tracked connections; every scrape is a new loopback connection"),
    ("node_filefd_allocated", slack(1024.0, 0.0),
     "open files of every process on the host"),
    ("node_disk_io_now", slack(64.0, 0.0),
     "I/Os in flight at the instant of reading"),
    ("node_filesystem_avail_bytes", slack(256.0 * MIB, 0.0),
     "other processes write and delete files between reads"),
    ("node_filesystem_free_bytes", slack(256.0 * MIB, 0.0),
     "as avail_bytes"),
    ("node_filesystem_files_free", slack(16384.0, 0.0),
     "other processes create and delete files between reads"),
    ("node_udp_queues", slack(MIB, 0.0),
     "bytes queued in UDP sockets at the instant of reading"),
];

/// The check for one family. `counter` families without an entry get the bracket.
pub fn check_for(family: &str) -> Check {
    if EXACT.contains(&family) {
        return Check::Exact;
    }
    TOLERANCES
        .iter()
        .find(|(pattern, _, _)| matches(pattern, family))
        .map_or(slack(0.0, 0.0), |(_, check, _)| *check)
}

/// `pattern` is a family name, or contains one `*` standing for any text.
fn matches(pattern: &str, family: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == family,
        Some((head, tail)) => {
            family.len() >= head.len() + tail.len()
                && family.starts_with(head)
                && family.ends_with(tail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_entry_wins_and_constants_are_exact() {
        assert_eq!(check_for("node_memory_MemTotal_bytes"), Check::Exact);
        assert_eq!(
            check_for("node_memory_MemFree_bytes"),
            slack(64.0 * MIB, 0.05)
        );
        assert_eq!(check_for("node_sockstat_TCP_mem_bytes"), slack(MIB, 0.0));
        assert_eq!(check_for("node_sockstat_TCP_mem"), slack(64.0, 0.0));
        assert_eq!(check_for("node_load1"), slack(0.0, 0.0));
        assert!(!matches("node_sockstat_*_mem_bytes", "node_sockstat_bytes"));
    }
}
