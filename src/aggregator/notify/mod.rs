//! Alert notifications (issue 7): the alerts the rule engine hands over go to every
//! configured Alertmanager through its API v2 (`POST /api/v2/alerts`, as Prometheus's
//! notifier sends them) and to plain webhooks with Alertmanager's webhook payload
//! (version 4), so that existing receivers work unchanged.
//!
//! Data flow: [`Notifier::send`] adds the external labels, applies the alert relabelling
//! (an alert it drops is counted, not sent) and appends the alerts to
//! each destination's bounded [`queue`] (oldest dropped and counted when full) ─▶ one
//! send loop per destination ([`send`]) takes batches of 64 ─▶ the wire format
//! ([`alertmanager`] or [`webhook`]) ─▶ POST with a timeout, retried with backoff ─▶
//! counters ([`metrics`]).

pub mod alert;
pub mod alertmanager;
pub mod config;
pub mod discover;
mod live;
pub mod metrics;
pub mod queue;
pub mod send;
pub mod webhook;

pub use alert::Alert;
pub use config::{
    Credentials, DiscoveredAlertmanagers, NotifyConfig, RetryPolicy, Target, Tls, Webhook,
};
pub use metrics::Family;
pub use send::TargetError;
pub use webhook::{GroupBy, Receiver};

use crate::aggregator::model::Labels;
use crate::aggregator::scrape::relabel;
use live::{Inner, State};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The running notifier: one send loop per destination. [`Notifier::apply`] takes a
/// reloaded configuration as Prometheus's notifier does: a destination whose settings
/// did not change keeps its queue, loop and counters; a removed one sends what it holds
/// once more and stops; a new one starts. Alertmanagers found by Kubernetes discovery
/// ([`discover`]) come and go the same way.
pub struct Notifier {
    inner: Arc<Inner>,
}

impl Notifier {
    /// Builds every destination and starts its send loop (and the Alertmanagers'
    /// discovery) on the current Tokio runtime.
    pub fn start(config: &NotifyConfig) -> Result<Notifier, TargetError> {
        let inner = Arc::new(Inner::new(config));
        let removed = inner.swap(config, true)?;
        debug_assert!(removed.is_empty());
        discover::start(&inner, config);
        Ok(Notifier { inner })
    }

    /// Runs `config`'s destinations, discovery and external labels from now on (see the
    /// type's comment); one that cannot be set up fails the whole change, nothing
    /// touched.
    pub async fn apply(&self, config: &NotifyConfig) -> Result<(), TargetError> {
        let changed = self.inner.lock().config.discovered != config.discovered;
        let gone = self.inner.swap(config, changed)?;
        if changed {
            discover::start(&self.inner, config);
        }
        live::stop_all(gone).await;
        Ok(())
    }

    /// Queues `alerts` for every destination; never waits for the network.
    pub fn send(&self, alerts: Vec<Alert>) {
        let state = self.inner.lock();
        if alerts.is_empty() || state.live.is_empty() {
            // Discovery found nothing to send to: dropped, as Prometheus counts it.
            if !state.config.discovered.is_empty() {
                let n = alerts.len() as u64;
                (self.inner.undelivered).fetch_add(n, Ordering::Relaxed);
            }
            return;
        }
        let sent = alerts.len();
        let labels = &state.config.external_labels;
        let alerts: Vec<Arc<Alert>> = alerts
            .into_iter()
            .filter_map(|a| relabelled(a.with_external_labels(labels), &state))
            .map(Arc::new)
            .collect();
        let dropped = (sent - alerts.len()) as u64;
        (self.inner.relabel_dropped).fetch_add(dropped, Ordering::Relaxed);
        for l in &state.live {
            l.dest.queue.push(alerts.iter().cloned());
        }
    }

    /// The Alertmanagers sent to and those relabelling dropped, by URL, as
    /// `/api/v1/alertmanagers` lists them.
    pub fn alertmanagers(&self) -> (Vec<String>, Vec<String>) {
        self.inner.alertmanagers()
    }

    /// `nodepulse_notifications_*`, one row per destination.
    pub fn metrics(&self) -> Vec<Family> {
        let state = self.inner.lock();
        let snapshots: Vec<_> = state.live.iter().map(|l| l.dest.snapshot()).collect();
        let mut families = metrics::families(&snapshots, state.config.queue_capacity);
        if !state.config.discovered.is_empty() {
            let undelivered = self.inner.undelivered.load(Ordering::Relaxed) as f64;
            metrics::add_undelivered(&mut families, undelivered);
        }
        let dropped = self.inner.relabel_dropped.load(Ordering::Relaxed) as f64;
        families.push(metrics::relabel_dropped(dropped));
        families
    }

    /// Stops discovery and the loops; what is still queued is sent once more (no
    /// retries), each request bounded by its timeout.
    pub async fn stop(&self) {
        self.inner.stop.cancel();
        let live = {
            let mut state = self.inner.lock();
            state.discovery.stop();
            std::mem::take(&mut state.live)
        };
        live::stop_all(live).await;
    }
}

/// `alert` after the alert relabelling, as Prometheus's `relabelAlerts`; `None` when
/// dropped.
fn relabelled(mut alert: Alert, state: &State) -> Option<Alert> {
    let rules = &state.config.alert_relabel;
    if rules.is_empty() {
        return Some(alert);
    }
    let labels = relabel::process(alert.labels.to_pairs(), rules)?;
    alert.labels = Labels::new(labels);
    Some(alert)
}

/// The rule engine's alerts (times in ms) as the notifier sends them: Prometheus always
/// sends `endsAt` (a firing alert's is its valid-until time).
impl crate::aggregator::rules::AlertSink for Notifier {
    fn send(&self, alerts: Vec<crate::aggregator::rules::Alert>) {
        let alerts = alerts
            .into_iter()
            .map(|a| Alert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: alert::from_millis(a.starts_at),
                ends_at: Some(alert::from_millis(a.ends_at)),
                generator_url: a.generator_url,
            })
            .collect();
        Notifier::send(self, alerts);
    }
}
