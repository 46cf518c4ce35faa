//! Alertmanagers found by Kubernetes discovery: an `alertmanagers` entry's
//! `kubernetes_sd_configs` are watched as the scrape jobs' are
//! ([`crate::aggregator::scrape::kube_sd`]), and every discovered label set, with the
//! entry's `__scheme__` and `__alerts_path__`, goes through the entry's
//! `relabel_configs` ([`DiscoveredAlertmanagers::target`]), as Prometheus's notifier
//! does it. Each change replaces the entry's Alertmanagers in the notifier
//! ([`Inner::set_discovered`]): one still there keeps its queue and counters.

use super::config::{DiscoveredAlertmanagers, NotifyConfig};
use super::live::{self, Inner};
use crate::aggregator::scrape::kube_sd::{self, Groups};
use std::sync::{Arc, Weak};
use tokio::task::JoinHandle;

/// Aborts its tasks when dropped.
struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

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
    let (mut found, tasks) = kube_sd::watch_all(&d.sd, "alerting.alertmanagers");
    // The watches end with this task, stopped or not.
    let _stop = AbortOnDrop(tasks);
    loop {
        let groups: Groups = found
            .borrow_and_update()
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect();
        let sorted = d.sort(groups);
        let Some(notifier) = inner.upgrade() else {
            return;
        };
        let gone = notifier.set_discovered(generation, entry, sorted);
        drop(notifier);
        live::stop_all(gone).await;
        if found.changed().await.is_err() {
            return;
        }
    }
}
