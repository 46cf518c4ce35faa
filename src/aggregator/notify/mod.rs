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
pub mod metrics;
pub mod queue;
pub mod send;
pub mod webhook;

pub use alert::Alert;
pub use config::{Authorization, NotifyConfig, RetryPolicy, Target, Tls, Webhook};
pub use metrics::Family;
pub use send::TargetError;
pub use webhook::{GroupBy, Receiver};

use crate::aggregator::model::Labels;
use crate::aggregator::scrape::relabel::{self, RelabelConfig};
use send::{Destination, Kind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running notifier: one send loop per destination. [`Notifier::apply`] takes a
/// reloaded configuration as Prometheus's notifier does: a destination whose settings
/// did not change keeps its queue, loop and counters; a removed one sends what it holds
/// once more and stops; a new one starts.
pub struct Notifier {
    state: Mutex<State>,
    /// Alerts the alert relabelling dropped, since start.
    relabel_dropped: std::sync::atomic::AtomicU64,
    retry: RetryPolicy,
    stop: CancellationToken,
}

struct State {
    live: Vec<Live>,
    external_labels: Vec<(String, String)>,
    alert_relabel: Vec<RelabelConfig>,
    capacity: usize,
}

/// A destination with what identifies it across reloads, and its loop.
struct Live {
    kind: Kind,
    target: Target,
    capacity: usize,
    dest: Arc<Destination>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Notifier {
    /// Builds every destination and starts its send loop on the current Tokio runtime.
    pub fn start(config: &NotifyConfig) -> Result<Notifier, TargetError> {
        let notifier = Notifier {
            state: Mutex::new(State {
                live: Vec::new(),
                external_labels: Vec::new(),
                alert_relabel: Vec::new(),
                capacity: config.queue_capacity,
            }),
            retry: config.retry.clone(),
            stop: CancellationToken::new(),
            relabel_dropped: Default::default(),
        };
        let removed = notifier.swap(config)?;
        debug_assert!(removed.is_empty());
        Ok(notifier)
    }

    /// Runs `config`'s destinations and external labels from now on (see the type's
    /// comment); one that cannot be set up fails the whole change, nothing touched.
    pub async fn apply(&self, config: &NotifyConfig) -> Result<(), TargetError> {
        for gone in self.swap(config)? {
            gone.stop.cancel();
            let _ = gone.task.await;
        }
        Ok(())
    }

    /// Puts `config`'s destinations in place; returns the ones no longer wanted.
    fn swap(&self, config: &NotifyConfig) -> Result<Vec<Live>, TargetError> {
        let capacity = config.queue_capacity;
        let wanted = config
            .alertmanagers
            .iter()
            .map(|t| (Kind::Alertmanager, t))
            .chain(
                config
                    .webhooks
                    .iter()
                    .map(|h| (Kind::Webhook(h.receiver.clone()), &h.target)),
            );
        let mut state = self.lock();
        let mut built = Vec::new();
        let mut claimed = vec![false; state.live.len()];
        for (kind, target) in wanted {
            let kept = state.live.iter().enumerate().position(|(i, l)| {
                !claimed[i] && l.kind == kind && l.target == *target && l.capacity == capacity
            });
            if let Some(i) = kept {
                claimed[i] = true;
            }
            built.push(match kept {
                Some(i) => Ok(i),
                None => Err((
                    Destination::new(kind.clone(), target, capacity)?,
                    kind,
                    target,
                )),
            });
        }
        let mut old: Vec<Option<Live>> = state.live.drain(..).map(Some).collect();
        for b in built {
            let live = match b {
                Ok(i) => old[i].take(),
                Err((dest, kind, target)) => {
                    Some(self.launch(dest, kind, target.clone(), capacity))
                }
            };
            state.live.extend(live);
        }
        state.external_labels = config.external_labels.clone();
        state.alert_relabel = config.alert_relabel.clone();
        state.capacity = capacity;
        Ok(old.into_iter().flatten().collect())
    }

    fn launch(&self, dest: Destination, kind: Kind, target: Target, capacity: usize) -> Live {
        let dest = Arc::new(dest);
        let stop = self.stop.child_token();
        let task = tokio::spawn(send::run(dest.clone(), self.retry.clone(), stop.clone()));
        Live {
            kind,
            target,
            capacity,
            dest,
            stop,
            task,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `alerts` for every destination; never waits for the network.
    pub fn send(&self, alerts: Vec<Alert>) {
        let state = self.lock();
        if alerts.is_empty() || state.live.is_empty() {
            return;
        }
        let sent = alerts.len();
        let alerts: Vec<Arc<Alert>> = alerts
            .into_iter()
            .filter_map(|a| relabelled(a.with_external_labels(&state.external_labels), &state))
            .map(Arc::new)
            .collect();
        let dropped = (sent - alerts.len()) as u64;
        self.relabel_dropped.fetch_add(dropped, Ordering::Relaxed);
        for l in &state.live {
            l.dest.queue.push(alerts.iter().cloned());
        }
    }

    /// `nodepulse_notifications_*`, one row per destination.
    pub fn metrics(&self) -> Vec<Family> {
        let state = self.lock();
        let snapshots: Vec<_> = state.live.iter().map(|l| l.dest.snapshot()).collect();
        let mut families = metrics::families(&snapshots, state.capacity);
        let dropped = self.relabel_dropped.load(Ordering::Relaxed) as f64;
        families.push(metrics::relabel_dropped(dropped));
        families
    }

    /// Stops the loops; what is still queued is sent once more (no retries), each
    /// request bounded by its timeout.
    pub async fn stop(&self) {
        self.stop.cancel();
        let live = std::mem::take(&mut self.lock().live);
        for l in live {
            let _ = l.task.await;
        }
    }
}

/// `alert` after the alert relabelling, as Prometheus's `relabelAlerts`; `None` when
/// dropped.
fn relabelled(mut alert: Alert, state: &State) -> Option<Alert> {
    if state.alert_relabel.is_empty() {
        return Some(alert);
    }
    let labels = relabel::process(alert.labels.to_pairs(), &state.alert_relabel)?;
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
