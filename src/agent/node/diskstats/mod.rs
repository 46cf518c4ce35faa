//! diskstats: node_exporter 1.5's `node_disk_*` families from `<procfs>/diskstats`, plus
//! `node_disk_info`, `node_disk_filesystem_info`, `node_disk_device_mapper_info` and
//! `node_disk_ata_*` from the udev database. Mirrors collector/diskstats_linux.go.
//!
//! node_exporter reads udev data from `--path.udev.data` (default `/run/udev/data`, not
//! below `--path.rootfs`); we read `/run/udev/data` below the rootfs, which is the same
//! path on a bare host and the host's database in a container that mounts `/` there.

mod parse;
mod udev;

pub use parse::{parse, DiskLine, MAX_STATS};
pub use udev::{parse as parse_udev, UdevInfo};

use super::{read_file, CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::{MetricFamily, MetricType};
use regex::Regex;
use std::path::PathBuf;

/// Sectors in /proc/diskstats are always 512 bytes, whatever the device's sector size.
const SECTOR: f64 = 512.0;
/// Times are in milliseconds.
const MS: f64 = 0.001;

/// The counter families, in the kernel's field order: name, help, type, unit factor.
#[rustfmt::skip]
const STATS: [(&str, &str, MetricType, f64); MAX_STATS] = [
    ("node_disk_reads_completed_total", "The total number of reads completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_reads_merged_total", "The total number of reads merged.", MetricType::Counter, 1.0),
    ("node_disk_read_bytes_total", "The total number of bytes read successfully.", MetricType::Counter, SECTOR),
    ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", MetricType::Counter, MS),
    ("node_disk_writes_completed_total", "The total number of writes completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_writes_merged_total", "The number of writes merged.", MetricType::Counter, 1.0),
    ("node_disk_written_bytes_total", "The total number of bytes written successfully.", MetricType::Counter, SECTOR),
    ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", MetricType::Counter, MS),
    ("node_disk_io_now", "The number of I/Os currently in progress.", MetricType::Gauge, 1.0),
    ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", MetricType::Counter, MS),
    ("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", MetricType::Counter, MS),
    ("node_disk_discards_completed_total", "The total number of discards completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_discards_merged_total", "The total number of discards merged.", MetricType::Counter, 1.0),
    // node_exporter reports discarded sectors as sectors, not bytes.
    ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", MetricType::Counter, 1.0),
    ("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", MetricType::Counter, MS),
    ("node_disk_flush_requests_total", "The total number of flush requests completed successfully", MetricType::Counter, 1.0),
    ("node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", MetricType::Counter, MS),
];

/// The ATA gauges, emitted for disks udev marks `ID_ATA`.
const ATA: [(&str, &str); 3] = [
    ("node_disk_ata_write_cache", "ATA disk has a write cache."),
    (
        "node_disk_ata_write_cache_enabled",
        "ATA disk has its write cache enabled.",
    ),
    (
        "node_disk_ata_rotation_rate_rpm",
        "ATA disk rotation rate in RPMs (0 for SSDs).",
    ),
];

pub struct DiskStats {
    path: PathBuf,
    udev_dir: PathBuf,
    exclude: Regex,
}

impl DiskStats {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        DiskStats {
            path: paths.proc("diskstats"),
            udev_dir: paths.root("/run/udev/data"),
            exclude: settings.diskstats_device_exclude.clone(),
        }
    }

    /// The device's udev entry, empty when there is none (no udev, as in most
    /// containers): node_exporter then reports empty labels.
    fn udev_entry(&self, d: &DiskLine<'_>) -> String {
        let path = self.udev_dir.join(format!("b{}:{}", d.major, d.minor));
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            tracing::trace!(path = %path.display(), error = %e, "No udev data for the device.");
            String::new()
        })
    }
}

/// Every family this collector emits, filled device by device.
struct Families {
    stats: [MetricFamily; MAX_STATS],
    info: MetricFamily,
    filesystem: MetricFamily,
    device_mapper: MetricFamily,
    ata: [MetricFamily; 3],
}

impl Families {
    fn new() -> Self {
        Families {
            stats: STATS.map(|(name, help, kind, _)| MetricFamily::new(name, help, kind)),
            info: MetricFamily::gauge("node_disk_info", "Info of /sys/block/<block_device>."),
            filesystem: MetricFamily::gauge(
                "node_disk_filesystem_info",
                "Info about disk filesystem.",
            ),
            device_mapper: MetricFamily::gauge(
                "node_disk_device_mapper_info",
                "Info about disk device mapper.",
            ),
            ata: ATA.map(|(name, help)| MetricFamily::gauge(name, help)),
        }
    }

    fn add(&mut self, d: &DiskLine<'_>, u: &UdevInfo<'_>) {
        let dev = d.device;
        let s = |v: Option<&str>| v.unwrap_or("").to_owned();
        let (major, minor) = (d.major.to_string(), d.minor.to_string());
        self.info.push(
            &[
                ("device", dev),
                ("major", &major),
                ("minor", &minor),
                ("model", &s(u.model)),
                ("path", &s(u.path)),
                ("revision", &s(u.revision)),
                ("serial", &s(u.serial_short)),
                ("wwn", &s(u.wwn)),
            ],
            1.0,
        );
        for ((family, (.., factor)), v) in self.stats.iter_mut().zip(STATS).zip(d.present()) {
            family.push(&[("device", dev)], *v as f64 * factor);
        }
        self.add_udev_families(dev, u);
    }

    /// node_exporter adds these only when udev knows the device's filesystem, device
    /// mapper name or ATA-ness.
    fn add_udev_families(&mut self, dev: &str, u: &UdevInfo<'_>) {
        let s = |v: Option<&str>| v.unwrap_or("").to_owned();
        if let Some(fs_type) = u.fs_type.filter(|t| !t.is_empty()) {
            let labels = [
                ("device", dev),
                ("type", fs_type),
                ("usage", &s(u.fs_usage)),
                ("uuid", &s(u.fs_uuid)),
                ("version", &s(u.fs_version)),
            ];
            self.filesystem.push(&labels, 1.0);
        }
        if let Some(name) = u.dm_name.filter(|n| !n.is_empty()) {
            let labels = [
                ("device", dev),
                ("lv_layer", &s(u.dm_lv_layer)),
                ("lv_name", &s(u.dm_lv_name)),
                ("name", name),
                ("uuid", &s(u.dm_uuid)),
                ("vg_name", &s(u.dm_vg_name)),
            ];
            self.device_mapper.push(&labels, 1.0);
        }
        if u.ata.is_some_and(|a| !a.is_empty()) {
            let values = [
                u.ata_write_cache,
                u.ata_write_cache_enabled,
                u.ata_rotation_rate_rpm,
            ];
            for (family, value) in self.ata.iter_mut().zip(values) {
                match value.map(str::parse::<f64>) {
                    Some(Ok(v)) => family.push(&[("device", dev)], v),
                    Some(Err(_)) => {
                        tracing::debug!(device = dev, family = %family.name, "ATA value from udev is not a number.");
                    }
                    None => {}
                }
            }
        }
    }

    fn into_vec(self, out: &mut Vec<MetricFamily>) {
        out.extend(self.stats);
        out.extend([self.info, self.filesystem, self.device_mapper]);
        out.extend(self.ata);
    }
}

impl Collector for DiskStats {
    fn name(&self) -> &'static str {
        "diskstats"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let text = read_file(&self.path)?;
        let lines = parse(&text).map_err(|m| CollectError::parse(&self.path, m))?;
        let mut families = Families::new();
        // One stat instead of a failed open per device on hosts without udev.
        let has_udev = self.udev_dir.is_dir();
        for d in lines.iter().filter(|d| !self.exclude.is_match(d.device)) {
            let entry = if has_udev {
                self.udev_entry(d)
            } else {
                String::new()
            };
            families.add(d, &udev::parse(&entry));
        }
        families.into_vec(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
