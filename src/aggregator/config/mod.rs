//! The aggregator's configuration in two stages: what users write ([`Flags`],
//! [`FileConfig`]) merged and validated into [`AggregatorConfig`], the runtime settings.
//! A bad value fails at start-up with a message naming its file key and flag.

pub mod alerting;
mod file;
mod flags;
pub mod logs;
mod render;

use crate::agent::config::LogFormat;
use crate::aggregator::http::params::prometheus_duration_ms;
use crate::aggregator::promql::QueryOptions;
use crate::aggregator::remote_write::Limits;
pub use file::FileConfig;
pub use flags::Flags;
pub use render::render;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Defaults, shared by `--help`, the file and the runtime config.
pub mod defaults {
    pub const LISTEN_ADDRESS: &str = "0.0.0.0:9201";
    pub const STORAGE_PATH: &str = "./data";
    pub const RETENTION: &str = "15d";
    pub const RETENTION_SIZE: &str = "0";
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    File(String),
    #[error("invalid scrape configuration: {0}")]
    Scrape(String),
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

/// The validated configuration the aggregator runs with.
#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    pub listen_address: SocketAddr,
    /// `--web.config.file`, checked to load (served by [`crate::web`]).
    pub web_config_file: Option<PathBuf>,
    pub log_format: LogFormat,
    pub log_level: tracing::Level,
    pub storage_path: PathBuf,
    pub retention: Duration,
    /// Bytes of blocks and WAL kept (0: no limit).
    pub retention_size: u64,
    pub query: QueryOptions,
    pub write_limits: Limits,
    /// The log store and the Loki API.
    pub logs: logs::LogsConfig,
    /// What to scrape (the file's Prometheus-shaped `global` and `scrape_configs`).
    pub scrape: crate::aggregator::scrape::config::Config,
    /// Rule file globs, as Prometheus's `rule_files`, resolved against the config
    /// file's directory.
    pub rule_files: Vec<String>,
    /// Where alerts are sent (the file's `alerting` and `notifications` sections,
    /// `--alertmanager.*`).
    pub alerting: alerting::AlertingConfig,
}

impl AggregatorConfig {
    /// Flags, then the file they name, then defaults.
    pub fn load(flags: Flags) -> Result<Self, ConfigError> {
        let file = match &flags.config_file {
            Some(path) => FileConfig::read(path).map_err(ConfigError::File)?,
            None => FileConfig::default(),
        };
        Self::merge(flags, file)
    }

    pub fn merge(f: Flags, mut c: FileConfig) -> Result<Self, ConfigError> {
        let scrape = crate::aggregator::scrape::config::Config::from_sections(
            std::mem::take(&mut c.global),
            std::mem::take(&mut c.scrape_configs),
        )
        .map_err(|e| ConfigError::Scrape(e.to_string()))?;
        let query = query_options(&f, &c)?;
        let write_limits = write_limits(&c);
        let retention = duration(
            f.retention.clone().or(c.storage.retention),
            defaults::RETENTION,
            ("storage.retention", "--storage.retention"),
        )?;
        let logs = logs::merge(&f, std::mem::take(&mut c.logs), retention)?;
        let rule_files = rule_files(f.config_file.as_deref(), std::mem::take(&mut c.rule_files))?;
        let listen = f.listen_address.clone().or(c.web.listen_address);
        let listen = listen.unwrap_or_else(|| defaults::LISTEN_ADDRESS.into());
        let listen_address: SocketAddr = listen
            .parse()
            .map_err(|e| invalid("web.listen_address", "--web.listen-address", e))?;
        let external_labels = scrape.external_labels.clone().into_iter().collect();
        let alerting = alerting::merge(
            &f,
            (
                std::mem::take(&mut c.alerting),
                std::mem::take(&mut c.notifications),
            ),
            external_labels,
            default_external_url(listen_address),
        )?;
        Ok(AggregatorConfig {
            listen_address,
            web_config_file: crate::web::config::checked(
                f.web_config_file.or(c.web.config_file.take()),
            )
            .map_err(|e| invalid("web.config_file", "--web.config.file", e))?,
            log_format: log_format(f.log_format.or(c.log.format))?,
            log_level: log_level(f.log_level.or(c.log.level))?,
            storage_path: f
                .storage_path
                .or(c.storage.path)
                .unwrap_or_else(|| defaults::STORAGE_PATH.into()),
            retention,
            retention_size: bytes(
                f.retention_size.or(c.storage.retention_size),
                ("storage.retention_size", "--storage.retention.size"),
            )?,
            query,
            write_limits,
            logs,
            scrape,
            rule_files,
            alerting,
        })
    }
}

/// `rule_files` relative to the config file's directory (as Prometheus resolves them);
/// a pattern that is not a valid glob fails here rather than at the first reload.
fn rule_files(
    config: Option<&std::path::Path>,
    files: Vec<String>,
) -> Result<Vec<String>, ConfigError> {
    let dir = config
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty());
    files
        .into_iter()
        .map(|f| {
            let path = match dir {
                Some(d) if !std::path::Path::new(&f).is_absolute() => {
                    d.join(&f).display().to_string()
                }
                _ => f,
            };
            globset::Glob::new(&path)
                .map(|_| path.clone())
                .map_err(|e| ConfigError::File(format!("rule_files: {path:?}: {e}")))
        })
        .collect()
}

/// Prometheus's default `--web.external-url`: this host's name and the listen port.
fn default_external_url(listen: SocketAddr) -> String {
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy();
    format!("http://{host}:{}", listen.port())
}

fn query_options(f: &Flags, c: &FileConfig) -> Result<QueryOptions, ConfigError> {
    let d = QueryOptions::default();
    let timeout = f.query_timeout.clone().or(c.query.timeout.clone());
    let lookback = f
        .query_lookback_delta
        .clone()
        .or(c.query.lookback_delta.clone());
    Ok(QueryOptions {
        timeout: duration(timeout, "2m", ("query.timeout", "--query.timeout"))?,
        lookback: duration(
            lookback,
            "5m",
            ("query.lookback_delta", "--query.lookback-delta"),
        )?,
        max_samples: f
            .query_max_samples
            .or(c.query.max_samples)
            .unwrap_or(d.max_samples),
        max_points: c.query.max_points.unwrap_or(d.max_points),
    })
}

fn write_limits(c: &FileConfig) -> Limits {
    let d = Limits::default();
    let w = &c.remote_write;
    Limits {
        max_body_bytes: w.max_body_bytes.unwrap_or(d.max_body_bytes),
        max_decompressed_bytes: w.max_decompressed_bytes.unwrap_or(d.max_decompressed_bytes),
        max_series: w.max_series_per_request.unwrap_or(d.max_series),
        max_labels_per_series: w.max_labels_per_series.unwrap_or(d.max_labels_per_series),
    }
}

/// A positive Prometheus duration (`15d`, `2m`).
fn duration(
    value: Option<String>,
    default: &str,
    (key, flag): (&'static str, &'static str),
) -> Result<Duration, ConfigError> {
    let s = value.unwrap_or_else(|| default.into());
    match prometheus_duration_ms(&s) {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(invalid(
            key,
            flag,
            format!("{s:?} is not a positive duration such as 15d or 2m"),
        )),
    }
}

/// A byte size as Prometheus writes one (`512MB`, `1GiB`, `0`): base 2 units.
fn bytes(
    value: Option<String>,
    (key, flag): (&'static str, &'static str),
) -> Result<u64, ConfigError> {
    let s = value.unwrap_or_else(|| defaults::RETENTION_SIZE.into());
    parse_bytes(&s).ok_or_else(|| {
        invalid(
            key,
            flag,
            format!("{s:?} is not a size such as 512MB or 10GB"),
        )
    })
}

fn parse_bytes(s: &str) -> Option<u64> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim_end_matches("iB").trim_end_matches('B');
    let power = ["", "K", "M", "G", "T", "P", "E"]
        .iter()
        .position(|u| *u == unit)?;
    if unit.is_empty() && !s[digits..].is_empty() && &s[digits..] != "B" {
        return None;
    }
    n.checked_mul(1u64.checked_shl(10 * power as u32)?)
}

fn log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
    match value.as_deref().unwrap_or("text") {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(invalid(
            "log.format",
            "--log.format",
            format!("{other:?} is not text or json"),
        )),
    }
}

fn log_level(value: Option<String>) -> Result<tracing::Level, ConfigError> {
    let s = value.unwrap_or_else(|| "info".into());
    s.parse().map_err(|_| {
        invalid(
            "log.level",
            "--log.level",
            format!("{s:?} is not error, warn, info, debug or trace"),
        )
    })
}

#[cfg(test)]
mod tests;
