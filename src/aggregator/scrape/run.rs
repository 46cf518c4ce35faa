//! The loop of one target: a scrape every interval (at an offset within it derived
//! from the target, so targets spread as in Prometheus), the samples and the
//! synthesized series appended in one batch, staleness markers for series that left
//! the body or for all of them when the scrape failed, and for everything the target
//! wrote when the loop stops (the target went away). Plain http targets are scraped
//! over the loop's own keep-alive connection ([`super::conn`]): when the target closes
//! it and refuses a new one (it was killed), the loop scrapes at once — a failed
//! scrape, `up` 0 — at most once an interval, so that the rules reading it fire now.

use super::config::ScrapeConfig;
use super::conn::KeepAlive;
use super::fetch::{fetch, FetchError};
use super::metadata::{self, Metadata};
use super::samples::{sample_labels, Report};
use super::stats::Batch;
pub use super::stats::ScrapeStats;
use super::target::Target;
use crate::aggregator::model::{stale_nan, Appender, Labels, Sample};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// What `/api/v1/targets` shows of a target.
#[derive(Debug, Clone, Default)]
pub struct TargetStatus {
    /// "unknown" before the first scrape, then "up" or "down".
    pub health: &'static str,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: Duration,
    /// TYPE and HELP of the last successful scrape (kept when a scrape fails).
    pub metadata: Arc<Metadata>,
}

/// What a loop is told: go on, stop as the target went away (its series marked stale),
/// or stop and hand its series over to a new loop for the same target (a reloaded job,
/// as Prometheus's scrape pool reload: no gap in the series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Run,
    Stale,
    HandOver,
}

/// One target's loop and what it needs.
pub struct Loop {
    pub target: Target,
    pub job: Arc<ScrapeConfig>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Appender>,
    pub status: Arc<Mutex<TargetStatus>>,
    /// Shared by the manager's loops; a loop of its own by default.
    pub stats: Arc<ScrapeStats>,
    /// The series written by the last scrape (for staleness).
    last: HashSet<Labels>,
    /// The loop's own connection (None: the scrapes go through `client`).
    conn: Option<KeepAlive>,
    /// When the loop last scraped early (a target that went away).
    early: Option<Instant>,
}

impl Loop {
    pub fn new(
        target: Target,
        job: Arc<ScrapeConfig>,
        client: reqwest::Client,
        store: Arc<dyn Appender>,
    ) -> Self {
        let status = TargetStatus {
            health: "unknown",
            ..TargetStatus::default()
        };
        Loop {
            conn: KeepAlive::for_url(&target.url),
            early: None,
            target,
            job,
            client,
            store,
            status: Arc::new(Mutex::new(status)),
            stats: Arc::default(),
            last: HashSet::new(),
        }
    }

    /// Series the target wrote before this loop (a loop taking over from one stopped
    /// with [`Stop::HandOver`]): marked stale if they leave, as its own.
    pub fn taking_over(mut self, last: HashSet<Labels>) -> Self {
        self.last = last;
        self
    }

    /// Scrapes until `stop` leaves [`Stop::Run`]: then marks everything stale, or (handed
    /// over) returns the series of the last scrape for the next loop.
    pub async fn run(mut self, mut stop: watch::Receiver<Stop>) -> HashSet<Labels> {
        let interval = self.job.interval;
        let first = tokio::time::Instant::now() + self.offset(interval);
        let mut ticks = tokio::time::interval_at(first, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.scrape_once().await,
                () = closed(&mut self.conn) => self.peer_closed().await,
                // The manager gone without a word: as if the target went away.
                changed = stop.changed() => if changed.is_err() { break },
            }
            match *stop.borrow() {
                Stop::Run => continue,
                Stop::HandOver => return std::mem::take(&mut self.last),
                Stop::Stale => break,
            }
        }
        let stale = self.stale_all(now_ms());
        self.append(stale).await;
        HashSet::new()
    }

    /// The target closed the loop's connection: a new one refused (it went away) means
    /// a scrape now, unless the loop already scraped early within the last interval;
    /// a new one accepted (a server closing idle connections) is kept, nothing scraped.
    async fn peer_closed(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let Err(e) = conn.reconnect(self.job.timeout).await else {
            return;
        };
        let interval = self.job.interval;
        if self.early.is_some_and(|at| at.elapsed() < interval) {
            return;
        }
        self.early = Some(Instant::now());
        self.stats.early_scrapes.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target = %self.target.url, error = %e,
            "The target closed its connection and refuses a new one; scraping now.");
        self.scrape_once().await;
    }

    /// The target's place within the interval: a hash of its URL and labels.
    fn offset(&self, interval: Duration) -> Duration {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.target.url.hash(&mut h);
        self.target.labels.hash(&mut h);
        let nanos = interval.as_nanos().max(1) as u64;
        Duration::from_nanos(h.finish() % nanos)
    }

    /// One scrape: fetch, label, append with the report and staleness markers.
    pub async fn scrape_once(&mut self) {
        let (ts, started) = (now_ms(), Instant::now());
        let job = &self.job;
        let (timeout, limit) = (job.timeout, job.body_size_limit);
        let result = match job.client.header() {
            Err(e) => Err(FetchError::Http(e)),
            Ok(auth) => match self.conn.as_mut() {
                Some(conn) => conn.fetch(timeout, limit, auth.as_deref()).await,
                None => {
                    let url = &self.target.url;
                    fetch(&self.client, url, timeout, limit, auth.as_deref()).await
                }
            },
        };
        let duration = started.elapsed();
        let mut meta = None;
        let (mut batch, report, error) = match result.map_err(|e| e.to_string()).and_then(|p| {
            meta = Some(metadata::of(&p));
            self.samples(p, ts)
        }) {
            Ok((batch, current, scraped)) => {
                let post = batch.len() as u64;
                let added = current.difference(&self.last).count() as u64;
                let mut batch = batch;
                batch.extend(self.last.difference(&current).map(|l| {
                    (
                        l.clone(),
                        vec![Sample {
                            t: ts,
                            v: stale_nan(),
                        }],
                    )
                }));
                self.last = current;
                (
                    batch,
                    Report {
                        up: true,
                        duration_seconds: duration.as_secs_f64(),
                        scraped,
                        post_relabel: post,
                        series_added: added,
                    },
                    String::new(),
                )
            }
            Err(e) => {
                let stale = self
                    .last
                    .drain()
                    .map(|l| {
                        (
                            l,
                            vec![Sample {
                                t: ts,
                                v: stale_nan(),
                            }],
                        )
                    })
                    .collect();
                (
                    stale,
                    Report {
                        up: false,
                        duration_seconds: duration.as_secs_f64(),
                        scraped: 0,
                        post_relabel: 0,
                        series_added: 0,
                    },
                    e,
                )
            }
        };
        batch.extend(
            report
                .series(&self.target.labels)
                .into_iter()
                .map(|(l, v)| (l, vec![Sample { t: ts, v }])),
        );
        // the status first: whoever the stored batch's announcement wakes sees it
        self.set_status(report.up, error, ts, duration, meta);
        self.append(batch).await;
    }

    /// Records a scrape's outcome for `/api/v1/targets` (metadata kept when unchanged).
    fn set_status(
        &self,
        up: bool,
        last_error: String,
        ts: i64,
        last_duration: Duration,
        meta: Option<Metadata>,
    ) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let mut metadata = std::mem::take(&mut status.metadata);
        if let Some(m) = meta.filter(|m| *m != *metadata) {
            metadata = Arc::new(m);
        }
        *status = TargetStatus {
            health: if up { "up" } else { "down" },
            last_error,
            last_scrape: Some(UNIX_EPOCH + Duration::from_millis(ts as u64)),
            last_duration,
            metadata,
        };
    }

    /// The labelled samples of a parsed body, their series, and how many samples the
    /// body had.
    fn samples(
        &self,
        parsed: crate::exposition::parse::Parsed,
        ts: i64,
    ) -> Result<(Batch, HashSet<Labels>, u64), String> {
        let job = &self.job;
        let scraped = parsed.samples.len() as u64;
        let mut batch: Batch = Vec::with_capacity(parsed.samples.len());
        let mut seen = HashSet::with_capacity(parsed.samples.len());
        for s in &parsed.samples {
            let Some(labels) = sample_labels(
                s,
                &self.target.labels,
                job.honor_labels,
                &job.metric_relabel_configs,
            ) else {
                continue;
            };
            if !seen.insert(labels.clone()) {
                // A repeated series within one body: the first sample wins, counted.
                self.stats.samples_duplicate.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let t = s
                .timestamp_ms
                .filter(|_| job.honor_timestamps)
                .unwrap_or(ts);
            batch.push((labels, vec![Sample { t, v: s.value }]));
        }
        if job.sample_limit > 0 && batch.len() as u64 > job.sample_limit {
            return Err("sample limit exceeded".into());
        }
        Ok((batch, seen, scraped))
    }

    /// Stale markers for the last scrape's series and the synthesized ones.
    fn stale_all(&mut self, ts: i64) -> Batch {
        let report = super::samples::REPORT_NAMES
            .iter()
            .map(|n| super::samples::report_labels(n, &self.target.labels));
        self.last
            .drain()
            .chain(report)
            .map(|l| {
                (
                    l,
                    vec![Sample {
                        t: ts,
                        v: stale_nan(),
                    }],
                )
            })
            .collect()
    }

    async fn append(&self, batch: Batch) {
        let store = self.store.clone();
        let url = self.target.url.clone();
        let done =
            tokio::task::spawn_blocking(move || store.append(&batch).map(|o| (o, batch))).await;
        let stats = &self.stats;
        match done {
            Ok(Ok((o, batch))) => {
                stats.stored(&batch);
                let out_of_order = &stats.samples_out_of_order;
                out_of_order.fetch_add(o.out_of_order, Ordering::Relaxed);
                stats
                    .samples_duplicate
                    .fetch_add(o.duplicate, Ordering::Relaxed);
            }
            Ok(Err(e)) => {
                stats.append_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target = %url, error = %e, "Cannot store a scrape's samples.")
            }
            Err(e) => {
                stats.append_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target = %url, error = %e, "The storage task failed.")
            }
        }
    }
}

/// Resolves when the loop's connection was closed by its target; never without one.
async fn closed(conn: &mut Option<KeepAlive>) {
    match conn {
        Some(c) => c.closed().await,
        None => std::future::pending().await,
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
