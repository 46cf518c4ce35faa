//! statfs(2) with a per-mount timeout, so a hung NFS or CIFS mount never blocks a scrape
//! (node_exporter #244, PITFALLS 15).
//!
//! One persistent worker thread runs the calls of a scrape in order and streams the
//! results back; a scrape costs one channel send, not a thread per mount. When a result
//! does not come within the timeout, the mount being stat'ed is marked stuck, the worker
//! is abandoned to its blocked call and a fresh one takes the remaining mounts. Later
//! scrapes skip a stuck mount until its blocked call returns: the old worker then clears
//! the mark and exits. At most one thread is held per stuck mount.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// What node_exporter reads from `statfs(2)` (`unix.Statfs_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsUsage {
    pub block_size: u64,
    pub blocks: u64,
    pub blocks_free: u64,
    pub blocks_avail: u64,
    pub files: u64,
    pub files_free: u64,
}

/// The statfs call, behind a closure so tests can inject one that blocks.
pub type StatFn = Arc<dyn Fn(&Path) -> io::Result<FsUsage> + Send + Sync>;

/// The real statfs(2). node_exporter multiplies block counts by `f_bsize` (not
/// `f_frsize` as statvfs users do), so statfs, not statvfs, gives its exact values.
pub fn statfs(path: &Path) -> io::Result<FsUsage> {
    let s = rustix::fs::statfs(path)?;
    Ok(FsUsage {
        block_size: s.f_bsize as u64,
        blocks: s.f_blocks,
        blocks_free: s.f_bfree,
        blocks_avail: s.f_bavail,
        files: s.f_files,
        files_free: s.f_ffree,
    })
}

/// The result of one mount's statfs.
#[derive(Debug)]
pub enum Outcome {
    Done(io::Result<FsUsage>),
    /// The call did not return in time (now or at an earlier scrape).
    Stuck,
}

/// One statfs of a scrape: the path to stat and the mount point it is known by.
pub struct Job {
    pub path: PathBuf,
    pub mount_point: String,
}

/// A mount whose statfs is still blocked, by the ticket of that call.
struct StuckCall {
    ticket: u64,
    mount_point: String,
}

type StuckList = Arc<Mutex<Vec<StuckCall>>>;

struct Worker {
    jobs: Sender<Vec<(u64, PathBuf)>>,
    results: Receiver<io::Result<FsUsage>>,
}

/// Runs statfs calls with a timeout each; remembers mounts that hang.
pub struct Prober {
    stat: StatFn,
    timeout: Duration,
    stuck: StuckList,
    /// The current worker and the next call ticket; the lock serializes scrapes.
    worker: Mutex<(Option<Worker>, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Prober {
    pub fn new(stat: StatFn, timeout: Duration) -> Self {
        Prober {
            stat,
            timeout,
            stuck: Arc::default(),
            worker: Mutex::new((None, 0)),
        }
    }

    /// True while an earlier statfs of this mount point is still blocked.
    pub fn is_stuck(&self, mount_point: &str) -> bool {
        lock(&self.stuck)
            .iter()
            .any(|s| s.mount_point == mount_point)
    }

    /// How many mount points are stuck now.
    pub fn stuck_count(&self) -> usize {
        lock(&self.stuck).len()
    }

    /// Stats every job in order; one outcome per job.
    pub fn stat_all(&self, jobs: Vec<Job>) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(jobs.len());
        let mut guard = lock(&self.worker);
        let (worker, next_ticket) = &mut *guard;
        while out.len() < jobs.len() {
            let rest = &jobs[out.len()..];
            let w = match worker.take().map_or_else(|| self.spawn(), Ok) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "Could not start a statfs worker thread.");
                    out.extend(rest.iter().map(|_| Outcome::Stuck));
                    break;
                }
            };
            let first_ticket = *next_ticket + 1;
            let batch: Vec<_> = (first_ticket..)
                .zip(rest.iter().map(|j| j.path.clone()))
                .collect();
            *next_ticket += rest.len() as u64;
            if w.jobs.send(batch).is_err() {
                continue; // The worker died (a panicking statfs); start another.
            }
            if self.drain(&w, rest, first_ticket, &mut out) {
                *worker = Some(w);
            }
        }
        out
    }

    /// Receives one result per job of `rest`; false when the worker got stuck and must
    /// be replaced (the stuck job's outcome is then pushed too).
    fn drain(&self, w: &Worker, rest: &[Job], first_ticket: u64, out: &mut Vec<Outcome>) -> bool {
        for (i, job) in rest.iter().enumerate() {
            match w.results.recv_timeout(self.timeout) {
                Ok(r) => out.push(Outcome::Done(r)),
                Err(RecvTimeoutError::Timeout) => {
                    match self.mark_stuck(w, first_ticket + i as u64, &job.mount_point) {
                        Some(r) => out.push(Outcome::Done(r)),
                        None => {
                            out.push(Outcome::Stuck);
                            return false;
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    out.push(Outcome::Done(Err(io::Error::other("statfs worker died"))));
                    return false;
                }
            }
        }
        true
    }

    /// Marks the call stuck unless its result arrived meanwhile. The worker sends its
    /// results under the same lock, so a result cannot slip between check and mark.
    fn mark_stuck(
        &self,
        w: &Worker,
        ticket: u64,
        mount_point: &str,
    ) -> Option<io::Result<FsUsage>> {
        let mut stuck = lock(&self.stuck);
        if let Ok(r) = w.results.try_recv() {
            return Some(r);
        }
        tracing::warn!(
            mountpoint = mount_point,
            timeout = ?self.timeout,
            "Mount point did not answer statfs in time; skipping it until the call returns."
        );
        stuck.push(StuckCall {
            ticket,
            mount_point: mount_point.to_owned(),
        });
        None
    }

    fn spawn(&self) -> io::Result<Worker> {
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let (results_tx, results_rx) = mpsc::channel();
        let (stat, stuck) = (self.stat.clone(), self.stuck.clone());
        std::thread::Builder::new()
            .name("nodepulse-statfs".into())
            .spawn(move || run_worker(&stat, &stuck, &jobs_rx, &results_tx))?;
        Ok(Worker {
            jobs: jobs_tx,
            results: results_rx,
        })
    }
}

/// The worker loop: stat each path, send the result, until the prober lets go of it.
fn run_worker(
    stat: &StatFn,
    stuck: &StuckList,
    jobs: &Receiver<Vec<(u64, PathBuf)>>,
    results: &Sender<io::Result<FsUsage>>,
) {
    for batch in jobs {
        for (ticket, path) in batch {
            let r = stat(&path);
            let mut stuck = lock(stuck);
            if let Some(i) = stuck.iter().position(|s| s.ticket == ticket) {
                let s = stuck.swap_remove(i);
                tracing::info!(
                    mountpoint = s.mount_point,
                    "Stuck mount point answered statfs again; it is monitored again."
                );
                return; // The prober replaced this worker when it marked the call.
            }
            if results.send(r).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn job(mp: &str) -> Job {
        Job {
            path: PathBuf::from(mp),
            mount_point: mp.to_owned(),
        }
    }

    fn usage(blocks: u64) -> FsUsage {
        FsUsage {
            block_size: 4096,
            blocks,
            ..FsUsage::default()
        }
    }

    /// A statfs that blocks on `/hung` until the returned sender is dropped, and counts
    /// the calls it gets for `/hung`.
    fn hanging_stat() -> (StatFn, Sender<()>, Arc<AtomicUsize>) {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let stat: StatFn = Arc::new(move |p: &Path| {
            if p == Path::new("/hung") {
                c.fetch_add(1, Ordering::SeqCst);
                let _ = lock(&release_rx).recv();
                return Ok(usage(99));
            }
            if p == Path::new("/err") {
                return Err(io::Error::from_raw_os_error(5));
            }
            Ok(usage(p.as_os_str().len() as u64))
        });
        (stat, release_tx, calls)
    }

    fn blocks(o: &Outcome) -> Option<u64> {
        match o {
            Outcome::Done(Ok(u)) => Some(u.blocks),
            _ => None,
        }
    }

    #[test]
    fn stats_in_order_on_one_worker() {
        let (stat, _release, _) = hanging_stat();
        let p = Prober::new(stat, Duration::from_secs(5));
        for _ in 0..3 {
            let out = p.stat_all(vec![job("/"), job("/err"), job("/boot")]);
            assert_eq!(blocks(&out[0]), Some(1));
            assert!(matches!(&out[1], Outcome::Done(Err(_))));
            assert_eq!(blocks(&out[2]), Some(5));
        }
        assert_eq!(p.stuck_count(), 0);
    }

    #[test]
    fn a_hung_mount_times_out_is_skipped_and_comes_back() {
        let (stat, release, calls) = hanging_stat();
        let timeout = Duration::from_millis(100);
        let p = Prober::new(stat, timeout);

        let start = Instant::now();
        let out = p.stat_all(vec![job("/a"), job("/hung"), job("/bb")]);
        assert!(start.elapsed() < timeout * 5, "took {:?}", start.elapsed());
        assert_eq!(blocks(&out[0]), Some(2));
        assert!(matches!(out[1], Outcome::Stuck));
        assert_eq!(
            blocks(&out[2]),
            Some(3),
            "mounts after the hung one still report"
        );
        assert!(p.is_stuck("/hung"));
        assert_eq!(p.stuck_count(), 1);

        // The caller skips stuck mounts, so the next scrape does not call statfs on it.
        let out = p.stat_all(vec![job("/a"), job("/bb")]);
        assert_eq!(out.len(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        drop(release); // The blocked call returns: the mount is monitored again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while p.is_stuck("/hung") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(p.stuck_count(), 0);
        let out = p.stat_all(vec![job("/hung")]);
        assert_eq!(blocks(&out[0]), Some(99));
    }

    #[test]
    fn a_panicking_statfs_does_not_kill_the_scrape() {
        let stat: StatFn = Arc::new(|p: &Path| {
            assert!(p != Path::new("/boom"), "injected panic");
            Ok(usage(1))
        });
        let p = Prober::new(stat, Duration::from_secs(5));
        let out = p.stat_all(vec![job("/a"), job("/boom"), job("/c")]);
        assert_eq!(blocks(&out[0]), Some(1));
        assert!(matches!(&out[1], Outcome::Done(Err(_))));
        assert_eq!(blocks(&out[2]), Some(1));
    }
}
