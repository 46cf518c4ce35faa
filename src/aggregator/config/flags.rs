//! The aggregator's command line (node_exporter's dotted flag style). Every flag has a
//! `NODEPULSE_*` environment variable and a config-file key; a flag or variable that is
//! set wins over the file, the file over the default ([`super::defaults`]).

use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, Parser)]
#[command(
    name = "nodepulse-aggregator",
    version,
    about = "The cluster's embedded metrics back end: accepts Prometheus remote_write, \
             stores samples and answers PromQL through the Prometheus HTTP API."
)]
pub struct Flags {
    /// Address to serve the Prometheus HTTP API on [default: 0.0.0.0:9201].
    #[arg(long = "web.listen-address", env = "NODEPULSE_WEB_LISTEN_ADDRESS")]
    pub listen_address: Option<String>,

    /// Web configuration file (the exporter toolkit's: TLS, client certificates,
    /// basic-auth users, headers), read again when it changes [default: none].
    #[arg(long = "web.config.file", env = "NODEPULSE_WEB_CONFIG_FILE")]
    pub web_config_file: Option<PathBuf>,

    /// YAML configuration file; flags and environment variables override its keys.
    #[arg(long = "config.file", env = "NODEPULSE_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,

    /// Log format: text or json [default: text].
    #[arg(long = "log.format", env = "NODEPULSE_LOG_FORMAT")]
    pub log_format: Option<String>,

    /// Log level: error, warn, info, debug or trace [default: info].
    #[arg(long = "log.level", env = "NODEPULSE_LOG_LEVEL")]
    pub log_level: Option<String>,

    /// Directory of the metrics store [default: ./data].
    #[arg(long = "storage.path", env = "NODEPULSE_STORAGE_PATH")]
    pub storage_path: Option<PathBuf>,

    /// How long samples are kept, as a Prometheus duration (15d, 12h) [default: 15d].
    #[arg(long = "storage.retention", env = "NODEPULSE_STORAGE_RETENTION")]
    pub retention: Option<String>,

    /// Most bytes the blocks and WAL may take (512MB, 10GB; 0 = no limit); the oldest
    /// blocks are deleted first [default: 0].
    #[arg(
        long = "storage.retention.size",
        env = "NODEPULSE_STORAGE_RETENTION_SIZE"
    )]
    pub retention_size: Option<String>,

    /// How long log chunks are kept (a Prometheus duration; 0s: no age limit)
    /// [default: --storage.retention].
    #[arg(long = "logs.retention", env = "NODEPULSE_LOGS_RETENTION")]
    pub logs_retention: Option<String>,

    /// Most bytes the log chunks may take (512MB, 10GB; 0 = no limit); the oldest
    /// chunks are deleted first [default: 0].
    #[arg(long = "logs.retention.size", env = "NODEPULSE_LOGS_RETENTION_SIZE")]
    pub logs_retention_size: Option<String>,

    /// Longest a query may run, as a Prometheus duration [default: 2m].
    #[arg(long = "query.timeout", env = "NODEPULSE_QUERY_TIMEOUT")]
    pub query_timeout: Option<String>,

    /// Samples a query may hold in memory at once [default: 50000000].
    #[arg(long = "query.max-samples", env = "NODEPULSE_QUERY_MAX_SAMPLES")]
    pub query_max_samples: Option<usize>,

    /// How far back an instant selector looks for a sample [default: 5m].
    #[arg(long = "query.lookback-delta", env = "NODEPULSE_QUERY_LOOKBACK_DELTA")]
    pub query_lookback_delta: Option<String>,

    /// An Alertmanager to send alerts to (its API v2 under this URL's path); repeat
    /// the flag for several. Adds to the file's `alerting.alertmanagers`.
    #[arg(
        long = "alertmanager.url",
        env = "NODEPULSE_ALERTMANAGER_URL",
        value_delimiter = ','
    )]
    pub alertmanager_urls: Vec<String>,

    /// Alerts each notification destination's queue holds; beyond it the oldest are
    /// dropped and counted [default: 10000].
    #[arg(
        long = "alertmanager.notification-queue-capacity",
        env = "NODEPULSE_ALERTMANAGER_NOTIFICATION_QUEUE_CAPACITY"
    )]
    pub notification_queue_capacity: Option<usize>,

    /// Check the configuration (flags, environment and file) and the rule files it
    /// names, print the configuration as it would run, and exit: 0 when all is valid,
    /// 1 with every reason when not (a rule file's errors with their lines).
    #[arg(long = "check-config")]
    pub check_config: bool,
}
