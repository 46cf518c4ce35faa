//! arp: `node_arp_entries{device}` from `/proc/net/arp` of the host's network namespace
//! (see [`super::host_net`]). Mirrors node_exporter 1.5's arp collector
//! (collector/arp_linux.go, its own parser): a line whose first column is `IP` is the
//! header; any other line of at least 6 columns is one entry of the device in its last
//! column; a shorter line, blank ones included, is an error.

use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::collections::BTreeMap;

/// Counts ARP entries per device.
pub fn parse(contents: &str) -> Result<BTreeMap<&str, u32>, String> {
    const MIN_WIDTH: usize = 6;
    let mut entries = BTreeMap::new();
    for line in contents.lines() {
        let mut columns = line.split_ascii_whitespace();
        let first = columns.next();
        let (width, last) = columns.fold((1, first), |(n, _), c| (n + 1, Some(c)));
        match (first, last) {
            (Some(first), Some(device)) if width >= MIN_WIDTH => {
                if first != "IP" {
                    *entries.entry(device).or_insert(0) += 1;
                }
            }
            _ => return Err(format!("unexpected ARP table format: {line:?}")),
        }
    }
    Ok(entries)
}

pub struct Arp {
    file: HostNetFile,
}

impl Arp {
    pub fn new(paths: &HostPaths) -> Self {
        Arp {
            file: HostNetFile::new(paths, "arp"),
        }
    }
}

impl Collector for Arp {
    fn name(&self) -> &'static str {
        "arp"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (contents, path) = self.file.read()?;
        let entries = parse(&contents).map_err(|m| CollectError::parse(path, m))?;
        let mut family = MetricFamily::gauge("node_arp_entries", "ARP entries by device");
        for (device, count) in entries {
            family.push(&[("device", device)], f64::from(count));
        }
        out.push(family);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's /proc/net/arp.
    const REAL: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
";

    #[test]
    fn counts_entries_per_device() {
        assert_eq!(parse(REAL).unwrap(), BTreeMap::from([("eth0", 1)]));
        let many = format!(
            "{REAL}\
             10.0.0.7         0x1         0x0         00:00:00:00:00:00     *        eth0\n\
             fe80::1          0x1         0x2         aa:bb:cc:dd:ee:ff     *        br-1.100\n\
"
        );
        assert_eq!(
            parse(&many).unwrap(),
            BTreeMap::from([("br-1.100", 1), ("eth0", 2)])
        );
        assert_eq!(parse("").unwrap(), BTreeMap::new());
    }

    #[test]
    fn counts_the_last_column_of_wide_lines_and_skips_ip_lines() {
        let odd = "IP 1 2 3 4 x\n192.0.2.2 0x1 0x0 00:00:00:00:00:00 * extra eth0\n";
        assert_eq!(parse(odd).unwrap(), BTreeMap::from([("eth0", 1)]));
    }

    #[test]
    fn rejects_short_and_blank_lines_as_upstream_does() {
        assert!(parse("192.0.2.1 0x1 0x2 02:fc:00:00:00:05 *\n").is_err());
        assert!(parse(&format!("{REAL}\n")).is_err());
        assert!(parse(&format!("{REAL}   \n")).is_err());
    }

    #[test]
    fn collects_from_a_procfs_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("net/arp"), REAL).unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        Arp::new(&paths).collect(&mut out).unwrap();
        assert_eq!(out[0].name, "node_arp_entries");
        assert_eq!(out[0].samples[0].labels[0].1, "eth0");
        assert_eq!(out[0].samples[0].value, 1.0);
    }
}
