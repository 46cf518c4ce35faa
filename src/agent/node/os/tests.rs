//! Tests of the os module: table tests on real samples and edge cases, and the collector on a temp root.
use super::*;
use std::time::Duration;

/// This machine's /etc/os-release.
const DEBIAN: &str = "\
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL=\"https://www.debian.org/\"
SUPPORT_URL=\"https://www.debian.org/support\"
BUG_REPORT_URL=\"https://bugs.debian.org/\"
";

const UBUNTU: &str = "\
PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"
NAME=\"Ubuntu\"
VERSION_ID=\"22.04\"
VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
";

const ARCH: &str = "\
NAME=\"Arch Linux\"
PRETTY_NAME=\"Arch Linux\"
ID=arch
BUILD_ID=rolling
IMAGE_ID=archlinux
IMAGE_VERSION=2024.01.01
";

#[test]
fn parses_real_files() {
    let d = parse(DEBIAN).unwrap();
    assert_eq!(d.values[ID], "debian");
    assert_eq!(d.values[6], "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(d.values[10], "bookworm");
    assert_eq!(d.version, 12.0);
    let u = parse(UBUNTU).unwrap();
    assert_eq!((u.values[ID_LIKE].as_str(), u.version), ("debian", 22.04));
    let a = parse(ARCH).unwrap();
    assert_eq!(
        (a.values[0].as_str(), a.values[3].as_str()),
        ("rolling", "archlinux")
    );
    assert_eq!(a.version, 0.0);
}

#[test]
fn version_is_the_leading_major_minor() {
    let cases: &[(&str, f64)] = &[
        ("12", 12.0),
        ("22.04", 22.04),
        ("3.19.1", 3.19),
        ("8.", 8.0),
        ("10-beta", 10.0),
        ("0.1", 0.1),
        ("", 0.0),
        ("rolling", 0.0),
        (".5", 0.0),
        ("v2", 0.0),
        ("007", 7.0),
    ];
    for (id, want) in cases {
        assert_eq!(major_minor(id), Ok(*want), "{id:?}");
    }
    assert!(major_minor(&"9".repeat(400)).is_err());
}

fn root(dir: &Path) -> HostPaths {
    HostPaths {
        rootfs: dir.to_owned(),
        ..HostPaths::default()
    }
}

fn write(dir: &Path, rel: &str, contents: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn labels(f: &MetricFamily) -> Vec<(&str, &str)> {
    f.samples[0]
        .labels
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_str()))
        .collect()
}

#[test]
fn collects_info_and_version() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/os-release", DEBIAN);
    let mut out = Vec::new();
    Os::new(&root(dir.path())).collect(&mut out).unwrap();
    assert_eq!(out.len(), 2);
    let info = labels(&out[0]);
    assert_eq!(info.len(), 12);
    assert_eq!(info[0], ("build_id", ""));
    assert_eq!(info[5], ("name", "Debian GNU/Linux"));
    assert_eq!(info[11], ("version_id", "12"));
    assert_eq!(out[1].name, "node_os_version");
    assert_eq!(
        labels(&out[1]),
        [
            ("id", "debian"),
            ("id_like", ""),
            ("name", "Debian GNU/Linux")
        ]
    );
    assert_eq!(out[1].samples[0].value, 12.0);
}

#[test]
fn falls_back_to_usr_lib_and_omits_a_zero_version() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "usr/lib/os-release", ARCH);
    let mut out = Vec::new();
    Os::new(&root(dir.path())).collect(&mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(labels(&out[0])[1], ("id", "arch"));
}

#[test]
fn a_broken_etc_file_fails_without_falling_back() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/os-release", "NAME=\"unterminated\n");
    write(dir.path(), "usr/lib/os-release", ARCH);
    let err = Os::new(&root(dir.path()))
        .collect(&mut Vec::new())
        .unwrap_err();
    assert!(matches!(err, CollectError::Parse { .. }), "{err}");
}

#[test]
fn no_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = Os::new(&root(dir.path()))
        .collect(&mut Vec::new())
        .unwrap_err();
    assert!(err.is_not_found());
}

#[test]
fn reparses_only_when_the_mtime_changes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/os-release", DEBIAN);
    let path = dir.path().join("etc/os-release");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let os = Os::new(&root(dir.path()));
    os.collect(&mut Vec::new()).unwrap();

    // Same mtime: the cached parse is served even though the bytes changed.
    write(dir.path(), "etc/os-release", UBUNTU);
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(mtime).unwrap();
    let mut out = Vec::new();
    os.collect(&mut out).unwrap();
    assert_eq!(labels(&out[0])[1], ("id", "debian"));

    file.set_modified(mtime + Duration::from_secs(1)).unwrap();
    let mut out = Vec::new();
    os.collect(&mut out).unwrap();
    assert_eq!(labels(&out[0])[1], ("id", "ubuntu"));
}
