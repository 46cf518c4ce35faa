//! `nodepulse-aggregator`: parse flags, load and validate the config, open the TSDB
//! (its blocks, then its WAL replayed; compaction and retention run in the background)
//! and the log store (`<storage.path>/logs`; chunk cutting and retention on a timer),
//! start the scrape loops, the notifier and the rule groups (evaluated on their ticks
//! and right after each stored scrape; SIGHUP or `POST /-/reload` re-reads the
//! configuration file and the rule files, `aggregator::reload`), serve the Prometheus HTTP API (remote_write, rules and alerts included) and
//! Loki's push API until SIGTERM or SIGINT, then stop the loops (their series marked
//! stale), the rules and the notifier (what it holds is sent once more) and write the
//! log store's open chunks.

use anyhow::Context;
use clap::Parser;
use nodepulse::aggregator::config::{AggregatorConfig, Flags};
use nodepulse::aggregator::http::{self, Api};
use nodepulse::aggregator::logstore::{LogStore, LogStoreOptions};
use nodepulse::aggregator::loki::LokiApi;
use nodepulse::aggregator::notify::{metrics, Notifier};
use nodepulse::aggregator::reload::{self, Reloader};
use nodepulse::aggregator::rules;
use nodepulse::aggregator::scrape::Manager;
use nodepulse::aggregator::tsdb::{Tsdb, TsdbOptions};
use std::sync::{Arc, Weak};
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("nodepulse-aggregator: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let check_only = flags.check_config;
    let config = AggregatorConfig::load(flags.clone()).context("invalid configuration")?;
    if check_only {
        print!("{}", nodepulse::aggregator::config::render(&config));
        return check_rule_files(&config.rule_files);
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
        let web = (config.web_config_file.as_deref())
            .map(|p| nodepulse::web::Web::open(p, http::OPEN_PATHS))
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("--web.config.file")?;
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
        let logs = open_logs(&config.storage_path.join("logs"), &config.logs.store)?;
        let mut loki = LokiApi::new(logs.clone(), logs.clone());
        loki.limits = config.logs.limits.clone();
        loki.auth = config.logs.auth.clone();
        let loki = Arc::new(loki);
        api.loki = Some(loki.clone());
        let (metrics_of, logs_of) = (store.clone(), logs.clone());
        api.storage_metrics = Some(Arc::new(move || {
            let mut rows = metrics_of.metrics().families();
            rows.extend(logs_of.metrics());
            rows
        }));
        let notifier =
            Arc::new(Notifier::start(&config.alerting.notify).context("starting the notifier")?);
        let rules = start_rules(&config, &store, &logs, &notifier).await?;
        let shown = notifier.clone();
        api.extra_metrics
            .push(Arc::new(move || metrics::text(&shown.metrics())));
        let listed = notifier.clone();
        api.alertmanagers = Some(Arc::new(move || listed.alertmanagers()));
        tokio::spawn(eval_after_scrapes(scrape.clone(), rules.clone()));
        tokio::spawn(eval_after_pushes(loki, rules.clone()));
        tracing::info!(address = %config.listen_address, path = %config.storage_path.display(),
            jobs = config.scrape.scrape_configs.len(), "Serving the Prometheus API.");
        let reloader = Arc::new(Reloader::new(
            flags,
            config,
            scrape.clone(),
            notifier.clone(),
            rules.clone(),
        ));
        api.config_yaml = reloader.config_yaml.clone();
        api.external_labels = reloader.external_labels.clone();
        api.rules = Some(reloader.clone());
        let shown = reloader.clone();
        api.extra_metrics
            .push(Arc::new(move || shown.metrics_text()));
        tokio::spawn(reload_on_sighup(reloader));
        http::serve(listener, Arc::new(api), web, nodepulse::shutdown::signal()).await?;
        // The targets go away with us: their series end with staleness markers.
        scrape.stop().await;
        rules.stop().await;
        notifier.stop().await;
        logs.shutdown()
            .context("writing the log store's open chunks")?;
        tracing::info!("Shut down cleanly.");
        Ok(())
    })
}

/// Loads the rule files (a bad one fails the start, as in Prometheus) and starts every
/// group's loop; alerts go to the notifier.
async fn start_rules(
    config: &AggregatorConfig,
    store: &Arc<Tsdb>,
    logs: &Arc<LogStore>,
    notifier: &Arc<Notifier>,
) -> anyhow::Result<Arc<rules::Manager>> {
    let opts = reload::rule_options(config, config.query.clone());
    let ctx = Arc::new(rules::RuleContext {
        metrics: store.clone(),
        appender: store.clone(),
        logs: Some(logs.clone()),
        sink: notifier.clone(),
        opts,
    });
    let clock = Arc::new(rules::run::SystemClock);
    let manager = Arc::new(rules::Manager::new(ctx, clock, config.rule_files.clone()));
    manager.reload().await.context("loading the rule files")?;
    tracing::info!(groups = manager.snapshot().len(), "Rules loaded.");
    Ok(manager)
}

/// SIGHUP re-reads the configuration and rule files; a bad one is logged and what runs
/// keeps running.
async fn reload_on_sighup(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!(
            "Cannot listen for SIGHUP: the configuration reloads only on POST /-/reload."
        );
        return;
    };
    while hangups.recv().await.is_some() {
        if let Err(e) = reloader.reload().await {
            tracing::error!(error = %e, "Configuration not reloaded.");
        }
    }
}

/// `--check-config`'s check of the rule files, as `promtool check config` does it:
/// a count on stderr (stdout holds the configuration), or every error.
fn check_rule_files(patterns: &[String]) -> anyhow::Result<()> {
    match rules::manager::check_files(patterns) {
        Ok((files, groups)) => {
            eprintln!("SUCCESS: {files} rule files found, {groups} groups");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("invalid rule files:\n{}", e.0.join("\n"))),
    }
}

/// Evaluates the groups that read what a scrape stored right after it is stored, as
/// well as on their ticks, so a crossing is not a whole interval late (issue 7's time
/// to detect). A group already being evaluated is woken once more at most; each group
/// spaces its extra evaluations itself (`rules::run::extra_at`: 10 ms at least, and a
/// tenth of a core at most), so a scrape is not held back by other targets' scrapes.
async fn eval_after_scrapes(scrape: Arc<Manager>, rules: Arc<rules::Manager>) {
    let mut stored = scrape.stats().scrapes_stored.subscribe();
    while stored.changed().await.is_ok() {
        let names = scrape.stats().take_names_stored();
        rules.eval_now_reading(&|name| names.contains(name));
    }
}

/// Evaluates the LogQL groups right after a push is stored, as well as on their ticks
/// (a jump in error lines is seen at once, not a tick later); spaced by each group as
/// after scrapes.
async fn eval_after_pushes(loki: Arc<LokiApi>, rules: Arc<rules::Manager>) {
    let mut stored = loki.stats.pushes_stored.subscribe();
    while stored.changed().await.is_ok() {
        rules.eval_now_reading_logs();
    }
}

/// How often the log store cuts idle chunks and applies retention.
const LOG_MAINTENANCE_EVERY: Duration = Duration::from_secs(30);

/// Opens the log store (its WAL replayed) and starts its maintenance timer, which ends
/// when the store is dropped.
fn open_logs(dir: &std::path::Path, opts: &LogStoreOptions) -> anyhow::Result<Arc<LogStore>> {
    let logs = LogStore::open(dir, opts.clone())
        .with_context(|| format!("opening the log store in {}", dir.display()))?;
    tracing::info!(opened = ?logs.open_stats(), "Log store opened.");
    let logs = Arc::new(logs);
    let weak: Weak<LogStore> = Arc::downgrade(&logs);
    std::thread::spawn(move || loop {
        std::thread::sleep(LOG_MAINTENANCE_EVERY);
        let Some(logs) = weak.upgrade() else { return };
        if let Err(e) = logs.maintain() {
            tracing::error!(error = %e, "Log store maintenance failed.");
        }
    });
    Ok(logs)
}
