//! arp: `node_arp_entries{device}` from `/proc/net/arp` of the host's network namespace
//! (see [`super::host_net`]). Mirrors node_exporter 1.5's arp collector
//! (collector/arp_linux.go over procfs' arp.go): every 6-column line is one entry of the
//! device in its last column; the 9-word header and blank lines are skipped, and a line
//! of any other width is an error.

use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;
use std::collections::BTreeMap;

/// Counts ARP entries per device.
pub fn parse(contents: &str) -> Result<BTreeMap<&str, u32>, String> {
    const HEADER_WIDTH: usize = 9; // "IP address HW type Flags HW address Mask Device"
    const DATA_WIDTH: usize = 6;
    let mut entries = BTreeMap::new();
    for line in contents.lines() {
        let mut columns = [""; DATA_WIDTH];
        let mut width = 0;
        for word in line.split_ascii_whitespace() {
            if let Some(slot) = columns.get_mut(width) {
                *slot = word;
            }
            width += 1;
        }
        match width {
            0 | HEADER_WIDTH => continue,
            DATA_WIDTH => *entries.entry(columns[5]).or_insert(0) += 1,
            _ => return Err(format!("{width} columns, expected {DATA_WIDTH}: {line:?}")),
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
             \n"
        );
        assert_eq!(
            parse(&many).unwrap(),
            BTreeMap::from([("br-1.100", 1), ("eth0", 2)])
        );
        assert_eq!(parse("").unwrap(), BTreeMap::new());
    }

    #[test]
    fn rejects_lines_of_another_width() {
        assert!(parse("192.0.2.1 0x1 0x2 02:fc:00:00:00:05 *\n").is_err());
        assert!(parse("192.0.2.1 0x1 0x2 02:fc:00:00:00:05 * eth0 extra\n").is_err());
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
