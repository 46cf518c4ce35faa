//! The agent's Kubernetes eyes: one watch of this node's pods and one of namespaces feed
//! a pod cache (deleted pods kept for a grace period, uid-checked) that log enrichment,
//! container naming and the kube_pod_* families read without `.await`. Without an API
//! server the agent keeps working from path information only and says so once, in its
//! log and in `nodepulse_kube_api_up`.

pub mod cache;
pub mod client;
pub mod encoded;
pub mod enrich;
pub mod exclude;
pub mod ksm;
pub mod meta;
pub mod names;
pub mod owner;
pub mod quantity;
mod resource_names;
pub mod status;
mod tracked;
mod watch;

pub use cache::{CachedPod, PodCache, Snapshot};
pub use meta::{AnnotationFilter, ContainerMeta, NamespaceMeta, PodMeta};
pub use status::{KubeStatus, Resource};

use crate::exposition::MetricFamily;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::DefaultBackoff;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// `--kube.delete-grace`: how long a deleted pod's metadata stays (Vector's
/// `delay_deletion_ms` default).
pub const DEFAULT_DELETE_GRACE: Duration = Duration::from_secs(60);
/// kube-rs's default watch timeout (the server ends a watch after this, we re-watch).
pub const DEFAULT_WATCH_TIMEOUT_SECS: u32 = 290;

/// Makes a fresh backoff per watcher.
pub type BackoffFactory = Arc<dyn Fn() -> Box<dyn Backoff> + Send + Sync>;

/// What the watch task runs with.
#[derive(Clone)]
pub struct KubeSettings {
    pub node_name: String,
    pub delete_grace: Duration,
    pub annotations: AnnotationFilter,
    pub watch_timeout_secs: u32,
    /// client-go's backoff (0.8 s doubling to 30 s, jitter) unless a test injects one.
    pub backoff: BackoffFactory,
}

impl KubeSettings {
    pub fn new(node_name: impl Into<String>) -> Self {
        KubeSettings {
            node_name: node_name.into(),
            delete_grace: DEFAULT_DELETE_GRACE,
            annotations: AnnotationFilter::default(),
            watch_timeout_secs: DEFAULT_WATCH_TIMEOUT_SECS,
            backoff: Arc::new(|| Box::new(DefaultBackoff::default())),
        }
    }
}

/// A constant backoff (tests: retry fast without waiting client-go's 0.8 s–30 s).
#[derive(Debug, Clone, Copy)]
pub struct FixedBackoff(pub Duration);

impl Iterator for FixedBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        Some(self.0)
    }
}

impl Backoff for FixedBackoff {
    fn reset(&mut self) {}
}

/// The running pod cache (or its absence). Dropping it stops the watches.
pub struct Kube {
    cache: Arc<PodCache>,
    status: Arc<KubeStatus>,
    task: Option<JoinHandle<()>>,
}

impl Kube {
    /// No API server: an empty cache, `nodepulse_kube_api_up 0`, said once in the log.
    pub fn off(reason: &str) -> Kube {
        tracing::info!(
            reason,
            "No Kubernetes API server; enriching logs from paths only."
        );
        Kube {
            cache: Arc::default(),
            status: Arc::default(),
            task: None,
        }
    }

    /// Starts the watches on the current tokio runtime.
    pub fn start(client: kube::Client, settings: KubeSettings) -> Kube {
        let cache = Arc::<PodCache>::default();
        let status = Arc::<KubeStatus>::default();
        let task = tokio::spawn(watch::run(client, settings, cache.clone(), status.clone()));
        Kube {
            cache,
            status,
            task: Some(task),
        }
    }

    /// Resolves `--kube.api` / `--kubeconfig` and starts; a configuration that cannot be
    /// used is logged and the agent goes on without an API server.
    pub async fn from_config(config: &crate::agent::config::AgentConfig) -> Kube {
        match client::client(&config.kube_api, config.kubeconfig.as_deref()).await {
            Ok(Some(client)) => {
                let mut settings = KubeSettings::new(&config.node_name);
                settings.delete_grace = config.kube_delete_grace;
                settings.annotations.keys = config.kube_annotations.clone();
                tracing::info!(node = %config.node_name, "Watching this node's pods.");
                Kube::start(client, settings)
            }
            Ok(None) => {
                Kube::off("no in-cluster configuration, no --kubeconfig, or --kube.api=off")
            }
            Err(e) => Kube::off(&e.to_string()),
        }
    }

    /// Waits, at most `timeout`, for the first complete list of this node's pods;
    /// gives up at once without an API server, or at its first failure (the watch
    /// goes on retrying). True when the pods are listed.
    pub async fn synced(&self, timeout: Duration) -> bool {
        if self.task.is_none() {
            return false;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.status.relists(Resource::Pods) > 0 {
                return true;
            }
            if self.status.watch_errors(Resource::Pods) > 0
                || tokio::time::Instant::now() >= deadline
            {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the watches run (an API server is configured, reachable or not).
    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// The cache as the log pipeline's enricher; `None` without an API server.
    pub fn enricher(
        &self,
        stream_labels: Vec<enrich::StreamLabel>,
    ) -> Option<Arc<dyn crate::agent::logs::pipeline::enrich::Enricher>> {
        if !self.is_running() {
            return None;
        }
        Some(Arc::new(enrich::KubeEnricher {
            cache: self.cache.clone(),
            stream_labels,
        }))
    }

    pub fn cache(&self) -> Arc<PodCache> {
        self.cache.clone()
    }

    pub fn status(&self) -> Arc<KubeStatus> {
        self.status.clone()
    }

    /// The scrape's view: kube_pod_* of this node plus the cache's own gauges.
    pub fn metrics(&self) -> KubeMetrics {
        KubeMetrics {
            cache: self.cache.clone(),
            status: self.status.clone(),
            encoded: Arc::default(),
        }
    }
}

impl Drop for Kube {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Reads the cache for one scrape (blocking pool, no `.await`).
#[derive(Clone)]
pub struct KubeMetrics {
    cache: Arc<PodCache>,
    status: Arc<KubeStatus>,
    encoded: Arc<encoded::EncodedPods>,
}

impl KubeMetrics {
    /// The cache's own gauges (`nodepulse_kube_*`).
    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        self.status.collect(out);
    }

    /// kube_pod_* of this node, encoded in `format` (reused until the cache changes).
    pub fn pods_section(&self, format: crate::exposition::Format) -> encoded::Section {
        self.encoded.section(&self.cache, format)
    }
}
