//! The scrape part of a Prometheus configuration file, in Prometheus's own YAML shape:
//! `global` (scrape_interval, scrape_timeout, external_labels) and `scrape_configs` with
//! job_name, interval, timeout, metrics_path, scheme, params, honor_labels,
//! honor_timestamps, body_size_limit, sample_limit, static_configs,
//! kubernetes_sd_configs (roles pod and endpoints), relabel_configs and
//! metric_relabel_configs, and the HTTP client keys (authorization, basic_auth,
//! bearer_token, bearer_token_file, tls_config: [`crate::aggregator::http_client`]).
//! Unknown keys are refused (as Prometheus refuses them), so a typo is an error with its
//! place, not a silently ignored setting.

use super::kube_sd::{KubeSdConfig, KubeSdFile};
use super::relabel::{RelabelConfig, RelabelFile};
use crate::aggregator::http_client::{
    AuthorizationFile, BasicAuthFile, Client, ClientFile, Key, TlsFile,
};
use promql_parser::util::parse_duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration that cannot be used, with what and where.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    global: GlobalFile,
    #[serde(default)]
    scrape_configs: Vec<ScrapeFile>,
}

/// The `global` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalFile {
    scrape_interval: Option<String>,
    scrape_timeout: Option<String>,
    evaluation_interval: Option<String>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
}

/// One `scrape_configs` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeFile {
    job_name: String,
    scrape_interval: Option<String>,
    scrape_timeout: Option<String>,
    metrics_path: Option<String>,
    scheme: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    honor_labels: bool,
    honor_timestamps: Option<bool>,
    body_size_limit: Option<String>,
    #[serde(default)]
    sample_limit: u64,
    #[serde(default)]
    static_configs: Vec<StaticFile>,
    #[serde(default)]
    kubernetes_sd_configs: Vec<KubeSdFile>,
    #[serde(default)]
    relabel_configs: Vec<RelabelFile>,
    #[serde(default)]
    metric_relabel_configs: Vec<RelabelFile>,
    authorization: Option<AuthorizationFile>,
    basic_auth: Option<BasicAuthFile>,
    bearer_token: Option<String>,
    bearer_token_file: Option<PathBuf>,
    tls_config: Option<TlsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticFile {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The whole scrape configuration, defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub external_labels: BTreeMap<String, String>,
    pub evaluation_interval: Duration,
    pub scrape_configs: Vec<ScrapeConfig>,
}

/// One job.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    pub job_name: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub metrics_path: String,
    pub scheme: String,
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    /// Bytes of (uncompressed) body; a bigger body fails the scrape. Prometheus's
    /// default is none; ours is 64 MiB.
    pub body_size_limit: u64,
    /// Samples after metric relabelling; more fail the scrape (0: none, as Prometheus).
    pub sample_limit: u64,
    pub static_configs: Vec<StaticConfig>,
    pub kube_sd: Vec<KubeSdConfig>,
    pub relabel_configs: Vec<RelabelConfig>,
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// The `Authorization` header's source and the TLS settings.
    pub client: Client,
    /// The keys they came from, as shown (secrets hidden).
    pub client_keys: ClientFile,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaticConfig {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

/// Our default body limit (Prometheus has none): a target answering without end
/// cannot exhaust the aggregator's memory.
pub const DEFAULT_BODY_SIZE_LIMIT: u64 = 64 << 20;

impl Config {
    /// Parses and checks a Prometheus-shaped YAML document.
    pub fn parse(yaml: &str) -> Result<Config, ConfigError> {
        let file: File = serde_norway::from_str(yaml).map_err(|e| ConfigError(e.to_string()))?;
        Config::from_sections(file.global, file.scrape_configs)
    }

    /// Checks the `global` and `scrape_configs` sections of a configuration file.
    pub fn from_sections(
        global: GlobalFile,
        scrape_configs: Vec<ScrapeFile>,
    ) -> Result<Config, ConfigError> {
        let file = File {
            global,
            scrape_configs,
        };
        let g = &file.global;
        let interval = dur(g.scrape_interval.as_deref(), "global.scrape_interval", 60)?;
        let timeout = dur(g.scrape_timeout.as_deref(), "global.scrape_timeout", 10)?;
        let evaluation_interval = dur(
            g.evaluation_interval.as_deref(),
            "global.evaluation_interval",
            60,
        )?;
        let mut jobs: Vec<ScrapeConfig> = Vec::new();
        for s in file.scrape_configs {
            if jobs.iter().any(|j| j.job_name == s.job_name) {
                return Err(ConfigError(format!(
                    "found multiple scrape configs with job name {:?}",
                    s.job_name
                )));
            }
            jobs.push(scrape_config(s, interval, timeout)?);
        }
        Ok(Config {
            external_labels: file.global.external_labels,
            evaluation_interval,
            scrape_configs: jobs,
        })
    }
}

fn scrape_config(
    mut s: ScrapeFile,
    interval: Duration,
    timeout: Duration,
) -> Result<ScrapeConfig, ConfigError> {
    let job = s.job_name.clone();
    let at = |key: &str| format!("scrape_configs[{job}].{key}");
    if job.is_empty() {
        return Err(ConfigError("job_name is empty".into()));
    }
    let (client, client_keys) = client(&mut s, &at)?;
    let interval = dur(
        s.scrape_interval.as_deref(),
        &at("scrape_interval"),
        interval.as_secs(),
    )?;
    // As Prometheus: a job's timeout defaults to the global one, capped by its interval.
    let timeout = match s.scrape_timeout.as_deref() {
        Some(t) => dur(Some(t), &at("scrape_timeout"), 0)?,
        None => timeout.min(interval),
    };
    if timeout > interval {
        return Err(ConfigError(format!(
            "{}: scrape timeout greater than scrape interval",
            at("scrape_timeout")
        )));
    }
    let scheme = s.scheme.unwrap_or_else(|| "http".into());
    if scheme != "http" && scheme != "https" {
        return Err(ConfigError(format!(
            "{}: unknown scheme {scheme:?}",
            at("scheme")
        )));
    }
    let relabel = |files: Vec<RelabelFile>, key: &str| {
        files
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                f.compile()
                    .map_err(|e| ConfigError(format!("{}[{i}]: {e}", at(key))))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(ScrapeConfig {
        client,
        client_keys,
        interval,
        timeout,
        metrics_path: s.metrics_path.unwrap_or_else(|| "/metrics".into()),
        scheme,
        params: s.params,
        honor_labels: s.honor_labels,
        honor_timestamps: s.honor_timestamps.unwrap_or(true),
        body_size_limit: match s.body_size_limit.as_deref() {
            None => DEFAULT_BODY_SIZE_LIMIT,
            Some(b) => bytes(b).ok_or_else(|| {
                ConfigError(format!("{}: not a size: {b:?}", at("body_size_limit")))
            })?,
        },
        sample_limit: s.sample_limit,
        static_configs: s
            .static_configs
            .into_iter()
            .map(|c| StaticConfig {
                targets: c.targets,
                labels: c.labels,
            })
            .collect(),
        kube_sd: s
            .kubernetes_sd_configs
            .into_iter()
            .enumerate()
            .map(|(i, k)| {
                k.compile()
                    .map_err(|e| ConfigError(format!("{}[{i}]: {e}", at("kubernetes_sd_configs"))))
            })
            .collect::<Result<Vec<_>, _>>()?,
        relabel_configs: relabel(s.relabel_configs, "relabel_configs")?,
        metric_relabel_configs: relabel(s.metric_relabel_configs, "metric_relabel_configs")?,
        job_name: job,
    })
}

/// The job's HTTP client keys checked (the PEM files parsed: see
/// [`crate::aggregator::http_client::tls`]).
fn client(
    s: &mut ScrapeFile,
    at: &dyn Fn(&str) -> String,
) -> Result<(Client, ClientFile), ConfigError> {
    let keys = ClientFile {
        authorization: s.authorization.take(),
        basic_auth: s.basic_auth.take(),
        tls_config: s.tls_config.take(),
    };
    let mut keys = (keys.with_bearer(s.bearer_token.take(), s.bearer_token_file.take()))
        .map_err(|e| ConfigError(format!("scrape_configs[{}]: {e}", s.job_name)))?;
    let client = keys.compile().map_err(|(key, e)| {
        let key = match key {
            Key::Authorization => at("authorization"),
            Key::BasicAuth => at("basic_auth"),
            Key::Entry => format!("scrape_configs[{}]", s.job_name),
            Key::TlsConfig => at("tls_config"),
        };
        ConfigError(format!("{key}: {e}"))
    })?;
    Ok((client, keys))
}

/// A Prometheus duration (`15s`, `1m30s`, `1d`); `default_secs` when absent; never zero.
fn dur(s: Option<&str>, key: &str, default_secs: u64) -> Result<Duration, ConfigError> {
    let d = match s {
        None => Duration::from_secs(default_secs),
        Some(s) => parse_duration(s).map_err(|e| ConfigError(format!("{key}: {e}")))?,
    };
    if d.is_zero() {
        return Err(ConfigError(format!("{key}: must be greater than zero")));
    }
    Ok(d)
}

/// A size as Prometheus's `body_size_limit` takes it: `0`, `512KB`, `10MB`, `1GB`
/// (powers of 1024, as Go's units.Base2Bytes). `0` means none (u64::MAX here).
fn bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        _ => return None,
    };
    Some(if n == 0 {
        u64::MAX
    } else {
        n.checked_mul(mult)?
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
