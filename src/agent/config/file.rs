//! The agent's YAML configuration file, as users write it. Every key is optional and
//! unknown keys are an error, so a typo fails at start-up instead of being ignored.

use serde::Deserialize;
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
    pub buffer: MaxBytesFile,
    #[serde(default)]
    pub spool: MaxBytesFile,
}

/// `logs.buffer` and `logs.spool`: a size in bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxBytesFile {
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkFile {
    #[serde(default)]
    pub loki: UrlFile,
    #[serde(default)]
    pub elasticsearch: UrlFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlFile {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeFile {
    pub api: Option<String>,
    pub kubeconfig: Option<PathBuf>,
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
