//! `nodepulse-aggregator`: parse flags, load and validate the config, open the TSDB
//! (its blocks, then its WAL replayed; compaction and retention run in the background), start the scrape loops, serve the Prometheus HTTP API
//! (remote_write included) until SIGTERM or SIGINT, then stop the loops (their series
//! marked stale).

use anyhow::Context;
use clap::Parser;
use nodepulse::aggregator::config::{AggregatorConfig, Flags};
use nodepulse::aggregator::http::{self, Api};
use nodepulse::aggregator::scrape::Manager;
use nodepulse::aggregator::tsdb::{Tsdb, TsdbOptions};
use std::sync::Arc;

fn main() {
    if let Err(e) = run() {
        eprintln!("nodepulse-aggregator: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let check_only = flags.check_config;
    let config = AggregatorConfig::load(flags).context("invalid configuration")?;
    if check_only {
        print!("{}", nodepulse::aggregator::config::render(&config));
        return Ok(());
    }
    nodepulse::agent::logging::init(config.log_format, config.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen_address)
            .await
            .with_context(|| format!("binding {}", config.listen_address))?;
        let opts = TsdbOptions {
            retention_ms: i64::try_from(config.retention.as_millis()).unwrap_or(i64::MAX),
            retention_bytes: config.retention_size,
            ..TsdbOptions::default()
        };
        let store = Tsdb::open(&config.storage_path, opts)
            .with_context(|| format!("opening storage in {}", config.storage_path.display()))?;
        tracing::info!(replayed = ?store.open_stats(), "Storage opened.");
        let store = Arc::new(store);
        let scrape = Arc::new(Manager::start(&config.scrape, store.clone()));
        let mut api = Api::new(store.clone(), store.clone());
        api.query = config.query.clone();
        api.write_limits = config.write_limits.clone();
        api.scrape = Some(scrape.clone());
        let metrics_of = store.clone();
        api.storage_metrics = Some(Arc::new(move || metrics_of.metrics().families()));
        api.config_yaml = nodepulse::aggregator::config::render(&config);
        tracing::info!(address = %config.listen_address, path = %config.storage_path.display(),
            jobs = config.scrape.scrape_configs.len(), "Serving the Prometheus API.");
        http::serve(listener, Arc::new(api), nodepulse::shutdown::signal()).await?;
        // The targets go away with us: their series end with staleness markers.
        scrape.stop().await;
        tracing::info!("Shut down cleanly.");
        Ok(())
    })
}
