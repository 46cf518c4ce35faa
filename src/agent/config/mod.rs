//! Agent configuration in two stages: what users write (flags, `NODEPULSE_*` variables,
//! the YAML file) is merged and validated into [`AgentConfig`], the runtime struct the
//! code uses. Bad values fail at start-up with a message that names the key and flag.

mod file;
mod flags;

pub use file::FileConfig;
pub use flags::Flags;

use crate::agent::node::{self, HostPaths};
use regex::Regex;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Documented defaults, shared by `--help`, the file and the runtime config.
pub mod defaults {
    pub const LISTEN_ADDRESS: &str = "0.0.0.0:9101";
    pub const PODS_DIR: &str = "/var/log/pods";
    pub const CONTAINERS_DIR: &str = "/var/log/containers";
    pub const DATA_DIR: &str = "/var/lib/nodepulse";
    /// node_exporter 1.5's `--collector.filesystem.mount-points-exclude`.
    pub const FS_MOUNT_POINTS_EXCLUDE: &str =
        "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
    /// node_exporter 1.5's `--collector.filesystem.fs-types-exclude`.
    pub const FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";
    pub const FS_MOUNT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
    /// node_exporter 1.5's `--collector.diskstats.device-exclude`.
    pub const DISKSTATS_DEVICE_EXCLUDE: &str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";
    /// node_exporter 1.5's `--collector.netclass.ignored-devices`.
    pub const NETCLASS_IGNORED_DEVICES: &str = "^$";
    /// node_exporter 1.5's `--collector.netstat.fields`.
    pub const NETSTAT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";
    /// node_exporter 1.5's `--collector.vmstat.fields`.
    pub const VMSTAT_FIELDS: &str = "^(oom_kill|pgpg|pswp|pg.*fault).*";
    /// Largest textfile read (node_exporter has no limit). Real textfiles are KiBs
    /// (smartmon, apt, ipmitool scripts: under ~200 KiB); 16 MiB keeps a runaway
    /// script from costing the agent more than a few times that in memory per scrape.
    pub const TEXTFILE_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
}

/// A configuration value that cannot be used, named by its file key and flag.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0}")]
    File(String),
    #[error("invalid {key} (flag {flag}): {msg}")]
    Invalid {
        key: &'static str,
        flag: &'static str,
        msg: String,
    },
}

fn invalid(key: &'static str, flag: &'static str, msg: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        key,
        flag,
        msg: msg.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeApi {
    Auto,
    Off,
}

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
        }
    }
}

/// The validated configuration the agent runs with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub listen_address: SocketAddr,
    pub log_format: LogFormat,
    pub log_level: tracing::Level,
    pub paths: HostPaths,
    pub pods_dir: PathBuf,
    pub containers_dir: PathBuf,
    pub data_dir: PathBuf,
    pub loki_url: Option<String>,
    pub elasticsearch_url: Option<String>,
    pub node_name: String,
    pub kube_api: KubeApi,
    pub kubeconfig: Option<PathBuf>,
    pub collectors: CollectorSettings,
}

impl AgentConfig {
    /// Merges flags (and their environment variables) over the config file they name.
    pub fn load(flags: Flags) -> Result<Self, ConfigError> {
        let file = match &flags.config_file {
            Some(path) => FileConfig::load(path).map_err(ConfigError::File)?,
            None => FileConfig::default(),
        };
        Self::merge(flags, file)
    }

    /// Merges already-parsed flags over an already-parsed file and validates the result.
    pub fn merge(f: Flags, c: FileConfig) -> Result<Self, ConfigError> {
        let collectors = collector_settings(&f, c.collectors)?;
        let listen = f.listen_address.or(c.web.listen_address);
        let listen_address = listen
            .as_deref()
            .unwrap_or(defaults::LISTEN_ADDRESS)
            .parse()
            .map_err(|e| invalid("web.listen_address", "--web.listen-address", e))?;
        let log_format = match f.log_format.or(c.log.format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(o) => {
                return Err(invalid(
                    "log.format",
                    "--log.format",
                    format!("{o:?} is not text or json"),
                ))
            }
        };
        let level = f.log_level.or(c.log.level).unwrap_or_else(|| "info".into());
        let log_level = level.parse().map_err(|_| {
            invalid(
                "log.level",
                "--log.level",
                format!("{level:?} is not a log level"),
            )
        })?;
        let kube_api = match f.kube_api.or(c.kube.api).as_deref() {
            None | Some("auto") => KubeApi::Auto,
            Some("off") => KubeApi::Off,
            Some(o) => {
                return Err(invalid(
                    "kube.api",
                    "--kube.api",
                    format!("{o:?} is not auto or off"),
                ))
            }
        };
        let paths = HostPaths {
            procfs: f.procfs.or(c.path.procfs).unwrap_or_else(|| "/proc".into()),
            sysfs: f.sysfs.or(c.path.sysfs).unwrap_or_else(|| "/sys".into()),
            rootfs: f.rootfs.or(c.path.rootfs).unwrap_or_else(|| "/".into()),
        };
        let loki_url = f.loki_url.or(c.sink.loki.url);
        check_url(&loki_url, "sink.loki.url", "--sink.loki.url")?;
        let elasticsearch_url = f.elasticsearch_url.or(c.sink.elasticsearch.url);
        check_url(
            &elasticsearch_url,
            "sink.elasticsearch.url",
            "--sink.elasticsearch.url",
        )?;
        Ok(AgentConfig {
            listen_address,
            log_format,
            log_level,
            paths,
            pods_dir: f
                .pods_dir
                .or(c.logs.pods_dir)
                .unwrap_or_else(|| defaults::PODS_DIR.into()),
            containers_dir: f
                .containers_dir
                .or(c.logs.containers_dir)
                .unwrap_or_else(|| defaults::CONTAINERS_DIR.into()),
            data_dir: f
                .data_dir
                .or(c.data_dir)
                .unwrap_or_else(|| defaults::DATA_DIR.into()),
            loki_url,
            elasticsearch_url,
            node_name: f
                .node_name
                .or(c.node_name)
                .unwrap_or_else(default_node_name),
            kube_api,
            kubeconfig: f.kubeconfig.or(c.kube.kubeconfig),
            collectors,
        })
    }
}

fn collector_settings(
    f: &Flags,
    c: file::CollectorsFile,
) -> Result<CollectorSettings, ConfigError> {
    let disabled: BTreeSet<String> = f
        .disable
        .clone()
        .or(c.disable)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(unknown) = disabled
        .iter()
        .find(|n| !node::names().any(|k| k == n.as_str()))
    {
        let known: Vec<_> = node::names().collect();
        let msg = format!("unknown collector {unknown:?}; known: {}", known.join(", "));
        return Err(invalid("collectors.disable", "--collectors.disable", msg));
    }
    let fs_mount_timeout = match &f.fs_mount_timeout {
        Some(s) => humantime::parse_duration(s).map_err(|e| {
            invalid(
                "collectors.filesystem.mount_timeout",
                "--collector.filesystem.mount-timeout",
                e,
            )
        })?,
        None => c
            .filesystem
            .mount_timeout
            .unwrap_or(defaults::FS_MOUNT_TIMEOUT),
    };
    if fs_mount_timeout.is_zero() {
        return Err(invalid(
            "collectors.filesystem.mount_timeout",
            "--collector.filesystem.mount-timeout",
            "must be greater than zero",
        ));
    }
    let netdev_exclude = f.netdev_device_exclude.clone().or(c.netdev.device_exclude);
    let textfile_max_file_bytes = f
        .textfile_max_file_bytes
        .or(c.textfile.max_file_bytes)
        .unwrap_or(defaults::TEXTFILE_MAX_FILE_BYTES);
    if textfile_max_file_bytes == 0 {
        return Err(invalid(
            "collectors.textfile.max_file_bytes",
            "--collector.textfile.max-file-bytes",
            "must be greater than zero",
        ));
    }
    Ok(CollectorSettings {
        disabled,
        fs_mount_points_exclude: regex(
            f.fs_mount_points_exclude
                .clone()
                .or(c.filesystem.mount_points_exclude),
            defaults::FS_MOUNT_POINTS_EXCLUDE,
            (
                "collectors.filesystem.mount_points_exclude",
                "--collector.filesystem.mount-points-exclude",
            ),
        )?,
        fs_types_exclude: regex(
            f.fs_types_exclude.clone().or(c.filesystem.fs_types_exclude),
            defaults::FS_TYPES_EXCLUDE,
            (
                "collectors.filesystem.fs_types_exclude",
                "--collector.filesystem.fs-types-exclude",
            ),
        )?,
        fs_mount_timeout,
        diskstats_device_exclude: regex(
            f.diskstats_device_exclude
                .clone()
                .or(c.diskstats.device_exclude),
            defaults::DISKSTATS_DEVICE_EXCLUDE,
            (
                "collectors.diskstats.device_exclude",
                "--collector.diskstats.device-exclude",
            ),
        )?,
        netdev_device_exclude: match netdev_exclude.filter(|s| !s.is_empty()) {
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
                .clone()
                .or(c.netclass.ignored_devices),
            defaults::NETCLASS_IGNORED_DEVICES,
            (
                "collectors.netclass.ignored_devices",
                "--collector.netclass.ignored-devices",
            ),
        )?,
        netstat_fields: regex(
            f.netstat_fields.clone().or(c.netstat.fields),
            defaults::NETSTAT_FIELDS,
            ("collectors.netstat.fields", "--collector.netstat.fields"),
        )?,
        vmstat_fields: regex(
            f.vmstat_fields.clone().or(c.vmstat.fields),
            defaults::VMSTAT_FIELDS,
            ("collectors.vmstat.fields", "--collector.vmstat.fields"),
        )?,
        textfile_directory: f
            .textfile_directory
            .clone()
            .or(c.textfile.directory)
            .filter(|d| !d.as_os_str().is_empty()),
        textfile_max_file_bytes,
    })
}

fn regex(
    value: Option<String>,
    default: &str,
    (key, flag): (&'static str, &'static str),
) -> Result<Regex, ConfigError> {
    let pattern = value.unwrap_or_else(|| default.to_owned());
    Regex::new(&pattern).map_err(|e| invalid(key, flag, e))
}

fn check_url(
    url: &Option<String>,
    key: &'static str,
    flag: &'static str,
) -> Result<(), ConfigError> {
    match url {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(invalid(
            key,
            flag,
            format!("{u:?} is not an http:// or https:// URL"),
        )),
        _ => Ok(()),
    }
}

/// `$NODE_NAME` (the downward API in the DaemonSet), else the host name.
fn default_node_name() -> String {
    std::env::var("NODE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned()
        })
}

#[cfg(test)]
mod tests;
