//! selinux: `node_selinux_enabled`, and when enabled `node_selinux_config_mode` and
//! `node_selinux_current_mode`. Mirrors node_exporter 1.5's selinux collector
//! (collector/selinux_linux.go), which asks opencontainers/go-selinux:
//! - enabled: a selinuxfs is mounted (`/sys/fs/selinux`, `/selinux`, else a `selinuxfs`
//!   line of `/proc/self/mountinfo`; statfs must say SELINUX_MAGIC and read-write) and
//!   the process label (`/proc/thread-self/attr/current`) is not "kernel". go-selinux
//!   decides this once per process; so does this collector.
//! - config mode: `SELINUX=` in `/etc/selinux/config`: enforcing 1, permissive 0, else -1.
//! - current mode: the integer in `<selinuxfs>/enforce`, -1 when unreadable.
//!
//! Like go-selinux, these are the agent process's own paths, not the `--path.*` roots.

use super::{CollectError, Collector};
use crate::exposition::MetricFamily;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// SELINUX_MAGIC, the statfs f_type of selinuxfs.
const SELINUX_MAGIC: u32 = 0xf97c_ff8c;

/// The selinuxfs mount point from `/proc/self/mountinfo` text, if any line has one.
pub fn selinuxfs_in_mountinfo(mountinfo: &str) -> Option<&str> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split(' ').next() == Some("selinuxfs")).then(|| left.split(' ').nth(4))?
    })
}

/// go-selinux's config mode from `/etc/selinux/config` text.
pub fn config_mode(config: &str) -> i64 {
    let value = config.lines().find_map(|line| {
        let line = line.trim();
        if line.starts_with(['#', ';']) {
            return None;
        }
        let (key, value) = line.split_once('=')?;
        (key.trim() == "SELINUX").then(|| value.trim().trim_matches('"'))
    });
    match value {
        Some("enforcing") => 1,
        Some("permissive") => 0,
        _ => -1,
    }
}

/// go-selinux's current mode from the `enforce` file's text.
pub fn enforce_mode(enforce: &str) -> i64 {
    enforce
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .parse()
        .unwrap_or(-1)
}

/// Where go-selinux looks; a temp dir in tests.
pub struct SelinuxPaths {
    pub candidates: Vec<PathBuf>,
    pub mountinfo: PathBuf,
    pub attr_current: PathBuf,
    pub config: PathBuf,
    /// True when a path is a writable selinuxfs (statfs in production).
    pub is_selinuxfs: fn(&Path) -> bool,
}

impl Default for SelinuxPaths {
    fn default() -> Self {
        SelinuxPaths {
            candidates: vec!["/sys/fs/selinux".into(), "/selinux".into()],
            mountinfo: "/proc/self/mountinfo".into(),
            attr_current: "/proc/thread-self/attr/current".into(),
            config: "/etc/selinux/config".into(),
            is_selinuxfs: statfs_is_selinuxfs,
        }
    }
}

fn statfs_is_selinuxfs(path: &Path) -> bool {
    match rustix::fs::statfs(path) {
        Ok(s) => {
            // Compared as u32, as go-selinux does (f_type is signed and word-sized).
            s.f_type as u32 == SELINUX_MAGIC && (s.f_flags as u64) & libc::ST_RDONLY == 0
        }
        Err(_) => false,
    }
}

impl SelinuxPaths {
    /// The selinuxfs mount point when SELinux is enabled for this process.
    fn enabled_mount(&self) -> Option<PathBuf> {
        let ok = |p: &Path| (self.is_selinuxfs)(p);
        let mount = match self.candidates.iter().find(|p| ok(p)) {
            Some(p) => p.clone(),
            None => {
                let text = std::fs::read_to_string(&self.mountinfo).ok()?;
                let m = PathBuf::from(selinuxfs_in_mountinfo(&text)?);
                ok(&m).then_some(m)?
            }
        };
        let label = std::fs::read_to_string(&self.attr_current).unwrap_or_default();
        (label.trim_end_matches('\0') != "kernel").then_some(mount)
    }
}

pub struct Selinux {
    paths: SelinuxPaths,
    mount: OnceLock<Option<PathBuf>>,
}

impl Selinux {
    pub fn new(paths: SelinuxPaths) -> Self {
        Selinux {
            paths,
            mount: OnceLock::new(),
        }
    }
}

impl Collector for Selinux {
    fn name(&self) -> &'static str {
        "selinux"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let mount = self.mount.get_or_init(|| self.paths.enabled_mount());
        let enabled = MetricFamily::gauge(
            "node_selinux_enabled",
            "SELinux is enabled, 1 is true, 0 is false",
        );
        let Some(mount) = mount else {
            out.push(enabled.value(0.0));
            return Ok(());
        };
        out.push(enabled.value(1.0));
        let config = std::fs::read_to_string(&self.paths.config).unwrap_or_default();
        out.push(
            MetricFamily::gauge(
                "node_selinux_config_mode",
                "Configured SELinux enforcement mode",
            )
            .value(config_mode(&config) as f64),
        );
        let enforce = std::fs::read_to_string(mount.join("enforce"));
        let current = enforce.map(|t| enforce_mode(&t)).unwrap_or(-1);
        out.push(
            MetricFamily::gauge(
                "node_selinux_current_mode",
                "Current SELinux enforcement mode",
            )
            .value(current as f64),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
        24 22 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n\
        25 24 0:22 / /sys/fs/selinux rw,relatime shared:8 - selinuxfs selinuxfs rw\n";

    #[test]
    fn parses_real_samples() {
        assert_eq!(selinuxfs_in_mountinfo(MOUNTINFO), Some("/sys/fs/selinux"));
        assert_eq!(selinuxfs_in_mountinfo(&MOUNTINFO[..60]), None);
        assert_eq!(selinuxfs_in_mountinfo("garbage - selinuxfs\n"), None);
        let fedora = "# This file controls the state of SELinux on the system.\n\
            # SELINUX= can take one of these three values:\nSELINUX=enforcing\nSELINUXTYPE=targeted\n";
        assert_eq!(config_mode(fedora), 1);
        assert_eq!(config_mode("SELINUX = \"permissive\"\n"), 0);
        assert_eq!(config_mode("SELINUX=disabled\n"), -1);
        assert_eq!(config_mode("#SELINUX=enforcing\n"), -1);
        assert_eq!(config_mode(""), -1);
        assert_eq!(enforce_mode("1"), 1);
        assert_eq!(enforce_mode("0\n"), 0);
        assert_eq!(enforce_mode("x"), -1);
    }

    fn collect(paths: SelinuxPaths) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        Selinux::new(paths).collect(&mut out).unwrap();
        out.iter()
            .map(|f| (f.name.to_string(), f.samples[0].value))
            .collect()
    }

    fn temp_paths(dir: &Path, label: &str) -> SelinuxPaths {
        let fs = dir.join("selinuxfs");
        std::fs::create_dir_all(&fs).unwrap();
        std::fs::write(fs.join("enforce"), "0").unwrap();
        std::fs::write(dir.join("current"), label).unwrap();
        std::fs::write(dir.join("config"), "SELINUX=enforcing\n").unwrap();
        let mountinfo = MOUNTINFO.replace("/sys/fs/selinux", &fs.to_string_lossy());
        std::fs::write(dir.join("mountinfo"), mountinfo).unwrap();
        SelinuxPaths {
            candidates: vec![dir.join("absent")],
            mountinfo: dir.join("mountinfo"),
            attr_current: dir.join("current"),
            config: dir.join("config"),
            is_selinuxfs: |p| p.ends_with("selinuxfs"),
        }
    }

    #[test]
    fn enabled_via_mountinfo_reports_both_modes() {
        let dir = tempfile::tempdir().unwrap();
        let got = collect(temp_paths(dir.path(), "system_u:system_r:spc_t:s0\0"));
        let want = [
            ("node_selinux_enabled", 1.0),
            ("node_selinux_config_mode", 1.0),
            ("node_selinux_current_mode", 0.0),
        ];
        assert_eq!(got, want.map(|(n, v)| (n.to_owned(), v)));
    }

    #[test]
    fn kernel_label_or_no_selinuxfs_is_disabled() {
        let dir = tempfile::tempdir().unwrap();
        let got = collect(temp_paths(dir.path(), "kernel\0"));
        assert_eq!(got, [("node_selinux_enabled".to_owned(), 0.0)]);
        let mut paths = temp_paths(dir.path(), "unconfined");
        paths.is_selinuxfs = |_| false;
        assert_eq!(collect(paths), [("node_selinux_enabled".to_owned(), 0.0)]);
    }

    #[test]
    fn this_host_has_selinux_disabled_as_node_exporter_says() {
        // /work/ne-sample-metrics.txt: node_selinux_enabled 0 on this machine.
        if Path::new("/sys/fs/selinux/enforce").exists() {
            return;
        }
        let got = collect(SelinuxPaths::default());
        assert_eq!(got, [("node_selinux_enabled".to_owned(), 0.0)]);
    }
}
