//! Reloading the configuration file on SIGHUP and `POST /-/reload`, as Prometheus does:
//! the file is read and checked again, with the rule files it names; a bad one is
//! refused with its error and everything runs on as it was. Otherwise the parts
//! Prometheus reloads take the new settings: the scrape jobs ([`scrape::Manager::apply`]),
//! the Alertmanagers and webhooks with the external labels ([`Notifier::apply`]), the rule
//! files and the rules' options ([`rules::Manager::update`]); `/api/v1/status/config`
//! shows the new file. What Prometheus takes from flags is read at start only here too
//! (listen address, storage and retention, query limits, remote_write and log limits,
//! the Loki API's token, log format and level): a change to it is named in a warning
//! and takes a restart.

use crate::aggregator::config::{AggregatorConfig, Flags};
use crate::aggregator::http::rules::{GroupView, ReloadFuture, RuleSource};
use crate::aggregator::model::Labels;
use crate::aggregator::notify::metrics::{self, single};
use crate::aggregator::notify::Notifier;
use crate::aggregator::promql::QueryOptions;
use crate::aggregator::{rules, scrape};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// The running parts a reload changes, and the configuration they run with.
pub struct Reloader {
    flags: Flags,
    running: tokio::sync::Mutex<AggregatorConfig>,
    /// What `/api/v1/status/config` shows.
    pub config_yaml: Arc<RwLock<String>>,
    /// The external labels, for `/federate`.
    pub external_labels: Arc<RwLock<Labels>>,
    scrape: Arc<scrape::Manager>,
    notifier: Arc<Notifier>,
    rules: Arc<rules::Manager>,
    last_successful: AtomicBool,
    last_success_seconds: AtomicI64,
}

/// A reload that was refused; what runs is unchanged (unless the rule files changed
/// between their check and their load, as in Prometheus: then the rules stay old and
/// the notifier is new).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReloadError(pub String);

impl Reloader {
    /// `config` is what the parts were started with, from `flags`.
    pub fn new(
        flags: Flags,
        config: AggregatorConfig,
        scrape: Arc<scrape::Manager>,
        notifier: Arc<Notifier>,
        rules: Arc<rules::Manager>,
    ) -> Reloader {
        Reloader {
            flags,
            config_yaml: Arc::new(RwLock::new(crate::aggregator::config::render(&config))),
            external_labels: Arc::new(RwLock::new(external_labels(&config))),
            running: tokio::sync::Mutex::new(config),
            scrape,
            notifier,
            rules,
            last_successful: AtomicBool::new(true),
            last_success_seconds: AtomicI64::new(now_seconds()),
        }
    }

    /// Reads the file again and applies it; see the module comment.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let mut running = self.running.lock().await;
        let done = self.apply(&running).await;
        self.last_successful.store(done.is_ok(), Ordering::Relaxed);
        let next = done?;
        self.last_success_seconds
            .store(now_seconds(), Ordering::Relaxed);
        let restart = needs_restart(&running, &next);
        if !restart.is_empty() {
            tracing::warn!(settings = ?restart,
                "Configuration reloaded; these settings changed and take a restart.");
        }
        *self.config_yaml.write().unwrap_or_else(|e| e.into_inner()) =
            crate::aggregator::config::render(&next);
        *self
            .external_labels
            .write()
            .unwrap_or_else(|e| e.into_inner()) = external_labels(&next);
        *running = next;
        Ok(())
    }

    async fn apply(&self, running: &AggregatorConfig) -> Result<AggregatorConfig, ReloadError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| ReloadError(format!("{what}: {e}"));
        let next = AggregatorConfig::load(self.flags.clone())
            .map_err(|e| fail("invalid configuration", &e))?;
        rules::manager::check_files(&next.rule_files)
            .map_err(|e| fail("invalid rule files", &e))?;
        self.notifier
            .apply(&next.alerting.notify)
            .await
            .map_err(|e| fail("alerting", &e))?;
        let opts = rule_options(&next, running.query.clone());
        self.rules
            .update(next.rule_files.clone(), Some(opts))
            .await
            .map_err(|e| fail("rule files", &e))?;
        let applied = self.scrape.apply(&next.scrape).await;
        tracing::info!(
            ?applied,
            groups = self.rules.snapshot().len(),
            "Configuration reloaded."
        );
        Ok(next)
    }

    /// `nodepulse_config_last_reload_*`, as Prometheus's `prometheus_config_last_reload_*`.
    pub fn metrics_text(&self) -> String {
        let ok = f64::from(u8::from(self.last_successful.load(Ordering::Relaxed)));
        let at = self.last_success_seconds.load(Ordering::Relaxed) as f64;
        let families = [
            (
                "nodepulse_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
                "gauge",
                single(ok),
            ),
            (
                "nodepulse_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
                "gauge",
                single(at),
            ),
        ];
        metrics::text(&families)
    }
}

/// The API's rules are the rule manager's; its reload is the whole configuration's.
impl RuleSource for Reloader {
    fn groups(&self) -> Vec<GroupView> {
        RuleSource::groups(&*self.rules)
    }

    fn reload(&self) -> ReloadFuture<'_> {
        Box::pin(async move { Reloader::reload(self).await.map_err(|e| e.0) })
    }
}

/// `global.external_labels` of `config`.
fn external_labels(config: &AggregatorConfig) -> Labels {
    let external: Vec<(&str, &str)> = (config.scrape.external_labels.iter())
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    Labels::from_pairs(&external)
}

/// The rules' options from `config`, with `query` (the limits read at start).
pub fn rule_options(config: &AggregatorConfig, query: QueryOptions) -> rules::RuleOptions {
    let notifications = &config.alerting.notifications;
    rules::RuleOptions {
        query,
        env: rules::TemplateEnv {
            external_labels: external_labels(config),
            external_url: notifications.external_url.clone().unwrap_or_default(),
        },
        default_interval_ms: config.scrape.evaluation_interval.as_millis() as i64,
        ..rules::RuleOptions::default()
    }
}

/// The settings read at start only that differ between `old` and `new`, by file key.
pub fn needs_restart(old: &AggregatorConfig, new: &AggregatorConfig) -> Vec<&'static str> {
    // The log settings are compared by their debug form (they hold no float); it is
    // never shown, so the Loki token in it stays unprinted.
    let checks = [
        (
            "web.listen_address",
            old.listen_address == new.listen_address,
        ),
        (
            "web.config_file",
            old.web_config_file == new.web_config_file,
        ),
        ("storage.path", old.storage_path == new.storage_path),
        ("storage.retention", old.retention == new.retention),
        (
            "storage.retention_size",
            old.retention_size == new.retention_size,
        ),
        ("query", old.query == new.query),
        ("remote_write", old.write_limits == new.write_limits),
        (
            "logs",
            format!("{:?}", old.logs) == format!("{:?}", new.logs),
        ),
        ("log.format", old.log_format == new.log_format),
        ("log.level", old.log_level == new.log_level),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(key, _)| key)
        .collect()
}

fn now_seconds() -> i64 {
    crate::aggregator::http::now_ms() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str, flags: Flags) -> AggregatorConfig {
        let file = serde_norway::from_str(yaml).unwrap();
        AggregatorConfig::merge(flags, file).unwrap()
    }

    #[test]
    fn settings_read_at_start_only_are_named_when_they_change() {
        let old = config("global: {scrape_interval: 1s}\n", Flags::default());
        let same_start = config("global: {scrape_interval: 5s}\n", Flags::default());
        assert!(
            needs_restart(&old, &same_start).is_empty(),
            "scraping reloads"
        );
        let moved = config(
            "storage: {path: /elsewhere}\nquery: {timeout: 1m}\nlogs: {limits: {max_line_size: 100KB}}\n",
            Flags::default(),
        );
        assert_eq!(
            needs_restart(&old, &moved),
            ["storage.path", "query", "logs"]
        );
    }
}
