//! The agent's YAML configuration file, as users write it. Every key is optional and
//! unknown keys are an error, so a typo fails at start-up instead of being ignored.

use super::size::SizeValue;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub web: WebFile,
    #[serde(default)]
    pub log: LogFile,
    #[serde(default)]
    pub path: PathFile,
    #[serde(default)]
    pub logs: LogsFile,
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub sink: SinkFile,
    pub node_name: Option<String>,
    #[serde(default)]
    pub kube: KubeFile,
    #[serde(default)]
    pub collectors: CollectorsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebFile {
    pub listen_address: Option<String>,
    pub config_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    pub format: Option<String>,
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathFile {
    pub procfs: Option<PathBuf>,
    pub sysfs: Option<PathBuf>,
    pub rootfs: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsFile {
    pub pods_dir: Option<PathBuf>,
    pub containers_dir: Option<PathBuf>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub start_at: Option<String>,
    #[serde(default)]
    pub buffer: BufferFile,
    #[serde(default)]
    pub spool: SpoolFile,
    #[serde(default)]
    pub batch: BatchFile,
    pub max_line_bytes: Option<SizeValue>,
    /// A duration (`5s`).
    pub partial_flush_timeout: Option<String>,
    pub max_open_files: Option<u64>,
    /// A duration (`5m`).
    pub checkpoint_retention: Option<String>,
    #[serde(default)]
    pub redact: RedactFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferFile {
    pub max_bytes: Option<SizeValue>,
    pub when_full: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolFile {
    pub max_bytes: Option<SizeValue>,
    pub segment_bytes: Option<SizeValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    pub max_bytes: Option<SizeValue>,
    pub max_events: Option<u64>,
    /// A duration (`1s`, `250ms`).
    pub timeout: Option<String>,
}

/// `logs.redact`: the default rules on or off, and the user's rules after them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactFile {
    pub defaults: Option<bool>,
    #[serde(default)]
    pub rules: Vec<RedactRuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactRuleFile {
    pub name: String,
    pub regex: String,
    pub replacement: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkFile {
    #[serde(default)]
    pub loki: LokiFile,
    #[serde(default)]
    pub elasticsearch: ElasticsearchFile,
}

/// `sink.loki`. The HTTP keys are the same for every sink (see [`HttpFile`]); serde's
/// `flatten` would lose `deny_unknown_fields`, so they are spelled out per sink.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LokiFile {
    pub url: Option<String>,
    pub timeout: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuthFile>,
    pub ca_file: Option<PathBuf>,
    pub headers: Option<BTreeMap<String, String>>,
    pub format: Option<String>,
    pub tenant_id: Option<String>,
}

/// `sink.elasticsearch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchFile {
    pub url: Option<String>,
    pub timeout: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuthFile>,
    pub ca_file: Option<PathBuf>,
    pub headers: Option<BTreeMap<String, String>>,
    pub index: Option<String>,
}

/// Basic auth; the password is read from a file (a mounted Secret), never written here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthFile {
    pub username: String,
    pub password_file: PathBuf,
}

/// The HTTP keys every sink has, taken out of its section.
#[derive(Debug, Default)]
pub struct HttpFile {
    pub timeout: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuthFile>,
    pub ca_file: Option<PathBuf>,
    pub headers: BTreeMap<String, String>,
}

impl LokiFile {
    pub fn take_http(&mut self) -> HttpFile {
        HttpFile {
            timeout: self.timeout.take(),
            bearer_token_file: self.bearer_token_file.take(),
            basic_auth: self.basic_auth.take(),
            ca_file: self.ca_file.take(),
            headers: self.headers.take().unwrap_or_default(),
        }
    }
}

impl ElasticsearchFile {
    pub fn take_http(&mut self) -> HttpFile {
        HttpFile {
            timeout: self.timeout.take(),
            bearer_token_file: self.bearer_token_file.take(),
            basic_auth: self.basic_auth.take(),
            ca_file: self.ca_file.take(),
            headers: self.headers.take().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeFile {
    pub api: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub delete_grace: Option<String>,
    pub annotations: Option<Vec<String>>,
    pub stream_labels: Option<String>,
    pub sync_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorsFile {
    pub disable: Option<Vec<String>>,
    #[serde(default)]
    pub filesystem: FilesystemFile,
    #[serde(default)]
    pub diskstats: DeviceExcludeFile,
    #[serde(default)]
    pub netdev: DeviceExcludeFile,
    #[serde(default)]
    pub netclass: NetclassFile,
    #[serde(default)]
    pub netstat: FieldsFile,
    #[serde(default)]
    pub vmstat: FieldsFile,
    #[serde(default)]
    pub textfile: TextfileFile,
    #[serde(default)]
    pub containers: super::containers::ContainersFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextfileFile {
    pub directory: Option<PathBuf>,
    pub max_file_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesystemFile {
    pub mount_points_exclude: Option<String>,
    pub fs_types_exclude: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub mount_timeout: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceExcludeFile {
    pub device_exclude: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetclassFile {
    pub ignored_devices: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsFile {
    pub fields: Option<String>,
}

impl FileConfig {
    /// Parses a configuration document; the error names the key and its position.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(FileConfig::default());
        }
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading config file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }
}
