//! Tests of the filesystem module: table tests on real samples and edge cases, and the collector on a temp root.
use super::*;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A temp procfs holding one file (e.g. pid 1's `mountinfo`); rootfs `/`.
fn procfs_with(file: &str, contents: &str) -> (tempfile::TempDir, HostPaths) {
    crate::agent::node::testing::procfs_with(&[(file, contents)])
}

/// A statfs with 1000 blocks of 4 KiB, 100 free, 50 available, on every path.
fn fake_stat() -> StatFn {
    Arc::new(|_: &Path| {
        Ok(FsUsage {
            block_size: 4096,
            blocks: 1000,
            blocks_free: 100,
            blocks_avail: 50,
            files: 64,
            files_free: 32,
        })
    })
}

fn collect(fs: &Filesystem) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    fs.collect(&mut out).unwrap();
    out
}

/// Every (device, fstype, mountpoint) of a family, in emission order.
fn series(out: &[MetricFamily], family: &str) -> Vec<(String, String, String, f64)> {
    let f = out.iter().find(|f| f.name == family).unwrap();
    f.samples
        .iter()
        .map(|s| {
            let names: Vec<_> = s.labels.iter().map(|(n, _)| n.as_ref()).collect();
            assert_eq!(names, ["device", "fstype", "mountpoint"]);
            let v = |i: usize| s.labels[i].1.clone();
            (v(0), v(1), v(2), s.value)
        })
        .collect()
}

fn value(out: &[MetricFamily], family: &str, mountpoint: &str) -> Option<f64> {
    series(out, family)
        .into_iter()
        .find(|s| s.2 == mountpoint)
        .map(|s| s.3)
}

const NODE_MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
28 27 0:25 / /mnt/python ro,nosuid,nodev,relatime - tmpfs model_tools ro,size=4k
29 27 0:40 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw
30 27 0:41 / /srv/My\\040Files rw - xfs /dev/sdb rw
this line is broken
";

#[test]
fn collects_every_family_with_node_exporter_values() {
    let (_dir, paths) = procfs_with("1/mountinfo", NODE_MOUNTINFO);
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), fake_stat());
    let out = collect(&fs);
    let size = series(&out, "node_filesystem_size_bytes");
    let reported: Vec<_> = size.iter().map(|s| s.2.as_str()).collect();
    assert_eq!(reported, ["/", "/mnt/python", "/srv/My Files"]);
    assert_eq!(
        size[0],
        ("/dev/vda".into(), "ext4".into(), "/".into(), 4096000.0)
    );
    assert_eq!(
        value(&out, "node_filesystem_free_bytes", "/"),
        Some(409600.0)
    );
    assert_eq!(
        value(&out, "node_filesystem_avail_bytes", "/"),
        Some(204800.0)
    );
    assert_eq!(value(&out, "node_filesystem_files", "/"), Some(64.0));
    assert_eq!(value(&out, "node_filesystem_files_free", "/"), Some(32.0));
    assert_eq!(value(&out, "node_filesystem_readonly", "/"), Some(0.0));
    assert_eq!(
        value(&out, "node_filesystem_readonly", "/mnt/python"),
        Some(1.0)
    );
    assert_eq!(value(&out, "node_filesystem_device_error", "/"), Some(0.0));
    let own = |name: &str| out.iter().find(|f| f.name == name).unwrap().samples[0].value;
    assert_eq!(own("nodepulse_filesystem_mount_table_malformed_lines"), 1.0);
    assert_eq!(own("nodepulse_filesystem_stuck_mounts"), 0.0);
    for f in &out {
        assert_eq!(f.kind.text_name(), "gauge", "{}", f.name);
    }
}

#[test]
fn a_failing_statfs_reports_only_device_error() {
    let (_dir, paths) = procfs_with("1/mountinfo", NODE_MOUNTINFO);
    let stat: StatFn = Arc::new(|p: &Path| match p.to_str() {
        Some("/mnt/python") => Err(io::Error::from_raw_os_error(13)),
        _ => fake_stat()(p),
    });
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), stat);
    let out = collect(&fs);
    assert_eq!(
        value(&out, "node_filesystem_device_error", "/mnt/python"),
        Some(1.0)
    );
    assert_eq!(
        value(&out, "node_filesystem_size_bytes", "/mnt/python"),
        None
    );
    assert_eq!(value(&out, "node_filesystem_readonly", "/mnt/python"), None);
    assert_eq!(
        value(&out, "node_filesystem_size_bytes", "/"),
        Some(4096000.0)
    );
}

#[test]
fn real_statfs_below_the_rootfs() {
    // The temp dir is the rootfs; `/missing` does not exist below it.
    let root = tempfile::tempdir().unwrap();
    let (_dir, mut paths) = procfs_with(
        "1/mountinfo",
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /missing rw - ext4 /dev/sda2 rw\n",
    );
    paths.rootfs = root.path().to_owned();
    let fs = Filesystem::new(&paths, &CollectorSettings::default());
    let out = collect(&fs);
    let want = rustix::fs::statfs(root.path()).unwrap();
    let size = want.f_blocks as f64 * want.f_bsize as f64;
    assert_eq!(value(&out, "node_filesystem_size_bytes", "/"), Some(size));
    assert_eq!(
        value(&out, "node_filesystem_device_error", "/missing"),
        Some(1.0)
    );
    assert_eq!(value(&out, "node_filesystem_size_bytes", "/missing"), None);
}

/// node_exporter #2805: bind mounts, a mount point listed twice and NFS re-mounts must
/// not produce duplicate series; the last mount at a path is the visible one.
#[test]
fn regression_2805_duplicate_mounts_give_one_series_each() {
    let mountinfo = "\
27 1 254:0 / / rw - ext4 /dev/vda rw
40 27 254:0 /srv/data /var/lib/data rw shared:1 - ext4 /dev/vda rw
41 27 254:0 /srv/data /var/lib/data rw shared:1 - ext4 /dev/vda rw
50 27 0:70 / /mnt/nfs rw shared:2 - nfs4 10.0.0.5:/export rw,vers=4.2
51 27 0:70 / /mnt/nfs ro shared:2 - nfs4 10.0.0.5:/export ro,vers=4.2
60 27 0:80 / /mnt/over rw - ext4 /dev/sdb rw
61 27 0:81 / /mnt/over rw - xfs /dev/sdc rw
";
    let (_dir, paths) = procfs_with("1/mountinfo", mountinfo);
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), fake_stat());
    let out = collect(&fs);
    for f in out.iter().filter(|f| f.name.starts_with("node_")) {
        let mut keys: Vec<_> = f.samples.iter().map(|s| s.labels.clone()).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate series in {}", f.name);
    }
    let errs = series(&out, "node_filesystem_device_error");
    let got: Vec<_> = errs
        .iter()
        .map(|s| (s.0.as_str(), s.1.as_str(), s.2.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("/dev/vda", "ext4", "/"),
            ("/dev/vda", "ext4", "/var/lib/data"),
            ("10.0.0.5:/export", "nfs4", "/mnt/nfs"),
            ("/dev/sdc", "xfs", "/mnt/over"),
        ]
    );
    // The NFS mount listed last is read-only: that is what the path shows.
    assert_eq!(
        value(&out, "node_filesystem_readonly", "/mnt/nfs"),
        Some(1.0)
    );
}

#[test]
fn falls_back_to_self_mountinfo_then_proc_mounts() {
    let (_dir, paths) = procfs_with("self/mountinfo", "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), fake_stat());
    assert_eq!(
        series(&collect(&fs), "node_filesystem_size_bytes")[0].0,
        "/dev/sda1"
    );

    let (_dir, paths) = procfs_with("mounts", "/dev/sda2 / ext4 ro,relatime 0 0\n");
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), fake_stat());
    let out = collect(&fs);
    assert_eq!(series(&out, "node_filesystem_size_bytes")[0].0, "/dev/sda2");
    assert_eq!(value(&out, "node_filesystem_readonly", "/"), Some(1.0));

    let empty = tempfile::tempdir().unwrap();
    let paths = HostPaths {
        procfs: empty.path().to_owned(),
        ..HostPaths::default()
    };
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), fake_stat());
    let err = fs.collect(&mut Vec::new()).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn rootfs_prefix_is_stripped_from_labels_and_added_for_statfs() {
    // Our own mount namespace in a container: host mounts appear below /host/root.
    let mountinfo = "\
1 0 0:1 / / rw - overlay overlay rw
2 1 8:1 / /host/root rw - ext4 /dev/sda1 rw
3 2 8:2 / /host/root/boot rw - vfat /dev/sda2 rw
4 1 8:3 / /host/rootless rw - ext4 /dev/sda3 rw
";
    let (_dir, mut paths) = procfs_with("self/mountinfo", mountinfo);
    paths.rootfs = PathBuf::from("/host/root/");
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let stat: StatFn = Arc::new(move |p: &Path| {
        a.lock().unwrap().push(p.to_owned());
        fake_stat()(p)
    });
    let fs = Filesystem::with_statfs(&paths, &CollectorSettings::default(), stat);
    let out = collect(&fs);
    let points: Vec<_> = series(&out, "node_filesystem_size_bytes")
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(points, ["/", "/boot", "/host/rootless"]);
    let asked: Vec<_> = asked.lock().unwrap().clone();
    let want: Vec<PathBuf> = ["/host/root/", "/host/root/boot", "/host/root/host/rootless"]
        .iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(asked, want);
}

/// node_exporter #244: a hung NFS statfs must not block the scrape.
#[test]
fn regression_244_a_hung_mount_never_blocks_the_scrape() {
    let (_dir, paths) = procfs_with("1/mountinfo", NODE_MOUNTINFO);
    let timeout = Duration::from_millis(100);
    let settings = CollectorSettings {
        fs_mount_timeout: timeout,
        ..CollectorSettings::default()
    };
    let (release, blocked) = mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let stat: StatFn = Arc::new(move |p: &Path| {
        if p == Path::new("/mnt/python") {
            c.fetch_add(1, Ordering::SeqCst);
            let _ = blocked.lock().unwrap().recv();
        }
        fake_stat()(p)
    });
    let fs = Filesystem::with_statfs(&paths, &settings, stat);
    let stuck_gauge = |out: &[MetricFamily]| {
        let f = out
            .iter()
            .find(|f| f.name == "nodepulse_filesystem_stuck_mounts");
        f.unwrap().samples[0].value
    };

    for scrape in 0..2 {
        let start = Instant::now();
        let out = collect(&fs);
        // The blocked statfs never returns before `release`, so returning at all proves
        // the scrape did not wait for it; the bound is loose for a loaded CI machine.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "scrape {scrape} took {:?}",
            start.elapsed()
        );
        assert_eq!(
            value(&out, "node_filesystem_device_error", "/mnt/python"),
            Some(1.0)
        );
        assert_eq!(
            value(&out, "node_filesystem_size_bytes", "/mnt/python"),
            None
        );
        assert_eq!(
            value(&out, "node_filesystem_size_bytes", "/"),
            Some(4096000.0)
        );
        assert_eq!(
            value(&out, "node_filesystem_size_bytes", "/srv/My Files"),
            Some(4096000.0)
        );
        assert_eq!(stuck_gauge(&out), 1.0);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the stuck mount was stat'ed again"
    );

    drop(release);
    let deadline = Instant::now() + Duration::from_secs(5);
    while fs.prober.stuck_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = collect(&fs);
    assert_eq!(stuck_gauge(&out), 0.0);
    assert_eq!(
        value(&out, "node_filesystem_size_bytes", "/mnt/python"),
        Some(4096000.0)
    );
    assert_eq!(
        value(&out, "node_filesystem_device_error", "/mnt/python"),
        Some(0.0)
    );
}
