//! Benches of the filesystem and diskstats parsers on node-sized inputs: a Kubernetes
//! node's mount table with 110 pods' volumes, a diskstats file with 32 devices and one
//! udev entry.

use criterion::{black_box, Criterion};
use nodepulse::agent::config::CollectorSettings;
use nodepulse::agent::node::{diskstats, filesystem, Collector, HostPaths};
use std::sync::Arc;

/// A systemd host's mounts plus three tmpfs/overlay mounts per pod, ~350 lines.
fn k8s_mountinfo() -> String {
    let mut s = String::from(
        "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n\
         25 24 259:1 / /boot/efi rw,relatime shared:2 - vfat /dev/nvme0n1p1 rw,fmask=0077\n\
         26 24 0:5 / /dev rw,nosuid,relatime shared:3 - devtmpfs udev rw,size=8155260k\n\
         27 24 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n\
         28 24 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n\
         29 24 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1637168k\n",
    );
    for pod in 0..110 {
        let uid = format!("0e1c{pod:04x}-44aa-4b3c-9d1e-5f6a7b8c9d0e");
        s += &format!("{} 24 0:{} / /var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~projected/kube-api-access-x{pod} rw,relatime shared:{} - tmpfs tmpfs rw,size=174080k\n", 100 + pod * 3, 60 + pod, 150 + pod);
        s += &format!("{} 29 0:{} / /run/containerd/io.containerd.runtime.v2.task/k8s.io/{uid}/rootfs rw,relatime shared:{} - overlay overlay rw,lowerdir=/var/lib/containerd/snap/1/fs,upperdir=/var/lib/containerd/snap/2/fs\n", 101 + pod * 3, 300 + pod, 400 + pod);
        s += &format!("{} 29 0:{} / /run/containerd/io.containerd.grpc.v1.cri/sandboxes/{uid}/shm rw,nosuid,nodev,noexec,relatime shared:{} - tmpfs shm rw,size=65536k\n", 102 + pod * 3, 500 + pod, 600 + pod);
    }
    s
}

fn diskstats_file() -> String {
    let mut s = String::new();
    for i in 0..8 {
        s += &format!("   7       {i} loop{i} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    }
    for (i, dev) in ["nvme0n1", "nvme0n1p1", "nvme0n1p2", "nvme1n1"]
        .iter()
        .enumerate()
    {
        s += &format!(" 259 {i} {dev} 42273 7054 4228218 27397 9363 24668 6675984 28113 0 9140 56106 4972 53 234464 553 924 41\n");
    }
    for i in 0..20 {
        s += &format!(" 252 {i} dm-{i} 1234 0 98765 432 5678 0 87654 321 0 999 753 0 0 0 0 0 0\n");
    }
    s
}

const UDEV: &str = "S:disk/by-id/wwn-0x5001b449ce83154a\nW:18\nI:1643451\nE:ID_ATA=1\n\
E:ID_ATA_ROTATION_RATE_RPM=0\nE:ID_ATA_SATA=1\nE:ID_ATA_WRITE_CACHE=1\nE:ID_ATA_WRITE_CACHE_ENABLED=1\n\
E:ID_BUS=ata\nE:ID_MODEL=SanDisk_SD5SG2256G1052E\nE:ID_REVISION=X2310000\n\
E:ID_SERIAL=SanDisk_SD5SG2256G1052E_132119402826\nE:ID_SERIAL_SHORT=132119402826\nE:ID_TYPE=disk\n\
E:ID_WWN=0x5001b449ce83154a\nE:ID_PATH=pci-0000:00:1f.2-ata-1\nE:ID_PATH_TAG=pci-0000_00_1f_2-ata-1\n\
E:DEVLINKS=/dev/disk/by-id/wwn-0x5001b449ce83154a /dev/disk/by-path/pci-0000:00:1f.2-ata-1\nG:systemd\n";

pub fn benches(c: &mut Criterion) {
    let mountinfo = k8s_mountinfo();
    c.bench_function("filesystem::parse_mountinfo 336 mounts", |b| {
        b.iter(|| filesystem::parse_mountinfo(black_box(&mountinfo)))
    });
    let disks = diskstats_file();
    c.bench_function("diskstats::parse 32 devices", |b| {
        b.iter(|| diskstats::parse(black_box(&disks)))
    });
    c.bench_function("diskstats::udev::parse", |b| {
        b.iter(|| diskstats::parse_udev(black_box(UDEV)))
    });
    collectors(c, &mountinfo, &disks);
}

/// Whole scrapes of both collectors on a temp procfs (statfs faked: it is the kernel's
/// cost, not ours), to see what the families, labels and the statfs worker hop cost. A
/// temp file is not pollable, so the mount table is re-read and re-parsed every time:
/// the cost of a scrape right after a mount change (on procfs the table is cached).
fn collectors(c: &mut Criterion, mountinfo: &str, disks: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("1")).unwrap();
    std::fs::write(dir.path().join("1/mountinfo"), mountinfo).unwrap();
    std::fs::write(dir.path().join("diskstats"), disks).unwrap();
    let paths = HostPaths {
        procfs: dir.path().to_owned(),
        rootfs: dir.path().join("no-root"),
        ..HostPaths::default()
    };
    let settings = CollectorSettings::default();
    let stat: filesystem::StatFn = Arc::new(|_| Ok(filesystem::FsUsage::default()));
    let fs = filesystem::Filesystem::with_statfs(&paths, &settings, stat);
    let mut out = Vec::new();
    c.bench_function("filesystem collect 336 mounts, fake statfs", |b| {
        b.iter(|| {
            out.clear();
            fs.collect(&mut out).unwrap()
        })
    });
    let disk = diskstats::DiskStats::new(&paths, &settings);
    c.bench_function("diskstats collect 32 devices", |b| {
        b.iter(|| {
            out.clear();
            disk.collect(&mut out).unwrap()
        })
    });
}
