//! conntrack: `node_nf_conntrack_entries` and `_entries_limit` from
//! `<procfs>/sys/net/netfilter/nf_conntrack_{count,max}`, and `node_nf_conntrack_stat_*`
//! summed over the CPU lines of `net/stat/nf_conntrack`. Mirrors node_exporter 1.5's
//! conntrack collector (collector/conntrack_linux.go over procfs's net_conntrackstat.go).
//!
//! The stat file is read from the host's network namespace (see [`super::hostnet`]);
//! the two sysctls have no per-PID view, so they show the agent's namespace, as they do
//! in node_exporter (the host's with hostNetwork, the usual deployment).

use super::host_net::HostNetFile;
use super::{read_uint, CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::path::PathBuf;

/// The stat columns node_exporter exports: (column index, metric suffix, help). procfs
/// reads the file by position, not by its header (whose names changed in Linux 5.x).
const STATS: [(usize, &str, &str); 8] = [
    (2, "found", "Number of searched entries which were successful."),
    (4, "invalid", "Number of packets seen which can not be tracked."),
    (5, "ignore", "Number of packets seen which are already connected to a conntrack entry."),
    (8, "insert", "Number of entries inserted into the list."),
    (9, "insert_failed", "Number of entries for which list insertion was attempted but failed."),
    (10, "drop", "Number of packets dropped due to conntrack failure."),
    (11, "early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached."),
    (16, "search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes."),
];

/// Parses `net/stat/nf_conntrack` (a header, then one line of 16 or 17 hex columns per
/// CPU) into the [`STATS`] columns summed over CPUs. Linux < 2.6.35 has no 17th column
/// (search_restart): it reads as 0.
pub fn parse_stat(contents: &str) -> Result<[u64; 8], String> {
    let mut sums = [0u64; 8];
    for line in contents.lines().skip(1) {
        let mut columns = [0u64; 17];
        let mut n = 0;
        for field in line.split_whitespace() {
            let v = u64::from_str_radix(field, 16).map_err(|_| format!("not hex: {field:?}"))?;
            *columns.get_mut(n).ok_or("more than 17 columns")? = v;
            n += 1;
        }
        if n < 16 {
            return Err(format!("{n} columns, expected 16 or 17"));
        }
        for (sum, (col, _, _)) in sums.iter_mut().zip(STATS) {
            *sum = sum.wrapping_add(columns[col]);
        }
    }
    Ok(sums)
}

pub struct Conntrack {
    count: PathBuf,
    max: PathBuf,
    stat: HostNetFile,
}

impl Conntrack {
    pub fn new(paths: &HostPaths) -> Self {
        Conntrack {
            count: paths.proc("sys/net/netfilter/nf_conntrack_count"),
            max: paths.proc("sys/net/netfilter/nf_conntrack_max"),
            stat: HostNetFile::new(paths, "stat/nf_conntrack"),
        }
    }
}

impl Collector for Conntrack {
    fn name(&self) -> &'static str {
        "conntrack"
    }

    /// Without the nf_conntrack module the files are missing: a quiet NotFound.
    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let count = read_uint(&self.count)?;
        let max = read_uint(&self.max)?;
        let (text, path) = self.stat.read()?;
        let sums = parse_stat(&text).map_err(|m| CollectError::parse(path, m))?;
        out.push(
            MetricFamily::gauge(
                "node_nf_conntrack_entries",
                "Number of currently allocated flow entries for connection tracking.",
            )
            .value(count as f64),
        );
        out.push(
            MetricFamily::gauge(
                "node_nf_conntrack_entries_limit",
                "Maximum size of connection tracking table.",
            )
            .value(max as f64),
        );
        for ((_, name, help), sum) in STATS.iter().zip(sums) {
            let family = MetricFamily::gauge(format!("node_nf_conntrack_stat_{name}"), *help);
            out.push(family.value(sum as f64));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/proc/net/stat/nf_conntrack");

    /// Linux 6.x header and two CPUs; the columns of interest are non-zero.
    const TWO_CPUS: &str = "\
entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
00000010  00000000 00000001 00000000 0000000a 00000002 00000000 00000000 00000003 00000004 00000005 00000006 00000000  00000000 00000000 00000000 000000ff
00000010  00000000 00000001 00000000 00000001 00000002 00000000 00000000 00000003 00000004 00000005 00000006 00000000  00000000 00000000 00000000 00000001
";

    #[test]
    fn sums_hex_columns_over_cpus() {
        assert_eq!(parse_stat(REAL).unwrap(), [0; 8]);
        assert_eq!(parse_stat(TWO_CPUS).unwrap(), [2, 11, 4, 6, 8, 10, 12, 256]);
        // Linux < 2.6.35: 16 columns, no search_restart.
        let old = "header\n1 0 1 0 1 1 0 0 1 1 1 1 0 0 0 0\n";
        assert_eq!(parse_stat(old).unwrap(), [1, 1, 1, 1, 1, 1, 1, 0]);
    }

    #[test]
    fn broken_stat_files() {
        assert!(parse_stat("h\n1 2 3\n").is_err());
        assert!(parse_stat("h\nzz 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n").is_err());
        assert!(parse_stat(&format!("h\n{}\n", "0 ".repeat(18))).is_err());
        assert_eq!(parse_stat("").unwrap(), [0; 8]);
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sys/net/netfilter")).unwrap();
        std::fs::create_dir_all(root.join("net/stat")).unwrap();
        std::fs::write(root.join("sys/net/netfilter/nf_conntrack_count"), "12\n").unwrap();
        std::fs::write(root.join("sys/net/netfilter/nf_conntrack_max"), "262144\n").unwrap();
        std::fs::write(root.join("net/stat/nf_conntrack"), TWO_CPUS).unwrap();
        let paths = HostPaths {
            procfs: root.to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Conntrack::new(&paths).collect(&mut out).unwrap();
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.name.as_ref(), f.samples[0].value))
            .collect();
        assert_eq!(got[0], ("node_nf_conntrack_entries", 12.0));
        assert_eq!(got[1], ("node_nf_conntrack_entries_limit", 262144.0));
        assert_eq!(got[4], ("node_nf_conntrack_stat_ignore", 4.0));
        assert_eq!(got[9], ("node_nf_conntrack_stat_search_restart", 256.0));
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn without_the_module_it_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let err = Conntrack::new(&paths).collect(&mut Vec::new()).unwrap_err();
        assert!(err.is_not_found());
    }
}
