//! Scraping, as Prometheus does it: the jobs of a Prometheus-shaped configuration
//! ([`config`]), their targets — static or discovered in Kubernetes ([`kube_sd`]) — shaped
//! by relabelling ([`target`], [`relabel`]), and one loop per target ([`run`]) that
//! fetches ([`fetch`]; over its own keep-alive connection, [`conn`], for plain http),
//! labels ([`samples`]) and appends through
//! [`crate::aggregator::model::Appender`]. [`Manager`] keeps one loop per live target:
//! a target that appears gets a loop, one that goes away has its loop stopped (which
//! marks its series stale).

pub mod config;
pub mod conn;
pub mod fetch;
pub mod kube_sd;
pub mod metadata;
pub mod relabel;
pub mod run;
pub mod samples;
pub mod stats;
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
    target: Target,
    status: Arc<Mutex<TargetStatus>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// One job: its live loops and the task that keeps them in line with discovery.
struct Job {
    config: Arc<config::ScrapeConfig>,
    running: Arc<tokio::sync::Mutex<Vec<Running>>>,
    tasks: Vec<JoinHandle<()>>,
}

/// The running scrape loops of every job.
pub struct Manager {
    jobs: Vec<Job>,
    stats: Arc<run::ScrapeStats>,
}

/// Discovered label sets of one job, as its discovery publishes them.
type Groups = Vec<Vec<(String, String)>>;

impl Manager {
    /// Starts every job (on the current tokio runtime): static targets at once,
    /// Kubernetes-discovered ones as their watch delivers them.
    pub fn start(config: &config::Config, store: Arc<dyn Appender>) -> Manager {
        let client = reqwest::Client::builder()
            .user_agent(conn::USER_AGENT)
            .build()
            .unwrap_or_default();
        let shared = Shared {
            client,
            store,
            stats: Arc::default(),
        };
        let jobs = config
            .scrape_configs
            .iter()
            .map(|c| start_job(Arc::new(c.clone()), shared.clone()))
            .collect();
        Manager {
            jobs,
            stats: shared.stats,
        }
    }

    /// What the loops could not store, since start.
    pub fn stats(&self) -> &run::ScrapeStats {
        &self.stats
    }

    /// Every target with its last scrape's state.
    pub async fn targets(&self) -> Vec<ActiveTarget> {
        let mut out = Vec::new();
        for job in &self.jobs {
            for r in job.running.lock().await.iter() {
                out.push(ActiveTarget {
                    job: job.config.job_name.clone(),
                    target: r.target.clone(),
                    interval: job.config.interval,
                    timeout: job.config.timeout,
                    status: r.status.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                });
            }
        }
        out
    }

    /// Stops discovery and every loop; each loop marks its series stale before it ends.
    pub async fn stop(&self) {
        for job in &self.jobs {
            for t in &job.tasks {
                t.abort();
            }
            let running = std::mem::take(&mut *job.running.lock().await);
            stop_all(running).await;
        }
    }
}

/// What every loop of the manager uses.
#[derive(Clone)]
struct Shared {
    client: reqwest::Client,
    store: Arc<dyn Appender>,
    stats: Arc<run::ScrapeStats>,
}

fn start_job(job: Arc<config::ScrapeConfig>, shared: Shared) -> Job {
    let running = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let (publish, groups) = watch::channel::<Vec<Groups>>(vec![Vec::new(); job.kube_sd.len()]);
    let mut tasks = Vec::new();
    for (i, sd) in job.kube_sd.iter().cloned().enumerate() {
        let (tx, mut rx) = watch::channel(Groups::new());
        let publish = publish.clone();
        let name = job.job_name.clone();
        tasks.push(tokio::spawn(async move {
            match kube_sd::client(&sd).await {
                Ok(c) => {
                    tokio::spawn(kube_sd::run(c, sd, tx));
                    while rx.changed().await.is_ok() {
                        let g = rx.borrow_and_update().clone();
                        publish.send_modify(|all| all[i] = g);
                    }
                }
                Err(e) => {
                    tracing::error!(job = %name, error = %e, "Kubernetes discovery cannot start.")
                }
            }
        }));
    }
    let (job2, running2) = (job.clone(), running.clone());
    tasks.push(tokio::spawn(sync_loop(job2, groups, running2, shared)));
    Job {
        config: job,
        running,
        tasks,
    }
}

/// Keeps the job's loops in line with its static targets and discovered groups.
async fn sync_loop(
    job: Arc<config::ScrapeConfig>,
    mut groups: watch::Receiver<Vec<Groups>>,
    running: Arc<tokio::sync::Mutex<Vec<Running>>>,
    shared: Shared,
) {
    loop {
        let discovered: Groups = groups
            .borrow_and_update()
            .iter()
            .flatten()
            .cloned()
            .collect();
        let wanted = target::from_discovered(target::static_groups(&job).chain(discovered), &job);
        let mut live = running.lock().await;
        let (keep, gone): (Vec<Running>, Vec<Running>) = std::mem::take(&mut *live)
            .into_iter()
            .partition(|r| wanted.iter().any(|w| w.same(&r.target)));
        *live = keep;
        for t in wanted {
            if !live.iter().any(|r| r.target.same(&t)) {
                live.push(spawn(t, &job, &shared));
            }
        }
        drop(live);
        stop_all(gone).await;
        if groups.changed().await.is_err() {
            return;
        }
    }
}

fn spawn(target: Target, job: &Arc<config::ScrapeConfig>, shared: &Shared) -> Running {
    let mut l = Loop::new(
        target.clone(),
        job.clone(),
        shared.client.clone(),
        shared.store.clone(),
    );
    l.stats = shared.stats.clone();
    let status = l.status.clone();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(l.run(stopped));
    Running {
        target,
        status,
        stop,
        task,
    }
}

async fn stop_all(running: Vec<Running>) {
    for r in &running {
        let _ = r.stop.send(true);
    }
    for r in running {
        let _ = r.task.await;
    }
}
