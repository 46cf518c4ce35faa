//! The pod cache's own health: `nodepulse_kube_api_up`, pods cached, watch errors,
//! relists and events per resource. Written by the watch task, read by the scrape.
//! "No API server" is said once in the log per outage, not once per retry.

use crate::exposition::MetricFamily;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

const UP: u8 = 1;
const DOWN: u8 = 2;

/// The two watched resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Pods,
    Namespaces,
}

impl Resource {
    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Resource::Pods => "pods",
            Resource::Namespaces => "namespaces",
        }
    }
}

const RESOURCES: [Resource; 2] = [Resource::Pods, Resource::Namespaces];

#[derive(Debug, Default)]
pub struct KubeStatus {
    /// 0 (unknown) until the first answer or failure, then UP or DOWN.
    up: AtomicU8,
    errors: [AtomicU64; 2],
    relists: [AtomicU64; 2],
    events: [AtomicU64; 2],
    pods_cached: AtomicU64,
    rbac_hint_given: std::sync::atomic::AtomicBool,
}

impl KubeStatus {
    pub fn up(&self) -> bool {
        self.up.load(Ordering::Relaxed) == UP
    }

    /// An answer from the API server: up (logged when it comes back).
    pub(crate) fn answered(&self, r: Resource) {
        self.events[r.index()].fetch_add(1, Ordering::Relaxed);
        if self.up.swap(UP, Ordering::Relaxed) != UP {
            tracing::info!(
                resource = r.name(),
                "Kubernetes API server answered; pod metadata from the watch."
            );
        }
    }

    pub(crate) fn relisted(&self, r: Resource) {
        self.relists[r.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A watcher error; `unreachable` when no HTTP answer came (down, logged once).
    pub(crate) fn failed(&self, r: Resource, unreachable: bool, error: &dyn std::fmt::Display) {
        self.errors[r.index()].fetch_add(1, Ordering::Relaxed);
        if unreachable && self.up.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(resource = r.name(), %error, "Kubernetes API server unreachable; enriching from log paths only until it answers.");
        } else {
            tracing::debug!(resource = r.name(), %error, "Kubernetes watch failed; retrying with backoff.");
        }
    }

    /// A 403: the RBAC hint, once.
    pub(crate) fn forbidden(&self, r: Resource) {
        if !self.rbac_hint_given.swap(true, Ordering::Relaxed) {
            tracing::warn!(resource = r.name(), "Kubernetes API server refused the watch (403): the agent's service account needs get, list and watch on pods and namespaces.");
        }
    }

    pub(crate) fn set_pods_cached(&self, n: usize) {
        self.pods_cached.store(n as u64, Ordering::Relaxed);
    }

    pub fn watch_errors(&self, r: Resource) -> u64 {
        self.errors[r.index()].load(Ordering::Relaxed)
    }

    pub fn relists(&self, r: Resource) -> u64 {
        self.relists[r.index()].load(Ordering::Relaxed)
    }

    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.push(
            MetricFamily::gauge(
                "nodepulse_kube_api_up",
                "Whether the Kubernetes API server answered the last pod or namespace watch request (0 without an API server: log enrichment from paths only).",
            )
            .value(f64::from(u8::from(self.up()))),
        );
        out.push(
            MetricFamily::gauge(
                "nodepulse_kube_cache_pods",
                "Pods of this node in the cache, deleted ones in their grace period included.",
            )
            .value(self.pods_cached.load(Ordering::Relaxed) as f64),
        );
        let per = |name, help, counts: &[AtomicU64; 2]| {
            let mut f = MetricFamily::counter(name, help);
            for r in RESOURCES {
                f.push(
                    &[("resource", r.name())],
                    counts[r.index()].load(Ordering::Relaxed) as f64,
                );
            }
            f
        };
        out.push(per(
            "nodepulse_kube_watch_errors_total",
            "Failed list or watch requests and error events, by resource.",
            &self.errors,
        ));
        out.push(per(
            "nodepulse_kube_relists_total",
            "Completed full lists of a resource (the first one and each after a 410 Gone).",
            &self.relists,
        ));
        out.push(per(
            "nodepulse_kube_watch_events_total",
            "Watch and list events received, by resource.",
            &self.events,
        ));
    }
}
