//! Alert notifications (issue 7): the alerts the rule engine hands over go to every
//! configured Alertmanager through its API v2 (`POST /api/v2/alerts`, as Prometheus's
//! notifier sends them) and to plain webhooks with Alertmanager's webhook payload
//! (version 4), so that existing receivers work unchanged.
//!
//! Data flow: [`Notifier::send`] adds the external labels and appends the alerts to
//! each destination's bounded [`queue`] (oldest dropped and counted when full) ─▶ one
//! send loop per destination ([`send`]) takes batches of 64 ─▶ the wire format
//! ([`alertmanager`] or [`webhook`]) ─▶ POST with a timeout, retried with backoff ─▶
//! counters ([`metrics`]).

pub mod alert;
pub mod alertmanager;
pub mod config;
pub mod metrics;
pub mod queue;
pub mod send;
pub mod webhook;

pub use alert::Alert;
pub use config::{Authorization, NotifyConfig, RetryPolicy, Target, Webhook};
pub use metrics::Family;
pub use send::TargetError;
pub use webhook::{GroupBy, Receiver};

use send::{Destination, Kind};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running notifier: one send loop per destination.
pub struct Notifier {
    destinations: Vec<Arc<Destination>>,
    external_labels: Vec<(String, String)>,
    capacity: usize,
    stop: CancellationToken,
    loops: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Notifier {
    /// Builds every destination and starts its send loop on the current Tokio runtime.
    pub fn start(config: &NotifyConfig) -> Result<Notifier, TargetError> {
        let capacity = config.queue_capacity;
        let mut destinations = Vec::new();
        for target in &config.alertmanagers {
            destinations.push(Destination::new(Kind::Alertmanager, target, capacity)?);
        }
        for hook in &config.webhooks {
            let kind = Kind::Webhook(hook.receiver.clone());
            destinations.push(Destination::new(kind, &hook.target, capacity)?);
        }
        let destinations: Vec<Arc<Destination>> = destinations.into_iter().map(Arc::new).collect();
        let stop = CancellationToken::new();
        let loops = destinations
            .iter()
            .map(|d| tokio::spawn(send::run(d.clone(), config.retry.clone(), stop.clone())))
            .collect();
        Ok(Notifier {
            destinations,
            external_labels: config.external_labels.clone(),
            capacity,
            stop,
            loops: std::sync::Mutex::new(loops),
        })
    }

    /// Queues `alerts` for every destination; never waits for the network.
    pub fn send(&self, alerts: Vec<Alert>) {
        if alerts.is_empty() || self.destinations.is_empty() {
            return;
        }
        let alerts: Vec<Arc<Alert>> = alerts
            .into_iter()
            .map(|a| Arc::new(a.with_external_labels(&self.external_labels)))
            .collect();
        for d in &self.destinations {
            d.queue.push(alerts.iter().cloned());
        }
    }

    /// `nodepulse_notifications_*`, one row per destination.
    pub fn metrics(&self) -> Vec<Family> {
        let snapshots: Vec<_> = self.destinations.iter().map(|d| d.snapshot()).collect();
        metrics::families(&snapshots, self.capacity)
    }

    /// Stops the loops; what is still queued is sent once more (no retries), each
    /// request bounded by its timeout.
    pub async fn stop(&self) {
        self.stop.cancel();
        let loops = std::mem::take(&mut *self.loops.lock().unwrap_or_else(|e| e.into_inner()));
        for l in loops {
            let _ = l.await;
        }
    }
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
