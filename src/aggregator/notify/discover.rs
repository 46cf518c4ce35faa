//! Alertmanagers found by Kubernetes discovery: an `alertmanagers` entry's
//! `kubernetes_sd_configs` are watched as the scrape jobs' are
//! ([`crate::aggregator::scrape::kube_sd`]), and every discovered label set, with the
//! entry's `__scheme__` and `__alerts_path__`, goes through the entry's
//! `relabel_configs` ([`DiscoveredAlertmanagers::target`]), as Prometheus's notifier
//! does it. Each change replaces the entry's Alertmanagers in the notifier
//! ([`Inner::set_discovered`]): one still there keeps its queue and counters.

use super::config::{DiscoveredAlertmanagers, NotifyConfig};
use super::live::{self, Inner};
use crate::aggregator::scrape::kube_sd;
use std::sync::{Arc, Weak};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running discovery: its tasks, and a generation that outdates what stopped
/// tasks might still report.
#[derive(Default)]
pub struct Tasks {
    pub generation: u64,
    tasks: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Stops every task; what they found is no longer taken.
    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.generation += 1;
    }
}

/// Starts `config`'s discovery (on the current runtime), after
/// [`Inner::swap`] stopped the one before.
pub(super) fn start(inner: &Arc<Inner>, config: &NotifyConfig) {
    let mut state = inner.lock();
    let generation = state.discovery.generation;
    for (entry, d) in config.discovered.iter().enumerate() {
        let task = watch_entry(Arc::downgrade(inner), generation, entry, d.clone());
        state.discovery.tasks.push(tokio::spawn(task));
    }
}

/// Watches one entry's discovery and hands its Alertmanagers to the notifier after
/// each change, until stopped or the notifier is gone.
async fn watch_entry(
    inner: Weak<Inner>,
    generation: u64,
    entry: usize,
    d: DiscoveredAlertmanagers,
) {
    let mut found = Vec::new();
    for sd in &d.sd {
        match kube_sd::client(sd).await {
            Ok(client) => {
                let (tx, rx) = watch::channel(Vec::new());
                // Ends when `rx` is dropped: with this task.
                tokio::spawn(kube_sd::run(client, sd.clone(), tx));
                found.push(rx);
            }
            Err(e) => tracing::error!(error = %e, "Alertmanager discovery cannot start."),
        }
    }
    while !found.is_empty() {
        let groups: Vec<Vec<(String, String)>> = (found.iter_mut())
            .flat_map(|rx| rx.borrow_and_update().clone())
            .collect();
        let sorted = d.sort(groups);
        let Some(notifier) = inner.upgrade() else {
            return;
        };
        let gone = notifier.set_discovered(generation, entry, sorted);
        drop(notifier);
        live::stop_all(gone).await;
        let changes = found.iter_mut().map(|rx| Box::pin(rx.changed()));
        if futures::future::select_all(changes).await.0.is_err() {
            return;
        }
    }
}
