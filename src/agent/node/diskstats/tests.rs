//! Tests of the diskstats module: table tests on real samples and edge cases, and the collector on a temp root.
use super::udev::tests::{LVM_VOLUME, SATA_DISK};
use super::*;

/// This machine's diskstats (20 fields), an older kernel's SATA disk (14 fields), a
/// 4.18-5.4 device mapper volume (18 fields) and devices the default filter drops.
const DISKSTATS: &str = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 42273 7054 4228218 27397 9363 24668 6675984 28113 0 9140 56106 4972 53 234464 553 924 41
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       0 sda 28987 5911 2163548 1947012 11137 17181 699690 269512 2 182512 2216872
   8       1 sda1 46 0 4424 2028 0 0 0 0 0 1912 2028
 252       0 dm-0 100 0 800 10 200 0 1600 20 0 30 30 7 0 56 3
";

/// A host root with the diskstats above and udev entries for sda and dm-0.
fn host() -> (tempfile::TempDir, HostPaths) {
    let dir = tempfile::tempdir().unwrap();
    let proc = dir.path().join("proc");
    let udev = dir.path().join("root/run/udev/data");
    std::fs::create_dir_all(&proc).unwrap();
    std::fs::create_dir_all(&udev).unwrap();
    std::fs::write(proc.join("diskstats"), DISKSTATS).unwrap();
    std::fs::write(udev.join("b8:0"), SATA_DISK).unwrap();
    std::fs::write(udev.join("b252:0"), LVM_VOLUME).unwrap();
    let paths = HostPaths {
        procfs: proc,
        rootfs: dir.path().join("root"),
        ..HostPaths::default()
    };
    (dir, paths)
}

fn collect(paths: &HostPaths) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    DiskStats::new(paths, &CollectorSettings::default())
        .collect(&mut out)
        .unwrap();
    out
}

/// `family{device=...}` samples as (device, value).
fn by_device(out: &[MetricFamily], name: &str) -> Vec<(String, f64)> {
    let f = out.iter().find(|f| f.name == name).unwrap();
    f.samples
        .iter()
        .map(|s| (s.labels[0].1.clone(), s.value))
        .collect()
}

fn labels(out: &[MetricFamily], name: &str, device: &str) -> Vec<(String, String)> {
    let f = out.iter().find(|f| f.name == name).unwrap();
    let s = f.samples.iter().find(|s| s.labels[0].1 == device).unwrap();
    s.labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

#[test]
fn emits_node_exporter_units_for_every_field_format() {
    let (_dir, paths) = host();
    let out = collect(&paths);
    let devices: Vec<_> = by_device(&out, "node_disk_reads_completed_total")
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(devices, ["vda", "zram0", "sda", "dm-0"]);
    let value = |name: &str, dev: &str| {
        by_device(&out, name)
            .into_iter()
            .find(|(d, _)| d == dev)
            .map(|(_, v)| v)
    };
    assert_eq!(
        value("node_disk_read_bytes_total", "vda"),
        Some(4228218.0 * 512.0)
    );
    assert_eq!(
        value("node_disk_read_time_seconds_total", "vda"),
        Some(27397.0 * 0.001)
    );
    assert_eq!(
        value("node_disk_write_time_seconds_total", "vda"),
        Some(28113.0 * 0.001)
    );
    assert_eq!(value("node_disk_io_now", "sda"), Some(2.0));
    assert_eq!(
        value("node_disk_io_time_weighted_seconds_total", "sda"),
        Some(2216872.0 * 0.001)
    );
    assert_eq!(
        value("node_disk_discarded_sectors_total", "vda"),
        Some(234464.0)
    );
    assert_eq!(value("node_disk_flush_requests_total", "vda"), Some(924.0));
    assert_eq!(
        value("node_disk_flush_requests_time_seconds_total", "vda"),
        Some(41.0 * 0.001)
    );
    // 14 fields: no discard or flush series; 18 fields: discards but no flushes.
    assert_eq!(value("node_disk_discards_completed_total", "sda"), None);
    assert_eq!(
        value("node_disk_discard_time_seconds_total", "dm-0"),
        Some(3.0 * 0.001)
    );
    assert_eq!(value("node_disk_flush_requests_total", "dm-0"), None);
    let kind = |name: &str| out.iter().find(|f| f.name == name).unwrap().kind;
    assert_eq!(kind("node_disk_io_now"), MetricType::Gauge);
    assert_eq!(kind("node_disk_reads_completed_total"), MetricType::Counter);
}

#[test]
fn disk_info_has_udev_labels_or_empty_strings() {
    let (_dir, paths) = host();
    let out = collect(&paths);
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        labels(&out, "node_disk_info", "sda"),
        pairs(&[
            ("device", "sda"),
            ("major", "8"),
            ("minor", "0"),
            ("model", "SanDisk_SD5SG2256G1052E"),
            ("path", "pci-0000:00:1f.2-ata-1"),
            ("revision", "X2310000"),
            ("serial", "132119402826"),
            ("wwn", "0x5001b449ce83154a"),
        ])
    );
    let vda = labels(&out, "node_disk_info", "vda");
    assert_eq!(vda[1], ("major".into(), "254".into()));
    assert!(vda[3..].iter().all(|(_, v)| v.is_empty()), "{vda:?}");
}

#[test]
fn udev_families_for_ata_disks_filesystems_and_device_mapper() {
    let (_dir, paths) = host();
    let out = collect(&paths);
    assert_eq!(
        by_device(&out, "node_disk_ata_write_cache"),
        [("sda".into(), 1.0)]
    );
    assert_eq!(
        by_device(&out, "node_disk_ata_write_cache_enabled"),
        [("sda".into(), 1.0)]
    );
    assert_eq!(
        by_device(&out, "node_disk_ata_rotation_rate_rpm"),
        [("sda".into(), 0.0)]
    );
    let fs = labels(&out, "node_disk_filesystem_info", "dm-0");
    let names: Vec<_> = fs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["device", "type", "usage", "uuid", "version"]);
    assert_eq!(fs[1].1, "ext4");
    let dm = labels(&out, "node_disk_device_mapper_info", "dm-0");
    let got: Vec<_> = dm.iter().map(|(n, v)| format!("{n}={v}")).collect();
    assert_eq!(
        got,
        [
            "device=dm-0",
            "lv_layer=",
            "lv_name=root",
            "name=vg0-root",
            "uuid=LVM-zfR6VpZ7Aw4oOxOFVzKjr3U4IbdAcHdzHr9xMGykOaaUGIYvHXbOZ90TiOh39RYr",
            "vg_name=vg0",
        ]
    );
    let count = |name: &str| out.iter().find(|f| f.name == name).unwrap().samples.len();
    assert_eq!(count("node_disk_filesystem_info"), 1);
    assert_eq!(count("node_disk_device_mapper_info"), 1);
}

#[test]
fn a_bad_ata_value_is_skipped() {
    let (dir, paths) = host();
    let udev = dir.path().join("root/run/udev/data/b8:0");
    std::fs::write(
        udev,
        "E:ID_ATA=1\nE:ID_ATA_WRITE_CACHE=yes\nE:ID_ATA_ROTATION_RATE_RPM=7200\n",
    )
    .unwrap();
    let out = collect(&paths);
    assert!(by_device(&out, "node_disk_ata_write_cache").is_empty());
    assert!(by_device(&out, "node_disk_ata_write_cache_enabled").is_empty());
    assert_eq!(
        by_device(&out, "node_disk_ata_rotation_rate_rpm"),
        [("sda".into(), 7200.0)]
    );
}

#[test]
fn missing_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let paths = HostPaths {
        procfs: dir.path().to_owned(),
        ..HostPaths::default()
    };
    let c = DiskStats::new(&paths, &CollectorSettings::default());
    assert!(c.collect(&mut Vec::new()).unwrap_err().is_not_found());
    std::fs::write(
        dir.path().join("diskstats"),
        "8 0 sda 1 2 three 4 5 6 7 8 9 10 11\n",
    )
    .unwrap();
    let err = c.collect(&mut Vec::new()).unwrap_err();
    assert!(matches!(err, CollectError::Parse { .. }), "{err}");
}
