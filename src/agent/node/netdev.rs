//! netdev: `node_network_{receive,transmit}_*_total{device}` from `/proc/net/dev` of the
//! host's network namespace (see [`super::host_net`]).
//!
//! Mirrors node_exporter 1.5's netdev collector (collector/netdev_{common,linux}.go) in
//! its default netlink mode with legacy names. Netlink's `legacy()` mapping sums the
//! detailed error counters exactly as the kernel does when it prints `/proc/net/dev`
//! (net/core/net-procfs.c), so the 16 columns here are the same numbers; the one
//! netlink counter the file lacks, `rx_nohandler`, comes from
//! `<sysfs>/class/net/<dev>/statistics/rx_nohandler` (the same `dev_get_stats` field).

use super::host_net::HostNetFile;
use super::sysfs_attr::AttrCache;
use super::{CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::MetricFamily;
use regex::Regex;
use std::path::PathBuf;
use std::sync::Mutex;

/// Family name and help of each `/proc/net/dev` column, in the file's order.
#[rustfmt::skip]
const COLUMNS: [(&str, &str); 16] = [
    ("node_network_receive_bytes_total", "Network device statistic receive_bytes."),
    ("node_network_receive_packets_total", "Network device statistic receive_packets."),
    ("node_network_receive_errs_total", "Network device statistic receive_errs."),
    ("node_network_receive_drop_total", "Network device statistic receive_drop."),
    ("node_network_receive_fifo_total", "Network device statistic receive_fifo."),
    ("node_network_receive_frame_total", "Network device statistic receive_frame."),
    ("node_network_receive_compressed_total", "Network device statistic receive_compressed."),
    ("node_network_receive_multicast_total", "Network device statistic receive_multicast."),
    ("node_network_transmit_bytes_total", "Network device statistic transmit_bytes."),
    ("node_network_transmit_packets_total", "Network device statistic transmit_packets."),
    ("node_network_transmit_errs_total", "Network device statistic transmit_errs."),
    ("node_network_transmit_drop_total", "Network device statistic transmit_drop."),
    ("node_network_transmit_fifo_total", "Network device statistic transmit_fifo."),
    ("node_network_transmit_colls_total", "Network device statistic transmit_colls."),
    ("node_network_transmit_carrier_total", "Network device statistic transmit_carrier."),
    ("node_network_transmit_compressed_total", "Network device statistic transmit_compressed."),
];

const NOHANDLER: (&str, &str) = (
    "node_network_receive_nohandler_total",
    "Network device statistic receive_nohandler.",
);

/// One device's line of `/proc/net/dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevStats<'a> {
    pub device: &'a str,
    pub values: [u64; 16],
}

/// Parses `/proc/net/dev`: two header lines, then `<dev>: <16 counters>` per device.
pub fn parse(contents: &str) -> Result<Vec<DevStats<'_>>, String> {
    let mut out = Vec::new();
    for line in contents.lines().skip(2) {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_line(line)?);
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<DevStats<'_>, String> {
    // The name ends at the last ':' (procfs does the same); names hold no ':' or spaces.
    let (name, rest) = line
        .rsplit_once(':')
        .ok_or_else(|| format!("no ':' after the device name: {line:?}"))?;
    let mut fields = rest.split_ascii_whitespace();
    let mut values = [0u64; 16];
    for slot in &mut values {
        let f = fields
            .next()
            .ok_or_else(|| format!("fewer than 16 counters: {line:?}"))?;
        *slot = f
            .parse()
            .map_err(|_| format!("counter is not a number: {f:?} in {line:?}"))?;
    }
    Ok(DevStats {
        device: name.trim(),
        values,
    })
}

pub struct NetDev {
    file: HostNetFile,
    class_net: PathBuf,
    exclude: Option<Regex>,
    nohandler: Mutex<AttrCache>,
}

impl NetDev {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        NetDev {
            file: HostNetFile::new(paths, "dev"),
            class_net: paths.sys("class/net"),
            exclude: settings.netdev_device_exclude.clone(),
            nohandler: Mutex::new(AttrCache::new(vec!["statistics/rx_nohandler"])),
        }
    }

    /// `rx_nohandler` of one device; `None` when sysfs does not have it (a kernel before
    /// 4.6, or a device of another namespace than the mounted sysfs): no sample then.
    fn nohandler(&self, cache: &mut AttrCache, device: &str) -> Option<u64> {
        if device.contains('/') {
            return None;
        }
        let mut value = None;
        let dir = self.class_net.join(device);
        let _ = cache.read(device, &dir, |_, bytes| {
            value = bytes
                .ok()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok());
            Ok::<(), ()>(())
        });
        value
    }
}

impl Collector for NetDev {
    fn name(&self) -> &'static str {
        "netdev"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (contents, path) = self.file.read()?;
        let mut devices = parse(&contents).map_err(|m| CollectError::parse(path, m))?;
        devices.retain(|d| {
            !self
                .exclude
                .as_ref()
                .is_some_and(|re| re.is_match(d.device))
        });
        devices.sort_by(|a, b| a.device.cmp(b.device));
        let mut families: Vec<MetricFamily> = COLUMNS
            .iter()
            .map(|(name, help)| MetricFamily::counter(*name, *help))
            .collect();
        let mut nohandler = MetricFamily::counter(NOHANDLER.0, NOHANDLER.1);
        let mut cache = self.nohandler.lock().unwrap_or_else(|e| e.into_inner());
        for dev in &devices {
            let labels = [("device", dev.device)];
            for (family, value) in families.iter_mut().zip(dev.values) {
                family.push(&labels, value as f64);
            }
            if let Some(v) = self.nohandler(&mut cache, dev.device) {
                nohandler.push(&labels, v as f64);
            }
        }
        cache.sweep();
        out.append(&mut families);
        out.push(nohandler);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's /proc/net/dev.
    const REAL: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  204006     216    0    0    0     0          0         0   204006     216    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  ifb1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 95784315    3400    0    0    0     0          0         0   193152    1768    0    0    0     0       0          0
";

    const HEADER: &str = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n";

    #[test]
    fn parses_a_real_sample() {
        let devs = parse(REAL).unwrap();
        let names: Vec<_> = devs.iter().map(|d| d.device).collect();
        assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
        assert_eq!(devs[3].values[0], 95784315);
        assert_eq!(devs[3].values[1], 3400);
        assert_eq!(devs[3].values[8], 193152);
        assert_eq!(devs[3].values[9], 1768);
    }

    #[test]
    fn handles_odd_names_glued_fields_and_big_counters() {
        let input = format!(
            "{HEADER}veth.1-a_b:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n\
             \u{e9}th0: 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n\n"
        );
        let devs = parse(&input).unwrap();
        assert_eq!(devs[0].device, "veth.1-a_b");
        assert_eq!(devs[0].values[15], 16);
        assert_eq!(devs[1].device, "\u{e9}th0");
        assert_eq!(devs[1].values[0], u64::MAX);
    }

    #[test]
    fn rejects_broken_lines() {
        for bad in [
            "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
            "eth0: 1 2 3",
            "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x",
            "eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
        ] {
            assert!(parse(&format!("{HEADER}{bad}\n")).is_err(), "{bad}");
        }
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse(HEADER).unwrap(), []);
    }

    fn collect(dir: &std::path::Path, settings: &CollectorSettings) -> Vec<MetricFamily> {
        let paths = HostPaths {
            procfs: dir.join("proc"),
            sysfs: dir.join("sys"),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        NetDev::new(&paths, settings).collect(&mut out).unwrap();
        out
    }

    fn value(out: &[MetricFamily], name: &str, device: &str) -> Option<f64> {
        let family = out.iter().find(|f| f.name == name)?;
        let sample = family.samples.iter().find(|s| s.labels[0].1 == device)?;
        Some(sample.value)
    }

    #[test]
    fn collects_host_namespace_counters_and_sysfs_nohandler() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc/1/net")).unwrap();
        std::fs::write(dir.path().join("proc/1/net/dev"), REAL).unwrap();
        let stats = dir.path().join("sys/class/net/eth0/statistics");
        std::fs::create_dir_all(&stats).unwrap();
        std::fs::write(stats.join("rx_nohandler"), "42\n").unwrap();

        let out = collect(dir.path(), &CollectorSettings::default());
        assert_eq!(out.len(), 17);
        assert!(out
            .iter()
            .all(|f| f.kind == crate::exposition::MetricType::Counter));
        let rx = "node_network_receive_bytes_total";
        assert_eq!(value(&out, rx, "eth0"), Some(95784315.0));
        assert_eq!(value(&out, rx, "lo"), Some(204006.0));
        assert_eq!(
            value(&out, "node_network_transmit_compressed_total", "ifb1"),
            Some(0.0)
        );
        let nohandler = "node_network_receive_nohandler_total";
        assert_eq!(value(&out, nohandler, "eth0"), Some(42.0));
        assert_eq!(value(&out, nohandler, "lo"), None);
        let devices: Vec<_> = out[0]
            .samples
            .iter()
            .map(|s| s.labels[0].1.as_str())
            .collect();
        assert_eq!(devices, ["eth0", "ifb0", "ifb1", "lo"]);
    }

    #[test]
    fn applies_the_device_exclude_filter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc/net")).unwrap();
        std::fs::write(dir.path().join("proc/net/dev"), REAL).unwrap();
        let settings = CollectorSettings {
            netdev_device_exclude: Some(Regex::new("^(lo|ifb.*)$").unwrap()),
            ..CollectorSettings::default()
        };
        let out = collect(dir.path(), &settings);
        assert_eq!(out[0].samples.len(), 1);
        assert_eq!(out[0].samples[0].labels[0].1, "eth0");
    }
}
