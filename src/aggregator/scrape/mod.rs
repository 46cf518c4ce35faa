//! Scraping, as Prometheus does it: the jobs of a Prometheus-shaped configuration
//! ([`config`]), their targets — static or discovered in Kubernetes ([`kube_sd`]) — shaped
//! by relabelling ([`target`], [`relabel`]), and one loop per target ([`run`]) that
//! fetches ([`fetch`]; over its own keep-alive connection, [`conn`], for plain http),
//! labels ([`samples`]) and appends through
//! [`crate::aggregator::model::Appender`]. [`Manager`] keeps one loop per live target:
//! a target that appears gets a loop, one that goes away has its loop stopped (which
//! marks its series stale). [`Manager::apply`] takes a reloaded configuration as
//! Prometheus's scrape manager does: an unchanged job runs on untouched, a changed one
//! is restarted with its targets' loops handed over (no staleness marker, no gap), a
//! removed one is stopped (its series marked stale).

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

use crate::aggregator::model::{Appender, Labels};
use run::{Loop, Stop, TargetStatus};
use std::collections::HashSet;
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
    stop: watch::Sender<Stop>,
    /// Ends with the series a handed-over loop passes on.
    task: JoinHandle<HashSet<Labels>>,
}

/// A target whose loop was handed over, with its last scrape's series.
type HandedOver = (Target, HashSet<Labels>);

/// One job: its live loops and the task that keeps them in line with discovery.
struct Job {
    config: Arc<config::ScrapeConfig>,
    running: Arc<tokio::sync::Mutex<Vec<Running>>>,
    tasks: Vec<JoinHandle<()>>,
}

/// The running scrape loops of every job.
pub struct Manager {
    jobs: tokio::sync::Mutex<Vec<Job>>,
    shared: Shared,
    stats: Arc<run::ScrapeStats>,
}

use kube_sd::Groups;

impl Job {
    /// Stops discovery and every loop, their series marked stale.
    async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        let running = std::mem::take(&mut *self.running.lock().await);
        stop_all(running, Stop::Stale).await;
    }

    /// Stops discovery and every loop without staleness markers; returns the targets
    /// with their series, for the job's new loops.
    async fn hand_over(self) -> Vec<HandedOver> {
        for t in &self.tasks {
            t.abort();
        }
        let running = std::mem::take(&mut *self.running.lock().await);
        let targets: Vec<Target> = running.iter().map(|r| r.target.clone()).collect();
        let lasts = stop_all(running, Stop::HandOver).await;
        targets.into_iter().zip(lasts).collect()
    }
}

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
            .map(|c| start_job(Arc::new(c.clone()), shared.clone(), Vec::new()))
            .collect();
        Manager {
            jobs: tokio::sync::Mutex::new(jobs),
            stats: shared.stats.clone(),
            shared,
        }
    }

    /// Runs `config`'s jobs from now on; see the module comment. Returns the names of
    /// the jobs started, restarted and stopped.
    pub async fn apply(&self, config: &config::Config) -> Applied {
        let mut jobs = self.jobs.lock().await;
        let mut old = std::mem::take(&mut *jobs);
        let mut applied = Applied::default();
        for c in &config.scrape_configs {
            let same_name = old.iter().position(|j| j.config.job_name == c.job_name);
            let inherited = match same_name.map(|i| old.remove(i)) {
                Some(job) if *job.config == *c => {
                    jobs.push(job);
                    continue;
                }
                Some(job) => {
                    applied.restarted.push(c.job_name.clone());
                    job.hand_over().await
                }
                None => {
                    applied.started.push(c.job_name.clone());
                    Vec::new()
                }
            };
            jobs.push(start_job(
                Arc::new(c.clone()),
                self.shared.clone(),
                inherited,
            ));
        }
        for job in old {
            applied.stopped.push(job.config.job_name.clone());
            job.stop().await;
        }
        applied
    }

    /// What the loops could not store, since start.
    pub fn stats(&self) -> &run::ScrapeStats {
        &self.stats
    }

    /// Every target with its last scrape's state.
    pub async fn targets(&self) -> Vec<ActiveTarget> {
        let mut out = Vec::new();
        for job in self.jobs.lock().await.iter() {
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
        for job in std::mem::take(&mut *self.jobs.lock().await) {
            job.stop().await;
        }
    }
}

/// What [`Manager::apply`] changed, by job name.
#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    pub started: Vec<String>,
    pub restarted: Vec<String>,
    pub stopped: Vec<String>,
}

/// What every loop of the manager uses.
#[derive(Clone)]
struct Shared {
    client: reqwest::Client,
    store: Arc<dyn Appender>,
    stats: Arc<run::ScrapeStats>,
}

impl Shared {
    /// What the job's loops use: a client of its own when its `tls_config` needs one.
    fn for_job(&self, job: &config::ScrapeConfig) -> Shared {
        match job.client.reqwest(conn::USER_AGENT) {
            Ok(Some(client)) => Shared {
                client,
                ..self.clone()
            },
            Ok(None) => self.clone(),
            // Checked when the configuration was loaded.
            Err(e) => {
                tracing::error!(job = %job.job_name, error = %e,
                    "Cannot build the job's HTTP client; its scrapes use the default one.");
                self.clone()
            }
        }
    }
}

/// Starts a job: its discovery, its sync loop, and at once a loop for each target
/// handed over by the job's previous configuration (kept until the new one's targets
/// are known: see [`sync_loop`]).
fn start_job(job: Arc<config::ScrapeConfig>, shared: Shared, inherited: Vec<HandedOver>) -> Job {
    let shared = shared.for_job(&job);
    let running: Vec<Running> = inherited
        .into_iter()
        .map(|(t, last)| spawn(t, &job, &shared, last))
        .collect();
    let running = Arc::new(tokio::sync::Mutex::new(running));
    let (groups, mut tasks) = kube_sd::watch_all(&job.kube_sd, &job.job_name);
    let (job2, running2) = (job.clone(), running.clone());
    tasks.push(tokio::spawn(sync_loop(job2, groups, running2, shared)));
    Job {
        config: job,
        running,
        tasks,
    }
}

/// Keeps the job's loops in line with its static targets and discovered groups. Until
/// every discovery has published once, no loop is stopped: a target handed over by a
/// reload keeps its loop until discovery says whether it is still there.
async fn sync_loop(
    job: Arc<config::ScrapeConfig>,
    mut groups: watch::Receiver<Vec<Option<Groups>>>,
    running: Arc<tokio::sync::Mutex<Vec<Running>>>,
    shared: Shared,
) {
    loop {
        let (discovered, complete) = {
            let all = groups.borrow_and_update();
            let found: Groups = all.iter().flatten().flatten().cloned().collect();
            (found, all.iter().all(Option::is_some))
        };
        let wanted = target::from_discovered(target::static_groups(&job).chain(discovered), &job);
        let mut live = running.lock().await;
        let (keep, gone): (Vec<Running>, Vec<Running>) = std::mem::take(&mut *live)
            .into_iter()
            .partition(|r| !complete || wanted.iter().any(|w| w.same(&r.target)));
        *live = keep;
        for t in wanted {
            if !live.iter().any(|r| r.target.same(&t)) {
                live.push(spawn(t, &job, &shared, HashSet::new()));
            }
        }
        drop(live);
        stop_all(gone, Stop::Stale).await;
        if groups.changed().await.is_err() {
            return;
        }
    }
}

fn spawn(
    target: Target,
    job: &Arc<config::ScrapeConfig>,
    shared: &Shared,
    last: HashSet<Labels>,
) -> Running {
    let mut l = Loop::new(
        target.clone(),
        job.clone(),
        shared.client.clone(),
        shared.store.clone(),
    )
    .taking_over(last);
    l.stats = shared.stats.clone();
    let status = l.status.clone();
    let (stop, stopped) = watch::channel(Stop::Run);
    let task = tokio::spawn(l.run(stopped));
    Running {
        target,
        status,
        stop,
        task,
    }
}

/// Stops the loops as `how` says; returns each one's handed-over series, in order.
async fn stop_all(running: Vec<Running>, how: Stop) -> Vec<HashSet<Labels>> {
    for r in &running {
        let _ = r.stop.send(how);
    }
    let mut lasts = Vec::new();
    for r in running {
        lasts.push(r.task.await.unwrap_or_default());
    }
    lasts
}
