//! The notifier's runtime settings, validated from the aggregator's `alerting`
//! section (`config/alerting.rs`): the destinations (Alertmanagers and webhooks, each
//! a URL, a per-request timeout and optional credentials), the queue's capacity, the
//! external labels, and how failed requests are retried.

use super::queue::DEFAULT_CAPACITY;
use super::webhook::Receiver;
use crate::agent::sinks::backoff::{Backoff, BackoffConfig};
pub use crate::aggregator::http_client::{Credentials, Tls};
use crate::aggregator::scrape::kube_sd::KubeSdConfig;
use crate::aggregator::scrape::relabel::RelabelConfig;
use std::time::Duration;

/// Prometheus's default Alertmanager timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts per request by default: the first and four retries.
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// Everything the notifier runs with.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Alerts each destination's queue holds (the oldest are dropped beyond it).
    pub queue_capacity: usize,
    /// Added to every alert that does not set the label itself.
    pub external_labels: Vec<(String, String)>,
    pub alertmanagers: Vec<Target>,
    pub webhooks: Vec<Webhook>,
    pub retry: RetryPolicy,
    /// Prometheus's `alerting.alert_relabel_configs`: applied to every alert after the
    /// external labels; an alert they drop is not sent (and counted).
    pub alert_relabel: Vec<RelabelConfig>,
    /// Alertmanagers found by Kubernetes discovery, besides `alertmanagers`.
    pub discovered: Vec<DiscoveredAlertmanagers>,
    /// The URLs of static Alertmanagers the entries' `relabel_configs` dropped (for
    /// `/api/v1/alertmanagers`).
    pub dropped_alertmanagers: Vec<String>,
}

/// An `alertmanagers` entry's `kubernetes_sd_configs`: every discovered label set,
/// through the entry's `relabel_configs`, is an Alertmanager with the entry's scheme,
/// path prefix, timeout, credentials and TLS.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredAlertmanagers {
    pub sd: Vec<KubeSdConfig>,
    pub relabel: Vec<RelabelConfig>,
    pub scheme: String,
    pub path_prefix: String,
    /// The entry's settings; its URL is each discovered one's.
    pub template: Target,
}

impl DiscoveredAlertmanagers {
    /// The Alertmanagers of discovered label sets, and the URLs (before relabelling)
    /// of those the relabelling dropped.
    pub fn sort(&self, groups: Vec<Vec<(String, String)>>) -> (Vec<Target>, Vec<String>) {
        let mut dropped = Vec::new();
        let mut kept = Vec::new();
        for labels in groups {
            let address = labels.iter().find(|(n, _)| n == "__address__");
            let url =
                address.map(|(_, a)| super::alertmanager::url(&self.scheme, a, &self.path_prefix));
            match self.target(labels) {
                Some(t) => kept.push(t),
                None => dropped.extend(url),
            }
        }
        (kept, dropped)
    }

    /// The Alertmanager a discovered label set stands for; `None` when the relabelling
    /// drops it or leaves no usable address (logged).
    pub fn target(&self, labels: Vec<(String, String)>) -> Option<Target> {
        let (scheme, prefix) = (&self.scheme, &self.path_prefix);
        match super::alertmanager::relabelled(labels, scheme, prefix, &self.relabel) {
            Ok(url) => url.map(|url| Target {
                url,
                ..self.template.clone()
            }),
            Err(e) => {
                tracing::warn!(error = %e, "A discovered Alertmanager has no usable address; skipped.");
                None
            }
        }
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            queue_capacity: DEFAULT_CAPACITY,
            external_labels: Vec::new(),
            alertmanagers: Vec::new(),
            webhooks: Vec::new(),
            retry: RetryPolicy::default(),
            alert_relabel: Vec::new(),
            discovered: Vec::new(),
            dropped_alertmanagers: Vec::new(),
        }
    }
}

/// How one request is retried: at most `attempts` tries in all, waiting by `backoff`
/// (exponential with full jitter, honouring `Retry-After`) between them. Connection
/// errors, timeouts, 429 and 5xx are retried; other statuses are not.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let backoff = BackoffConfig {
            min: Duration::from_millis(250),
            max: Duration::from_secs(4),
            jitter_ratio: None,
            retry_after_cap: Duration::from_secs(30),
        };
        RetryPolicy {
            attempts: DEFAULT_ATTEMPTS,
            // The constants above satisfy the backoff's checks.
            backoff: Backoff::new(&backoff).unwrap_or_else(|e| unreachable!("{e}")),
        }
    }
}

/// Where requests go.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The full URL POSTed to (for an Alertmanager, ending in `/api/v2/alerts`).
    pub url: String,
    pub timeout: Duration,
    /// Read for every request, as Prometheus reads a credentials file.
    pub authorization: Option<Credentials>,
    pub tls: Tls,
}

impl Target {
    pub fn new(url: impl Into<String>) -> Target {
        Target {
            url: url.into(),
            timeout: DEFAULT_TIMEOUT,
            authorization: None,
            tls: Tls::default(),
        }
    }
}

/// A webhook: where, and the payload's receiver, external URL and grouping.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub target: Target,
    pub receiver: Receiver,
}
