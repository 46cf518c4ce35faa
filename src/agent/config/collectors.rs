//! The node collectors' settings (node_exporter's `--collector.*` flags): merged from
//! flags over the file over node_exporter 1.5's defaults, and validated.

use super::file::CollectorsFile;
use super::{defaults, invalid, ConfigError, Flags};
use crate::agent::{containers, node};
use regex::Regex;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the node collectors (node_exporter's `--collector.*` flags).
#[derive(Debug, Clone)]
pub struct CollectorSettings {
    pub disabled: BTreeSet<String>,
    pub fs_mount_points_exclude: Regex,
    pub fs_types_exclude: Regex,
    pub fs_mount_timeout: Duration,
    pub diskstats_device_exclude: Regex,
    pub netdev_device_exclude: Option<Regex>,
    pub netclass_ignored_devices: Regex,
    pub netstat_fields: Regex,
    pub vmstat_fields: Regex,
    /// node_exporter's `--collector.textfile.directory`; none by default, as upstream.
    pub textfile_directory: Option<PathBuf>,
    pub textfile_max_file_bytes: u64,
    /// The containers collector's settings (`--collector.containers.*`).
    pub containers: containers::ContainersSettings,
}

impl Default for CollectorSettings {
    fn default() -> Self {
        let re = |s: &str| Regex::new(s).expect("default regex compiles");
        CollectorSettings {
            disabled: BTreeSet::new(),
            fs_mount_points_exclude: re(defaults::FS_MOUNT_POINTS_EXCLUDE),
            fs_types_exclude: re(defaults::FS_TYPES_EXCLUDE),
            fs_mount_timeout: defaults::FS_MOUNT_TIMEOUT,
            diskstats_device_exclude: re(defaults::DISKSTATS_DEVICE_EXCLUDE),
            netdev_device_exclude: None,
            netclass_ignored_devices: re(defaults::NETCLASS_IGNORED_DEVICES),
            netstat_fields: re(defaults::NETSTAT_FIELDS),
            vmstat_fields: re(defaults::VMSTAT_FIELDS),
            textfile_directory: None,
            textfile_max_file_bytes: defaults::TEXTFILE_MAX_FILE_BYTES,
            containers: containers::ContainersSettings::default(),
        }
    }
}

/// A setting's file key and flag, for error messages.
type Key = (&'static str, &'static str);

const MOUNT_TIMEOUT: Key = (
    "collectors.filesystem.mount_timeout",
    "--collector.filesystem.mount-timeout",
);
const TEXTFILE_MAX: Key = (
    "collectors.textfile.max_file_bytes",
    "--collector.textfile.max-file-bytes",
);

/// Merges the collector flags (taken out of `f`) over the file's `collectors:` section.
pub(super) fn settings(f: &mut Flags, c: CollectorsFile) -> Result<CollectorSettings, ConfigError> {
    let netdev = f.netdev_device_exclude.take().or(c.netdev.device_exclude);
    Ok(CollectorSettings {
        disabled: disabled(f.disable.take().or(c.disable))?,
        fs_mount_points_exclude: regex(
            f.fs_mount_points_exclude
                .take()
                .or(c.filesystem.mount_points_exclude),
            defaults::FS_MOUNT_POINTS_EXCLUDE,
            (
                "collectors.filesystem.mount_points_exclude",
                "--collector.filesystem.mount-points-exclude",
            ),
        )?,
        fs_types_exclude: regex(
            f.fs_types_exclude.take().or(c.filesystem.fs_types_exclude),
            defaults::FS_TYPES_EXCLUDE,
            (
                "collectors.filesystem.fs_types_exclude",
                "--collector.filesystem.fs-types-exclude",
            ),
        )?,
        fs_mount_timeout: mount_timeout(f.fs_mount_timeout.take(), c.filesystem.mount_timeout)?,
        diskstats_device_exclude: regex(
            f.diskstats_device_exclude
                .take()
                .or(c.diskstats.device_exclude),
            defaults::DISKSTATS_DEVICE_EXCLUDE,
            (
                "collectors.diskstats.device_exclude",
                "--collector.diskstats.device-exclude",
            ),
        )?,
        netdev_device_exclude: match netdev.filter(|s| !s.is_empty()) {
            Some(s) => Some(regex(
                Some(s),
                "",
                (
                    "collectors.netdev.device_exclude",
                    "--collector.netdev.device-exclude",
                ),
            )?),
            None => None,
        },
        netclass_ignored_devices: regex(
            f.netclass_ignored_devices
                .take()
                .or(c.netclass.ignored_devices),
            defaults::NETCLASS_IGNORED_DEVICES,
            (
                "collectors.netclass.ignored_devices",
                "--collector.netclass.ignored-devices",
            ),
        )?,
        netstat_fields: regex(
            f.netstat_fields.take().or(c.netstat.fields),
            defaults::NETSTAT_FIELDS,
            ("collectors.netstat.fields", "--collector.netstat.fields"),
        )?,
        vmstat_fields: regex(
            f.vmstat_fields.take().or(c.vmstat.fields),
            defaults::VMSTAT_FIELDS,
            ("collectors.vmstat.fields", "--collector.vmstat.fields"),
        )?,
        textfile_directory: f
            .textfile_directory
            .take()
            .or(c.textfile.directory)
            .filter(|d| !d.as_os_str().is_empty()),
        textfile_max_file_bytes: positive(
            f.textfile_max_file_bytes
                .take()
                .or(c.textfile.max_file_bytes)
                .unwrap_or(defaults::TEXTFILE_MAX_FILE_BYTES),
            TEXTFILE_MAX,
        )?,
        containers: super::containers::settings(&mut f.containers, c.containers)?,
    })
}

/// The collectors to turn off; every name must be a known collector.
fn disabled(names: Option<Vec<String>>) -> Result<BTreeSet<String>, ConfigError> {
    let disabled: BTreeSet<String> = names
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let known = || node::names().chain([containers::NAME]);
    match disabled.iter().find(|n| !known().any(|k| k == n.as_str())) {
        Some(unknown) => {
            let known: Vec<_> = known().collect();
            let msg = format!("unknown collector {unknown:?}; known: {}", known.join(", "));
            Err(invalid("collectors.disable", "--collectors.disable", msg))
        }
        None => Ok(disabled),
    }
}

/// The statfs timeout: the flag's text (a humantime duration) over the file's value.
fn mount_timeout(flag: Option<String>, file: Option<Duration>) -> Result<Duration, ConfigError> {
    let timeout = match flag {
        Some(s) => humantime::parse_duration(&s)
            .map_err(|e| invalid(MOUNT_TIMEOUT.0, MOUNT_TIMEOUT.1, e))?,
        None => file.unwrap_or(defaults::FS_MOUNT_TIMEOUT),
    };
    if timeout.is_zero() {
        return Err(invalid(
            MOUNT_TIMEOUT.0,
            MOUNT_TIMEOUT.1,
            "must be greater than zero",
        ));
    }
    Ok(timeout)
}

fn positive(value: u64, (key, flag): Key) -> Result<u64, ConfigError> {
    match value {
        0 => Err(invalid(key, flag, "must be greater than zero")),
        v => Ok(v),
    }
}

fn regex(value: Option<String>, default: &str, (key, flag): Key) -> Result<Regex, ConfigError> {
    let pattern = value.unwrap_or_else(|| default.to_owned());
    Regex::new(&pattern).map_err(|e| invalid(key, flag, e))
}
