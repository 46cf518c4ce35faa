//! `nodepulse-agent`: node metrics now; container metrics, pod states and log shipping
//! arrive with later issues (see DESIGN.md's module map).

pub mod config;
pub mod containers;
pub mod fdlimit;
pub mod http;
pub mod kube;
pub mod logging;
pub mod logs;
pub mod node;
pub mod selfstats;
pub mod sinks;

use crate::exposition::{encode_families, finish, normalize, Format, MetricFamily};
use config::AgentConfig;
use containers::logdir::LogDirNames;
use containers::ContainersCollector;
use logs::pipeline::{Pipeline, PipelineMetrics};
use node::Collector;
use selfstats::SelfStats;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// What serves one scrape: the enabled collectors and the agent's own counters.
pub struct Agent {
    collectors: Vec<Box<dyn Collector>>,
    stats: SelfStats,
    /// The log pipeline's counters, when it runs.
    logs: Option<Arc<PipelineMetrics>>,
    /// kube_pod_* and the pod cache's gauges, when the agent was started with one.
    kube: Option<kube::KubeMetrics>,
    /// cAdvisor's container_* families, unless `--collectors.disable=containers`.
    containers: Option<ContainersCollector>,
    /// Per [`Part`], the last body's size: the next one is allocated at once (a node's
    /// containers make it megabytes; growing a small buffer there copies it several times).
    last_body_len: [AtomicUsize; 4],
}

impl Agent {
    pub fn new(config: &AgentConfig) -> Self {
        Agent {
            collectors: node::build(&config.paths, &config.collectors),
            stats: SelfStats::default(),
            logs: None,
            kube: None,
            containers: (!config.collectors.disabled.contains(containers::NAME)).then(|| {
                // Without an API server, containers are named from the kubelet's log dirs.
                let names =
                    LogDirNames::new(config.containers_dir.clone(), config.pods_dir.clone());
                ContainersCollector::new(
                    &config.paths,
                    Arc::new(names),
                    &config.collectors.containers,
                )
            }),
            last_body_len: Default::default(),
        }
    }

    /// Adds this node's kube_pod_* families and `nodepulse_kube_*` to every scrape.
    pub fn with_kube(mut self, metrics: kube::KubeMetrics) -> Self {
        self.kube = Some(metrics);
        self
    }

    /// Replaces the containers collector (e.g. one naming containers from the pod
    /// cache); a no-op when the collector is disabled.
    pub fn with_containers(mut self, collector: ContainersCollector) -> Self {
        if self.containers.is_some() {
            self.containers = Some(collector);
        }
        self
    }

    /// Adds the log pipeline's `nodepulse_log_*` families to every scrape.
    pub fn with_logs(mut self, metrics: Arc<PipelineMetrics>) -> Self {
        self.logs = Some(metrics);
        self
    }

    /// Reads every collector and returns the encoded body of one scrape.
    pub fn scrape(&self, format: Format) -> Vec<u8> {
        self.scrape_part(format, Part::All)
    }

    /// The encoded body of one scrape of `part` (see [`Part`]).
    pub fn scrape_part(&self, format: Format, part: Part) -> Vec<u8> {
        let start = Instant::now();
        let mut families: Vec<MetricFamily> = Vec::with_capacity(256);
        if part.has_node() {
            node::collect_all(&self.collectors, &mut families);
        }
        if let (true, Some(c)) = (part.has_cadvisor(), &self.containers) {
            if let Err(e) = c.collect(&mut families) {
                tracing::warn!(error = %e, "Containers collector failed.");
            }
        }
        if part.has_node() {
            self.own_families(start, &mut families);
        }
        let (families, mut dropped) = normalize(families);
        let hint = self.last_body_len[part as usize].load(Ordering::Relaxed);
        let mut body = Vec::with_capacity((hint + hint / 8).max(64 * 1024));
        encode_families(&families, format, &mut body);
        // kube_pod_*: a section encoded once per change of the pod cache.
        if let (true, Some(kube)) = (part.has_kube_state(), &self.kube) {
            let pods = kube.pods_section(format);
            body.extend_from_slice(&pods.body);
            dropped.duplicate_series += pods.dropped.duplicate_series;
            dropped.type_conflicts += pods.dropped.type_conflicts;
        }
        finish(format, &mut body);
        self.last_body_len[part as usize].store(body.len(), Ordering::Relaxed);
        self.stats.record_scrape(dropped);
        body
    }

    /// The agent's own families: nodepulse_* of the process, the log pipeline and the
    /// pod cache, and this scrape's duration so far.
    fn own_families(&self, start: Instant, families: &mut Vec<MetricFamily>) {
        self.stats.collect(families);
        if let Some(logs) = &self.logs {
            logs.collect(families);
        }
        if let Some(kube) = &self.kube {
            kube.collect(families);
        }
        families.push(
            MetricFamily::gauge(
                "nodepulse_scrape_duration_seconds",
                "Time spent reading every collector for this scrape.",
            )
            .value(start.elapsed().as_secs_f64()),
        );
    }
}

/// Which families a scrape holds: all of them (`/metrics`), or one of the three groups
/// that node_exporter, cAdvisor (the kubelet's `/metrics/cadvisor`) and kube-state-metrics
/// each serve, so that each can be its own scrape job, selected the way kubernetes-mixin's
/// dashboards and alerts select them (`job="node-exporter"`; `job="cadvisor"` or
/// `metrics_path="/metrics/cadvisor"`; `job="kube-state-metrics"`). The three are
/// disjoint and together make `/metrics`; the agent's own `process_*` and `nodepulse_*` go
/// with node, as node_exporter serves its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    /// `/metrics/node`: node_*, process_* and nodepulse_*.
    Node,
    /// `/metrics/cadvisor`: container_*, and the collector's own nodepulse_containers_*.
    Cadvisor,
    /// `/metrics/kube-state`: kube_pod_*.
    KubeState,
}

impl Part {
    fn has_node(self) -> bool {
        matches!(self, Part::All | Part::Node)
    }

    fn has_cadvisor(self) -> bool {
        matches!(self, Part::All | Part::Cadvisor)
    }

    fn has_kube_state(self) -> bool {
        matches!(self, Part::All | Part::KubeState)
    }
}

/// Serves the agent on `listener` until `shutdown` completes; ships container logs
/// meanwhile when a Loki URL is set, and stops that cleanly too.
pub async fn run(
    config: AgentConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Dropped (watches stopped) when `run` returns.
    let kube = kube::Kube::from_config(&config).await;
    // The first lines shipped are enriched, and excluded pods skipped, when the pods
    // are listed first; a slow or absent API server delays shipping by at most this.
    let enricher = kube.enricher(config.kube_stream_labels.clone());
    if enricher.is_some() && !kube.synced(config.kube_sync_timeout).await {
        tracing::warn!(
            timeout = ?config.kube_sync_timeout,
            "This node's pods are not listed yet; shipping logs meanwhile, enriched from paths until they are."
        );
    }
    // Opening checkpoints and the spool reads files (a whole spool is scanned): off the
    // executor.
    let pipeline = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || start_logs(&config, enricher))
            .await
            .map_err(std::io::Error::other)??
    };
    let mut agent = Agent::new(&config).with_kube(kube.metrics());
    if kube.is_running() {
        agent = agent.with_containers(named_from_cache(&config, &kube));
    }
    if let Some(p) = &pipeline {
        agent = agent.with_logs(p.metrics());
    }
    let agent = Arc::new(agent);
    tracing::info!(
        address = %listener.local_addr()?,
        node = %config.node_name,
        procfs = %config.paths.procfs.display(),
        sysfs = %config.paths.sysfs.display(),
        rootfs = %config.paths.rootfs.display(),
        "Serving metrics."
    );
    let web = match &config.web_config_file {
        Some(path) => Some(
            crate::web::Web::open(path, http::OPEN_PATHS)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        ),
        None => None,
    };
    let served = http::serve(listener, agent, web, shutdown).await;
    if let Some(p) = pipeline {
        p.shutdown().await;
    }
    served
}

/// The containers collector naming containers from the pod cache first, the kubelet's
/// log directories second (a container started before the watch saw it).
fn named_from_cache(config: &AgentConfig, kube: &kube::Kube) -> ContainersCollector {
    use containers::naming::{ContainerNames, FirstOf};
    let cache: Arc<dyn ContainerNames> = Arc::new(kube::names::CacheNames::new(kube.cache()));
    let dirs = LogDirNames::new(config.containers_dir.clone(), config.pods_dir.clone());
    let names = FirstOf(vec![cache, Arc::new(dirs)]);
    ContainersCollector::new(
        &config.paths,
        Arc::new(names),
        &config.collectors.containers,
    )
}

/// Starts the log pipeline when a sink is set (`--sink.loki.url`,
/// `--sink.elasticsearch.url`, or both).
fn start_logs(
    config: &AgentConfig,
    enricher: Option<Arc<dyn logs::pipeline::enrich::Enricher>>,
) -> std::io::Result<Option<Pipeline>> {
    let Some(mut settings) = config.pipeline_config().map_err(std::io::Error::other)? else {
        return Ok(None);
    };
    settings.enricher = enricher;
    Pipeline::start(settings)
        .map(Some)
        .map_err(std::io::Error::other)
}
