//! The `logs` section: the log store's retention and memory bounds, the Loki push
//! receiver's limits (Loki's own key names and defaults, `limits_config`), and the
//! bearer tokens of the Loki API, read from files. One key feeds both sides where
//! both check the same thing (`creation_grace_period`, `max_line_size`).

use super::{bytes, invalid, ConfigError, Flags};
use crate::aggregator::http::params::prometheus_duration_ms;
use crate::aggregator::logstore::block::Layout;
use crate::aggregator::logstore::LogStoreOptions;
use crate::aggregator::loki::{LokiAuth, LokiLimits};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The section as users write it; every key optional.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogsFile {
    /// Chunks older than this are deleted (`0s`: kept until `retention_size`);
    /// default: `storage.retention`.
    pub retention: Option<String>,
    /// Bytes of chunks kept (`10GB`; 0: no limit).
    pub retention_size: Option<String>,
    /// Streams the store holds at once (100000).
    pub max_streams_held: Option<usize>,
    /// Bytes of chunks held in memory before the biggest are written (128MiB).
    pub max_memory: Option<String>,
    /// The chunk format written: 3 (templates and variable columns, the default) or 2
    /// (lines as pushed). Chunks of every format are read whatever this is.
    pub chunk_format: Option<u8>,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub auth: AuthFile,
}

/// Loki's `limits_config` keys that the push receiver honours.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_body_size: Option<String>,
    pub max_decompressed_size: Option<String>,
    pub max_line_size: Option<String>,
    pub max_line_size_truncate: Option<bool>,
    pub max_label_names_per_series: Option<usize>,
    pub max_label_name_length: Option<usize>,
    pub max_label_value_length: Option<usize>,
    pub max_structured_metadata_size: Option<String>,
    pub max_structured_metadata_entries_count: Option<usize>,
    pub max_global_streams_per_user: Option<usize>,
    pub ingestion_rate_mb: Option<f64>,
    pub ingestion_burst_size_mb: Option<f64>,
    pub reject_old_samples: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_old_samples_max_age: Option<String>,
    pub creation_grace_period: Option<String>,
    /// Open `/loki/api/v1/tail` websockets (10).
    pub max_concurrent_tail_requests: Option<usize>,
    /// A tail is closed after this long (Loki's querier `tail_max_duration`, 1h).
    pub tail_max_duration: Option<String>,
}

/// Files holding the bearer tokens (one line each); unset: that side is open.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingest_token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_token_file: Option<PathBuf>,
}

/// What the log store and the Loki routes run with.
#[derive(Debug, Clone)]
pub struct LogsConfig {
    pub store: LogStoreOptions,
    pub limits: LokiLimits,
    pub auth: LokiAuth,
    /// Where the tokens came from (shown instead of the tokens).
    pub auth_files: AuthFile,
}

/// Flags over the file over the defaults; `storage_retention` is the default age.
pub fn merge(
    f: &Flags,
    c: LogsFile,
    storage_retention: Duration,
) -> Result<LogsConfig, ConfigError> {
    let mut store = LogStoreOptions::default();
    let retention = f.logs_retention.clone().or(c.retention);
    store.retention = match retention {
        Some(s) => age(&s, ("logs.retention", "--logs.retention"))?,
        None => storage_retention,
    };
    let size = f.logs_retention_size.clone().or(c.retention_size);
    store.retention_bytes = bytes(size, ("logs.retention_size", "--logs.retention.size"))?;
    store.max_streams = c.max_streams_held.unwrap_or(store.max_streams);
    if let Some(m) = c.max_memory {
        store.max_memory_bytes = size_key(&m, "logs.max_memory")?;
    }
    if let Some(n) = c.chunk_format {
        store.block_layout = Layout::written_as(n).ok_or_else(|| {
            invalid(
                "logs.chunk_format",
                "--config.file",
                format!(
                    "{n} is not a chunk format this version writes (2 or 4; 3 is written as 4)"
                ),
            )
        })?;
    }
    let limits = limits(c.limits)?;
    store.creation_grace = limits.creation_grace;
    store.max_line_bytes = match limits.max_line_size {
        0 => limits.max_decompressed_bytes,
        n => n,
    };
    store
        .validate()
        .map_err(|e| invalid("logs", "--config.file", e))?;
    let auth = LokiAuth {
        ingest_token: token(
            c.auth.ingest_token_file.as_deref(),
            "logs.auth.ingest_token_file",
        )?,
        query_token: token(
            c.auth.query_token_file.as_deref(),
            "logs.auth.query_token_file",
        )?,
    };
    Ok(LogsConfig {
        store,
        limits,
        auth,
        auth_files: c.auth,
    })
}

fn limits(l: LimitsFile) -> Result<LokiLimits, ConfigError> {
    let d = LokiLimits::default();
    let size = |v: Option<String>, key, default: usize| match v {
        Some(s) => size_key(&s, key),
        None => Ok(default),
    };
    let rate = |v: Option<f64>, key: &'static str, default: u64| match v {
        Some(mb) if mb.is_finite() && mb > 0.0 => Ok((mb * (1u64 << 20) as f64) as u64),
        Some(mb) => Err(invalid(
            key,
            "--config.file",
            format!("{mb} is not a positive number of MiB"),
        )),
        None => Ok(default),
    };
    let older = match (l.reject_old_samples, l.reject_old_samples_max_age) {
        (Some(false), _) => None,
        (_, Some(s)) => Some(age(
            &s,
            ("logs.limits.reject_old_samples_max_age", "--config.file"),
        )?),
        (_, None) => d.reject_older_than,
    };
    let grace = match l.creation_grace_period {
        Some(s) => age(&s, ("logs.limits.creation_grace_period", "--config.file"))?,
        None => d.creation_grace,
    };
    let tail = match l.tail_max_duration {
        Some(s) => age(&s, ("logs.limits.tail_max_duration", "--config.file"))?,
        None => d.tail_max_duration,
    };
    Ok(LokiLimits {
        max_body_bytes: size(
            l.max_body_size,
            "logs.limits.max_body_size",
            d.max_body_bytes,
        )?,
        max_decompressed_bytes: size(
            l.max_decompressed_size,
            "logs.limits.max_decompressed_size",
            d.max_decompressed_bytes,
        )?,
        max_line_size: size(
            l.max_line_size,
            "logs.limits.max_line_size",
            d.max_line_size,
        )?,
        truncate_long_lines: l.max_line_size_truncate.unwrap_or(d.truncate_long_lines),
        max_label_names: l.max_label_names_per_series.unwrap_or(d.max_label_names),
        max_label_name_length: l.max_label_name_length.unwrap_or(d.max_label_name_length),
        max_label_value_length: l.max_label_value_length.unwrap_or(d.max_label_value_length),
        max_metadata_bytes: size(
            l.max_structured_metadata_size,
            "logs.limits.max_structured_metadata_size",
            d.max_metadata_bytes,
        )?,
        max_metadata_entries: l
            .max_structured_metadata_entries_count
            .unwrap_or(d.max_metadata_entries),
        max_streams: l.max_global_streams_per_user.unwrap_or(d.max_streams),
        ingestion_rate_bytes: rate(
            l.ingestion_rate_mb,
            "logs.limits.ingestion_rate_mb",
            d.ingestion_rate_bytes,
        )?,
        ingestion_burst_bytes: rate(
            l.ingestion_burst_size_mb,
            "logs.limits.ingestion_burst_size_mb",
            d.ingestion_burst_bytes,
        )?,
        reject_older_than: older,
        creation_grace: grace,
        max_tailers: l.max_concurrent_tail_requests.unwrap_or(d.max_tailers),
        tail_max_duration: tail,
        ..d
    })
}

/// A non-negative Prometheus duration (`0s`, `10m`, `1w`).
fn age(s: &str, (key, flag): (&'static str, &'static str)) -> Result<Duration, ConfigError> {
    match prometheus_duration_ms(s) {
        Some(ms) if ms >= 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(invalid(
            key,
            flag,
            format!("{s:?} is not a duration such as 10m or 1w"),
        )),
    }
}

fn size_key(s: &str, key: &'static str) -> Result<usize, ConfigError> {
    let n = bytes(Some(s.to_owned()), (key, "--config.file"))?;
    usize::try_from(n).map_err(|_| invalid(key, "--config.file", "too large"))
}

/// The first line of `path`, which must not be empty.
fn token(path: Option<&Path>, key: &'static str) -> Result<Option<String>, ConfigError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(
            key,
            "--config.file",
            format!("reading {}: {e}", path.display()),
        )
    })?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(invalid(
            key,
            "--config.file",
            format!("{} holds no token", path.display()),
        ));
    }
    Ok(Some(token.to_owned()))
}

/// The section as it runs, every default filled in, in the file's own keys.
pub fn shown(c: &LogsConfig) -> LogsFile {
    let s = &c.store;
    let l = &c.limits;
    let size = |n: usize| Some(super::render::bytes(n as u64));
    let dur = |d: Duration| Some(promql_parser::util::display_duration(&d));
    let mb = |b: u64| Some(b as f64 / (1u64 << 20) as f64);
    LogsFile {
        retention: dur(s.retention),
        retention_size: Some(super::render::bytes(s.retention_bytes)),
        max_streams_held: Some(s.max_streams),
        max_memory: size(s.max_memory_bytes),
        chunk_format: Some(s.block_layout.written_format()),
        limits: LimitsFile {
            max_body_size: size(l.max_body_bytes),
            max_decompressed_size: size(l.max_decompressed_bytes),
            max_line_size: size(l.max_line_size),
            max_line_size_truncate: Some(l.truncate_long_lines),
            max_label_names_per_series: Some(l.max_label_names),
            max_label_name_length: Some(l.max_label_name_length),
            max_label_value_length: Some(l.max_label_value_length),
            max_structured_metadata_size: size(l.max_metadata_bytes),
            max_structured_metadata_entries_count: Some(l.max_metadata_entries),
            max_global_streams_per_user: Some(l.max_streams),
            ingestion_rate_mb: mb(l.ingestion_rate_bytes),
            ingestion_burst_size_mb: mb(l.ingestion_burst_bytes),
            reject_old_samples: Some(l.reject_older_than.is_some()),
            reject_old_samples_max_age: l.reject_older_than.and_then(dur),
            creation_grace_period: dur(l.creation_grace),
            max_concurrent_tail_requests: Some(l.max_tailers),
            tail_max_duration: dur(l.tail_max_duration),
        },
        auth: c.auth_files.clone(),
    }
}
