//! The running configuration as YAML, every default filled in, for
//! `/api/v1/status/config` (Prometheus shows its loaded configuration the same way):
//! our sections first, then Prometheus's `global`, `alerting` and `scrape_configs` with its key
//! names and durations written as Prometheus writes them (`1m`, `15d`).

use super::AggregatorConfig;
use crate::agent::config::LogFormat;
use crate::aggregator::scrape::config::{ScrapeConfig, StaticConfig};
use crate::aggregator::scrape::kube_sd::{KubeSdConfig, Role};
use crate::aggregator::scrape::relabel::RelabelConfig;
use promql_parser::util::display_duration;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Serialize)]
struct Shown<'a> {
    web: BTreeMap<&'static str, String>,
    log: BTreeMap<&'static str, String>,
    storage: BTreeMap<&'static str, String>,
    query: Query,
    remote_write: BTreeMap<&'static str, usize>,
    logs: super::logs::LogsFile,
    notifications: &'a super::alerting::NotificationsFile,
    global: Global<'a>,
    alerting: &'a super::alerting::AlertingFile,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    rule_files: &'a [String],
    scrape_configs: Vec<Job<'a>>,
}

#[derive(Serialize)]
struct Query {
    timeout: String,
    lookback_delta: String,
    max_samples: usize,
    max_points: usize,
}

#[derive(Serialize)]
struct Global<'a> {
    evaluation_interval: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    external_labels: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Job<'a> {
    job_name: &'a str,
    honor_labels: bool,
    honor_timestamps: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    params: &'a BTreeMap<String, Vec<String>>,
    scrape_interval: String,
    scrape_timeout: String,
    metrics_path: &'a str,
    scheme: &'a str,
    body_size_limit: String,
    sample_limit: u64,
    #[serde(flatten)]
    client: &'a crate::aggregator::http_client::ClientFile,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubernetes_sd_configs: Vec<Sd<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<Static<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    relabel_configs: &'a [RelabelConfig],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    metric_relabel_configs: &'a [RelabelConfig],
}

#[derive(Serialize)]
struct Sd<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespaces: Option<Names<'a>>,
}

#[derive(Serialize)]
struct Names<'a> {
    names: &'a [String],
}

#[derive(Serialize)]
struct Static<'a> {
    targets: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
}

/// The configuration `c` as YAML.
pub fn render(c: &AggregatorConfig) -> String {
    let q = &c.query;
    let w = &c.write_limits;
    let log_format = match c.log_format {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    };
    let shown = Shown {
        web: [("listen_address", c.listen_address.to_string())]
            .into_iter()
            .chain(
                c.web_config_file
                    .iter()
                    .map(|p| ("config_file", p.display().to_string())),
            )
            .collect(),
        log: [
            ("format", log_format.to_owned()),
            ("level", c.log_level.to_string().to_lowercase()),
        ]
        .into(),
        storage: [
            ("path", c.storage_path.display().to_string()),
            ("retention", duration(c.retention)),
            ("retention_size", bytes(c.retention_size)),
        ]
        .into(),
        query: Query {
            timeout: duration(q.timeout),
            lookback_delta: duration(q.lookback),
            max_samples: q.max_samples,
            max_points: q.max_points,
        },
        remote_write: [
            ("max_body_bytes", w.max_body_bytes),
            ("max_decompressed_bytes", w.max_decompressed_bytes),
            ("max_series_per_request", w.max_series),
            ("max_labels_per_series", w.max_labels_per_series),
        ]
        .into(),
        logs: super::logs::shown(&c.logs),
        notifications: &c.alerting.notifications,
        global: Global {
            evaluation_interval: duration(c.scrape.evaluation_interval),
            external_labels: &c.scrape.external_labels,
        },
        alerting: &c.alerting.alerting,
        rule_files: &c.rule_files,
        scrape_configs: c.scrape.scrape_configs.iter().map(job).collect(),
    };
    serde_norway::to_string(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
}

fn job(j: &ScrapeConfig) -> Job<'_> {
    Job {
        job_name: &j.job_name,
        honor_labels: j.honor_labels,
        honor_timestamps: j.honor_timestamps,
        params: &j.params,
        scrape_interval: duration(j.interval),
        scrape_timeout: duration(j.timeout),
        metrics_path: &j.metrics_path,
        scheme: &j.scheme,
        body_size_limit: bytes(j.body_size_limit),
        sample_limit: j.sample_limit,
        client: &j.client_keys,
        kubernetes_sd_configs: j.kube_sd.iter().map(sd).collect(),
        static_configs: j.static_configs.iter().map(static_config).collect(),
        relabel_configs: &j.relabel_configs,
        metric_relabel_configs: &j.metric_relabel_configs,
    }
}

fn sd(s: &KubeSdConfig) -> Sd<'_> {
    Sd {
        role: match s.role {
            Role::Pod => "pod",
            Role::Endpoints => "endpoints",
        },
        api_server: s.api_server.as_deref(),
        namespaces: (!s.namespaces.is_empty()).then_some(Names {
            names: &s.namespaces,
        }),
    }
}

fn static_config(s: &StaticConfig) -> Static<'_> {
    Static {
        targets: &s.targets,
        labels: &s.labels,
    }
}

fn duration(d: Duration) -> String {
    display_duration(&d)
}

/// Bytes as Prometheus's `units.Base2Bytes` prints them (`64MiB`, `0B`).
pub(super) fn bytes(n: u64) -> String {
    let units = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    match units.iter().find(|(_, size)| n > 0 && n % size == 0) {
        Some((unit, size)) => format!("{}{unit}", n / size),
        None => format!("{n}B"),
    }
}
