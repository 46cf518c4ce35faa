//! The aggregator: scrape, store and query metrics and logs (see DESIGN.md). So far:
//! the shared data model and storage interfaces ([`model`]), scraping with static and
//! Kubernetes targets ([`scrape`]), the remote_write receiver ([`remote_write`]), the
//! on-disk store ([`tsdb`]), PromQL ([`promql`]), the Prometheus HTTP API ([`http`]),
//! the configuration ([`config`]); for logs, Loki's push API and metadata endpoints
//! ([`loki`]), the log store ([`logstore`]) and LogQL ([`logql`]); alert notifications
//! to Alertmanagers and webhooks ([`notify`]); the configuration's reload ([`reload`]);
//! Prometheus's HTTP client keys for scrapes and notifications ([`http_client`]).

pub mod config;
pub mod http;
pub mod http_client;
pub mod logql;
pub mod logstore;
pub mod loki;
pub mod model;
pub mod notify;
pub mod promql;
pub mod reload;
pub mod remote_write;
pub mod rules;
pub mod scrape;
pub mod tsdb;
