//! Agent configuration in two stages: what users write (flags, `NODEPULSE_*` variables,
//! the YAML file) is merged and validated into [`AgentConfig`], the runtime struct the
//! code uses. Bad values fail at start-up with a message that names the key and flag.

mod collectors;
mod containers;
mod file;
/// The `web` and `log` sections, shared with the aggregator's file.
pub use file::{LogFile, WebFile};
mod flags;
mod logs;
mod pipeline;
mod sinks;
pub mod size;

pub use collectors::CollectorSettings;
pub use file::FileConfig;
pub use flags::Flags;
pub use logs::LogSettings;
pub use sinks::TENANT_HEADER;

use crate::agent::logs::pipeline::SinksConfig;
use crate::agent::node::HostPaths;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
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

    const MIB: u64 = 1024 * 1024;
    /// `--logs.buffer.max-bytes`: batches held in memory between reading and sending.
    pub const LOGS_BUFFER_MAX_BYTES: u64 = 16 * MIB;
    /// `--logs.spool.max-bytes`: 0, no disk spool.
    pub const LOGS_SPOOL_MAX_BYTES: u64 = 0;
    /// `logs.spool.segment_bytes`.
    pub const LOGS_SPOOL_SEGMENT_BYTES: u64 = 64 * MIB;
    /// `--logs.batch.*`: promtail's client defaults (1 MiB or 1 s); 10,000 events keeps
    /// a request's stream count sane.
    pub const LOGS_BATCH_MAX_BYTES: u64 = MIB;
    pub const LOGS_BATCH_MAX_EVENTS: u64 = 10_000;
    pub const LOGS_BATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
    /// `--logs.max-line-bytes`: the cap on a message after partial lines are joined.
    pub const LOGS_MAX_LINE_BYTES: u64 = MIB;
    /// `--logs.partial-flush-timeout`.
    pub const LOGS_PARTIAL_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
    /// `--logs.max-open-files`.
    pub const LOGS_MAX_OPEN_FILES: u64 = 1024;
    /// `--logs.checkpoint-retention` (checkpoint/prune.rs says why).
    pub const LOGS_CHECKPOINT_RETENTION: std::time::Duration =
        crate::agent::logs::checkpoint::DEFAULT_RETENTION;
    /// `--sink.elasticsearch.index`: a daily index, as Fluent Bit's `Logstash_Format`.
    pub const ELASTICSEARCH_INDEX: &str = "nodepulse-%Y.%m.%d";
}

/// A configuration value that cannot be used, named by its file key and flag.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0}")]
    File(String),
    /// `flag` is empty for a key that only the file has.
    #[error("invalid {key}{}: {msg}", flag_note(flag))]
    Invalid {
        key: Cow<'static, str>,
        flag: Cow<'static, str>,
        msg: String,
    },
}

fn flag_note(flag: &str) -> String {
    if flag.is_empty() {
        " (config file only)".to_owned()
    } else {
        format!(" (flag {flag})")
    }
}

/// A bad value of the setting with file key `key` and flag `flag` ("" if it has none).
pub(crate) fn invalid(
    key: impl Into<Cow<'static, str>>,
    flag: impl Into<Cow<'static, str>>,
    msg: impl ToString,
) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        flag: flag.into(),
        msg: msg.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeApi {
    Auto,
    Off,
    /// An API server URL used without credentials (a fake API server in tests,
    /// `kubectl proxy`).
    Url(String),
}

/// The validated configuration the agent runs with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub listen_address: SocketAddr,
    /// `--web.config.file`, checked to load (served by [`crate::web`]).
    pub web_config_file: Option<PathBuf>,
    pub log_format: LogFormat,
    pub log_level: tracing::Level,
    pub paths: HostPaths,
    pub pods_dir: PathBuf,
    pub containers_dir: PathBuf,
    pub data_dir: PathBuf,
    pub logs: LogSettings,
    /// The log sinks; log shipping is on when at least one is set.
    pub sinks: SinksConfig,
    pub node_name: String,
    pub kube_api: KubeApi,
    pub kubeconfig: Option<PathBuf>,
    /// How long a deleted pod's metadata stays in the cache.
    pub kube_delete_grace: std::time::Duration,
    /// Pod and namespace annotations kept besides `nodepulse.io/*`.
    pub kube_annotations: Vec<String>,
    /// Loki stream labels from pod labels (`--kube.stream-labels`).
    pub kube_stream_labels: Vec<crate::agent::kube::enrich::StreamLabel>,
    /// How long log shipping waits for the first pod list.
    pub kube_sync_timeout: std::time::Duration,
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
    pub fn merge(mut f: Flags, mut c: FileConfig) -> Result<Self, ConfigError> {
        let collectors = collectors::settings(&mut f, c.collectors)?;
        let pods_dir = f.pods_dir.take().or(c.logs.pods_dir.take());
        let containers_dir = f.containers_dir.take().or(c.logs.containers_dir.take());
        let logs = logs::settings(&mut f, c.logs)?;
        let sinks = sinks::settings(&mut f, c.sink)?;
        let listen = f.listen_address.or(c.web.listen_address);
        let or = |flag: Option<PathBuf>, file: Option<PathBuf>, default: &str| {
            flag.or(file).unwrap_or_else(|| default.into())
        };
        Ok(AgentConfig {
            listen_address: listen_address(listen)?,
            web_config_file: crate::web::config::checked(f.web_config_file.or(c.web.config_file))
                .map_err(|e| invalid("web.config_file", "--web.config.file", e))?,
            log_format: log_format(f.log_format.or(c.log.format))?,
            log_level: log_level(f.log_level.or(c.log.level))?,
            paths: HostPaths {
                procfs: or(f.procfs, c.path.procfs, "/proc"),
                sysfs: or(f.sysfs, c.path.sysfs, "/sys"),
                rootfs: or(f.rootfs, c.path.rootfs, "/"),
            },
            pods_dir: pods_dir.unwrap_or_else(|| defaults::PODS_DIR.into()),
            containers_dir: containers_dir.unwrap_or_else(|| defaults::CONTAINERS_DIR.into()),
            data_dir: or(f.data_dir, c.data_dir, defaults::DATA_DIR),
            logs,
            sinks,
            node_name: f
                .node_name
                .or(c.node_name)
                .unwrap_or_else(default_node_name),
            kube_api: kube_api(f.kube_api.or(c.kube.api))?,
            kubeconfig: f.kubeconfig.or(c.kube.kubeconfig),
            kube_delete_grace: duration(
                f.kube_delete_grace.or(c.kube.delete_grace),
                ("kube.delete_grace", "--kube.delete-grace"),
                crate::agent::kube::DEFAULT_DELETE_GRACE,
            )?,
            kube_annotations: f
                .kube_annotations
                .or(c.kube.annotations)
                .unwrap_or_default(),
            kube_stream_labels: kube_stream_labels(f.kube_stream_labels.or(c.kube.stream_labels))?,
            kube_sync_timeout: duration(
                f.kube_sync_timeout.or(c.kube.sync_timeout),
                ("kube.sync_timeout", "--kube.sync-timeout"),
                std::time::Duration::from_secs(10),
            )?,
            collectors,
        })
    }
}

fn listen_address(value: Option<String>) -> Result<SocketAddr, ConfigError> {
    value
        .as_deref()
        .unwrap_or(defaults::LISTEN_ADDRESS)
        .parse()
        .map_err(|e| invalid("web.listen_address", "--web.listen-address", e))
}

fn log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
    match value.as_deref() {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(o) => Err(invalid(
            "log.format",
            "--log.format",
            format!("{o:?} is not text or json"),
        )),
    }
}

fn log_level(value: Option<String>) -> Result<tracing::Level, ConfigError> {
    let level = value.unwrap_or_else(|| "info".into());
    level.parse().map_err(|_| {
        invalid(
            "log.level",
            "--log.level",
            format!("{level:?} is not a log level"),
        )
    })
}

fn kube_api(value: Option<String>) -> Result<KubeApi, ConfigError> {
    match value.as_deref() {
        None | Some("auto") => Ok(KubeApi::Auto),
        Some("off") => Ok(KubeApi::Off),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(KubeApi::Url(url.to_owned()))
        }
        Some(o) => Err(invalid(
            "kube.api",
            "--kube.api",
            format!("{o:?} is not auto, off or an http(s):// URL"),
        )),
    }
}

fn kube_stream_labels(
    value: Option<String>,
) -> Result<Vec<crate::agent::kube::enrich::StreamLabel>, ConfigError> {
    use crate::agent::kube::enrich::{parse_stream_labels, DEFAULT_STREAM_LABELS};
    let spec = value.as_deref().unwrap_or(DEFAULT_STREAM_LABELS);
    parse_stream_labels(spec).map_err(|e| invalid("kube.stream_labels", "--kube.stream-labels", e))
}

/// A duration setting (`(key, flag)` name it in errors), `default` when unset.
fn duration(
    value: Option<String>,
    (key, flag): (&'static str, &'static str),
    default: std::time::Duration,
) -> Result<std::time::Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(s) => humantime::parse_duration(&s).map_err(|e| invalid(key, flag, e)),
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
