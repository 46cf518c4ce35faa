//! The aggregator's YAML configuration file, as users write it. Every key is optional
//! and unknown keys are an error, so a typo fails at start-up instead of being ignored.

pub use crate::agent::config::{LogFile, WebFile};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub web: WebFile,
    #[serde(default)]
    pub log: LogFile,
    #[serde(default)]
    pub storage: StorageFile,
    #[serde(default)]
    pub query: QueryFile,
    #[serde(default)]
    pub remote_write: RemoteWriteFile,
    /// The log store, the Loki push receiver's limits and the Loki API's tokens.
    #[serde(default)]
    pub logs: super::logs::LogsFile,
    /// Prometheus's own `global` section (scrape interval, timeout, external labels).
    #[serde(default)]
    pub global: crate::aggregator::scrape::config::GlobalFile,
    /// Prometheus's `rule_files`: globs, relative to this file's directory.
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Webhooks, the notification queue's capacity, the payloads' external URL.
    #[serde(default)]
    pub notifications: super::alerting::NotificationsFile,
    /// Prometheus's own `alerting` section (Alertmanagers).
    #[serde(default)]
    pub alerting: super::alerting::AlertingFile,
    /// Prometheus's own `scrape_configs` section.
    #[serde(default)]
    pub scrape_configs: Vec<crate::aggregator::scrape::config::ScrapeFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageFile {
    pub path: Option<PathBuf>,
    /// A Prometheus duration (`15d`).
    pub retention: Option<String>,
    /// Bytes with a unit (`512MB`, `10GB`; base 2, as Prometheus's); 0: no limit.
    pub retention_size: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryFile {
    pub timeout: Option<String>,
    pub max_samples: Option<usize>,
    pub lookback_delta: Option<String>,
    pub max_points: Option<usize>,
}

/// The remote_write receiver's limits (see `remote_write::Limits`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteFile {
    pub max_body_bytes: Option<usize>,
    pub max_decompressed_bytes: Option<usize>,
    pub max_series_per_request: Option<usize>,
    pub max_labels_per_series: Option<usize>,
}

impl FileConfig {
    /// Reads and parses `path`; errors name the file.
    pub fn read(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses YAML text; an empty document is all defaults.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        if text.trim().is_empty() {
            return Ok(FileConfig::default());
        }
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }
}
