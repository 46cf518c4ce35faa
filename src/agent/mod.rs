//! `nodepulse-agent`: node metrics now; container metrics, pod states and log shipping
//! arrive with later issues (see DESIGN.md's module map).

pub mod config;
pub mod http;
pub mod logging;
pub mod node;
pub mod selfstats;
pub mod sinks;

use crate::exposition::{encode, normalize, Format, MetricFamily};
use config::AgentConfig;
use node::Collector;
use selfstats::SelfStats;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// What serves one scrape: the enabled collectors and the agent's own counters.
pub struct Agent {
    collectors: Vec<Box<dyn Collector>>,
    stats: SelfStats,
}

impl Agent {
    pub fn new(config: &AgentConfig) -> Self {
        Agent {
            collectors: node::build(&config.paths, &config.collectors),
            stats: SelfStats::default(),
        }
    }

    /// Reads every collector and returns the encoded body of one scrape.
    pub fn scrape(&self, format: Format) -> Vec<u8> {
        let start = Instant::now();
        let mut families: Vec<MetricFamily> = Vec::with_capacity(256);
        node::collect_all(&self.collectors, &mut families);
        self.stats.collect(&mut families);
        families.push(
            MetricFamily::gauge(
                "nodepulse_scrape_duration_seconds",
                "Time spent reading every collector for this scrape.",
            )
            .value(start.elapsed().as_secs_f64()),
        );
        let (families, dropped) = normalize(families);
        self.stats.record_scrape(dropped);
        let mut body = Vec::with_capacity(64 * 1024);
        encode(&families, format, &mut body);
        body
    }
}

/// Serves the agent on `listener` until `shutdown` completes.
pub async fn run(
    config: AgentConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let agent = Arc::new(Agent::new(&config));
    tracing::info!(
        address = %listener.local_addr()?,
        node = %config.node_name,
        procfs = %config.paths.procfs.display(),
        sysfs = %config.paths.sysfs.display(),
        rootfs = %config.paths.rootfs.display(),
        "Serving metrics."
    );
    http::serve(listener, agent, shutdown).await
}
