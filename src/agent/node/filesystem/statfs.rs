//! statfs(2) with a per-mount timeout, so a hung NFS or CIFS mount never blocks a scrape
//! (node_exporter #244, PITFALLS 15).
//!
//! One persistent worker thread runs a scrape's calls in order and records each result
//! in a shared batch; the scrape sleeps on a condvar until the batch is complete, so a
//! scrape costs two thread wake-ups, not a thread (or a wake-up) per mount. When one
//! call has run longer than the timeout, the scrape marks that mount stuck, abandons the
//! worker to its blocked call and hands the remaining mounts to a fresh worker. Later
//! scrapes skip a stuck mount until its blocked call returns: the abandoned worker then
//! clears the mark and exits. At most one thread is held per stuck mount.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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

/// The calls of one scrape from `start` on, and their results so far.
struct Batch {
    paths: Arc<Vec<PathBuf>>,
    start: usize,
    state: Mutex<BatchState>,
    complete: Condvar,
}

struct BatchState {
    results: Vec<io::Result<FsUsage>>,
    /// When the call in progress started.
    started: Instant,
    /// The scrape gave up on this batch: the call in progress is stuck.
    abandoned: bool,
}

impl Batch {
    fn new(paths: Arc<Vec<PathBuf>>, start: usize) -> Arc<Self> {
        Arc::new(Batch {
            state: Mutex::new(BatchState {
                results: Vec::with_capacity(paths.len() - start),
                started: Instant::now(),
                abandoned: false,
            }),
            paths,
            start,
            complete: Condvar::new(),
        })
    }

    fn len(&self) -> usize {
        self.paths.len() - self.start
    }

    /// Records a call's result; false when the batch was abandoned meanwhile.
    fn finish(&self, r: io::Result<FsUsage>) -> bool {
        let mut st = lock(&self.state);
        if st.abandoned {
            return false;
        }
        st.results.push(r);
        st.started = Instant::now();
        if st.results.len() == self.len() {
            self.complete.notify_one();
        }
        true
    }
}

/// A mount whose statfs is still blocked, by the worker blocked in it.
struct StuckCall {
    worker: u64,
    mount_point: String,
}

type StuckList = Arc<Mutex<Vec<StuckCall>>>;

struct Worker {
    id: u64,
    batches: Sender<Arc<Batch>>,
}

/// Runs statfs calls with a timeout each; remembers mounts that hang.
pub struct Prober {
    stat: StatFn,
    timeout: Duration,
    stuck: StuckList,
    /// The current worker and the next worker id; the lock serializes scrapes.
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

    /// For each mount point, whether an earlier statfs of it is still blocked.
    pub fn stuck_flags<'a>(&self, mount_points: impl Iterator<Item = &'a str>) -> Vec<bool> {
        let stuck = lock(&self.stuck);
        mount_points
            .map(|mp| stuck.iter().any(|s| s.mount_point == mp))
            .collect()
    }

    /// How many mount points are stuck now.
    pub fn stuck_count(&self) -> usize {
        lock(&self.stuck).len()
    }

    /// Stats every path in order; one outcome per path. `mount_points` name the paths
    /// in logs and in the stuck list.
    pub fn stat_all(&self, paths: Arc<Vec<PathBuf>>, mount_points: &[&str]) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(paths.len());
        let mut guard = lock(&self.worker);
        let (worker, next_id) = &mut *guard;
        while out.len() < paths.len() {
            let w = match worker.take().map_or_else(|| self.spawn(next_id), Ok) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "Could not start a statfs worker thread.");
                    out.resize_with(paths.len(), || Outcome::Stuck);
                    break;
                }
            };
            let batch = Batch::new(paths.clone(), out.len());
            if w.batches.send(batch.clone()).is_err() {
                continue; // The worker is gone; start another.
            }
            let (results, stuck) = self.wait(&batch, w.id, mount_points);
            out.extend(results.into_iter().map(Outcome::Done));
            if stuck {
                out.push(Outcome::Stuck);
            } else {
                *worker = Some(w);
            }
        }
        out
    }

    /// Waits for the batch. When a call runs past the timeout, abandons the batch and
    /// marks its mount stuck (under the batch lock, so the worker cannot return from the
    /// call and miss the mark); returns the results so far and whether that happened.
    fn wait(
        &self,
        batch: &Batch,
        worker: u64,
        mount_points: &[&str],
    ) -> (Vec<io::Result<FsUsage>>, bool) {
        let mut st = lock(&batch.state);
        loop {
            if st.results.len() == batch.len() {
                return (std::mem::take(&mut st.results), false);
            }
            let running = st.started.elapsed();
            if running >= self.timeout {
                st.abandoned = true;
                let at = batch.start + st.results.len();
                self.mark_stuck(worker, mount_points.get(at).copied().unwrap_or("?"));
                return (std::mem::take(&mut st.results), true);
            }
            st = batch
                .complete
                .wait_timeout(st, self.timeout - running)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn mark_stuck(&self, worker: u64, mount_point: &str) {
        tracing::warn!(
            mountpoint = mount_point,
            timeout = ?self.timeout,
            "Mount point did not answer statfs in time; skipping it until the call returns."
        );
        lock(&self.stuck).push(StuckCall {
            worker,
            mount_point: mount_point.to_owned(),
        });
    }

    fn spawn(&self, next_id: &mut u64) -> io::Result<Worker> {
        *next_id += 1;
        let id = *next_id;
        let (tx, rx) = mpsc::channel::<Arc<Batch>>();
        let (stat, stuck) = (self.stat.clone(), self.stuck.clone());
        std::thread::Builder::new()
            .name("nodepulse-statfs".into())
            .spawn(move || {
                for batch in rx {
                    if !run_batch(&stat, &batch) {
                        release(&stuck, id);
                        return; // The prober replaced this worker when it gave up.
                    }
                }
            })?;
        Ok(Worker { id, batches: tx })
    }
}

/// Runs a batch's calls; false when the batch was abandoned during one of them.
fn run_batch(stat: &StatFn, batch: &Batch) -> bool {
    batch.paths[batch.start..].iter().all(|path| {
        // A panicking statfs (a test's, a libc bug) must not kill the worker silently.
        let r = catch_unwind(AssertUnwindSafe(|| stat(path)))
            .unwrap_or_else(|_| Err(io::Error::other("statfs panicked")));
        batch.finish(r)
    })
}

/// The abandoned worker's blocked call returned: its mount is monitored again.
fn release(stuck: &StuckList, worker: u64) {
    let mut stuck = lock(stuck);
    if let Some(i) = stuck.iter().position(|s| s.worker == worker) {
        let s = stuck.swap_remove(i);
        tracing::info!(
            mountpoint = s.mount_point,
            "Stuck mount point answered statfs again; it is monitored again."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn run(p: &Prober, mount_points: &[&str]) -> Vec<Outcome> {
        let paths = mount_points.iter().map(PathBuf::from).collect();
        p.stat_all(Arc::new(paths), mount_points)
    }

    fn is_stuck(p: &Prober, mp: &str) -> bool {
        p.stuck_flags([mp].into_iter())[0]
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
            let out = run(&p, &["/", "/err", "/boot"]);
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
        let out = run(&p, &["/a", "/hung", "/bb"]);
        // "/hung" blocks until released: returning at all proves it was not waited for.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(blocks(&out[0]), Some(2));
        assert!(matches!(out[1], Outcome::Stuck));
        assert_eq!(
            blocks(&out[2]),
            Some(3),
            "mounts after the hung one still report"
        );
        assert!(is_stuck(&p, "/hung"));
        assert_eq!(p.stuck_count(), 1);

        // The caller skips stuck mounts, so the next scrape does not call statfs on it.
        let out = run(&p, &["/a", "/bb"]);
        assert_eq!(out.len(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        drop(release); // The blocked call returns: the mount is monitored again.
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_stuck(&p, "/hung") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(p.stuck_count(), 0);
        let out = run(&p, &["/hung"]);
        assert_eq!(blocks(&out[0]), Some(99));
    }

    #[test]
    fn a_panicking_statfs_does_not_kill_the_scrape() {
        let stat: StatFn = Arc::new(|p: &Path| {
            assert!(p != Path::new("/boom"), "injected panic");
            Ok(usage(1))
        });
        let p = Prober::new(stat, Duration::from_secs(5));
        let out = run(&p, &["/a", "/boom", "/c"]);
        assert_eq!(blocks(&out[0]), Some(1));
        assert!(matches!(&out[1], Outcome::Done(Err(_))));
        assert_eq!(blocks(&out[2]), Some(1));
    }
}
