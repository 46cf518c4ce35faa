//! Scraping, as Prometheus does it: the jobs of a Prometheus-shaped configuration
//! ([`config`]), their targets ([`target`], relabelled by [`relabel`]), one loop per
//! target ([`run`]) that fetches ([`fetch`]), labels ([`samples`]) and appends through
//! [`crate::aggregator::model::Appender`]. [`Manager`] starts and stops the loops and
//! reports their state for `/api/v1/targets`.

pub mod config;
pub mod fetch;
pub mod relabel;
pub mod run;
pub mod samples;
pub mod target;

use crate::aggregator::model::Appender;
use run::{Loop, TargetStatus};
use std::sync::{Arc, Mutex};
use target::Target;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A target as `/api/v1/targets` lists it.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    pub job: String,
    pub target: Target,
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    pub status: TargetStatus,
}

struct Running {
    job: Arc<config::ScrapeConfig>,
    target: Target,
    status: Arc<Mutex<TargetStatus>>,
    task: JoinHandle<()>,
}

/// The running scrape loops.
pub struct Manager {
    running: Vec<Running>,
    stop: watch::Sender<bool>,
}

impl Manager {
    /// Starts a loop for every target of every job (on the current tokio runtime).
    pub fn start(config: &config::Config, store: Arc<dyn Appender>) -> Manager {
        let (stop, stopped) = watch::channel(false);
        let client = reqwest::Client::builder()
            .user_agent(concat!("nodepulse-aggregator/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let mut running = Vec::new();
        for job in &config.scrape_configs {
            let job = Arc::new(job.clone());
            for target in target::targets(&job) {
                let l = Loop::new(target.clone(), job.clone(), client.clone(), store.clone());
                let status = l.status.clone();
                let task = tokio::spawn(l.run(stopped.clone()));
                running.push(Running {
                    job: job.clone(),
                    target,
                    status,
                    task,
                });
            }
        }
        Manager { running, stop }
    }

    /// Every target with its last scrape's state.
    pub fn targets(&self) -> Vec<ActiveTarget> {
        self.running
            .iter()
            .map(|r| ActiveTarget {
                job: r.job.job_name.clone(),
                target: r.target.clone(),
                interval: r.job.interval,
                timeout: r.job.timeout,
                status: r.status.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            })
            .collect()
    }

    /// Stops every loop; each marks its series stale before it ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for r in self.running {
            let _ = r.task.await;
        }
    }
}
