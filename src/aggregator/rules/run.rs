//! A group's evaluation loop on tokio timers, as Prometheus's `Group.run`: the first
//! evaluation at the group's next slot (interval-aligned with its offset), then one per
//! interval; a late tick counts the iterations it missed and skips them. At start-up,
//! `for` state is restored after the second evaluation. [`GroupHandle::eval_now`] asks
//! for an extra evaluation at the current time (right after a scrape or a push, say);
//! it is skipped when it would not be later than the last one, so timestamps only grow,
//! waits while extra evaluations would take more than a tenth of a core, and for 10 ms
//! after the last evaluation at least ([`extra_at`]), and is dropped when the next tick
//! comes first.

use super::group::Group;
use super::reads::Reads;
use super::schedule::{eval_timestamp_ns, missed};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Wall-clock time in ns since the epoch; a trait so tests can run on tokio's paused clock.
pub trait Clock: Send + Sync {
    fn now_ns(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ns(&self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// Wall time that moves with tokio's clock (paused in tests) from `base_ns`.
pub struct TokioClock {
    pub base_ns: i64,
    pub start: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now_ns(&self) -> i64 {
        self.base_ns + self.start.elapsed().as_nanos() as i64
    }
}

/// Counters of a group's loop (Prometheus's `rule_group_iterations_*`).
#[derive(Default, Debug)]
pub struct LoopStats {
    pub scheduled: AtomicU64,
    pub missed: AtomicU64,
    pub extra: AtomicU64,
    /// Wake-ups dropped because the next tick came first ([`extra_at`]).
    pub extra_dropped: AtomicU64,
}

/// A running group: the group itself (for snapshots), and its loop's controls.
pub struct GroupHandle {
    pub group: Arc<Mutex<Group>>,
    /// The metrics the group's rules read (fixed for the handle's life).
    pub reads: Reads,
    pub stats: Arc<LoopStats>,
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GroupHandle {
    /// Starts `group`'s loop.
    pub fn start(group: Group, clock: Arc<dyn Clock>) -> GroupHandle {
        let reads = Reads::of(group.rules().map(|(r, _)| r.expr()));
        let group = Arc::new(Mutex::new(group));
        let (stop, stopped) = watch::channel(false);
        let l = Loop {
            group: Arc::clone(&group),
            clock,
            stats: Arc::default(),
            wake: Arc::default(),
            stopped,
            cost: Cost::default(),
        };
        let (stats, wake) = (Arc::clone(&l.stats), Arc::clone(&l.wake));
        let task = tokio::spawn(l.run());
        GroupHandle {
            group,
            reads,
            stats,
            wake,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Asks for an evaluation now, besides the regular ones.
    pub fn eval_now(&self) {
        self.wake.notify_one();
    }

    /// Stops the loop after its current evaluation (the group stays readable).
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

struct Loop {
    group: Arc<Mutex<Group>>,
    clock: Arc<dyn Clock>,
    stats: Arc<LoopStats>,
    wake: Arc<Notify>,
    stopped: watch::Receiver<bool>,
    /// The last evaluation's: bounds how soon an extra one may follow ([`extra_at`]).
    cost: Cost,
}

impl Loop {
    async fn run(mut self) {
        let (file, name, interval_ms, restore) = {
            let g = lock(&self.group);
            (
                g.file.clone(),
                g.name().to_string(),
                g.interval_ms,
                g.should_restore,
            )
        };
        let interval = interval_ms.max(1) * 1_000_000;
        let mut ts = eval_timestamp_ns(&file, &name, interval, self.clock.now_ns()) + interval;
        if !self.sleep_until(ts).await {
            return;
        }
        self.cost = self.scheduled(ts).await;
        let mut restore_pending = restore;
        loop {
            tokio::select! {
                biased;
                _ = self.stopped.changed() => return,
                _ = self.wake.notified() => {
                    let now = self.clock.now_ns();
                    match extra_at(self.cost, now, ts + interval) {
                        None => {
                            // The tick comes first.
                            self.stats.extra_dropped.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Some(at) if at > now && !self.sleep_until(at).await => return,
                        Some(_) => {}
                    }
                    self.stats.extra.fetch_add(1, Ordering::Relaxed);
                    self.cost = self.iter(self.clock.now_ns()).await;
                }
                _ = sleep_for(self.clock.as_ref(), ts + interval) => {
                    let n = missed(ts, self.clock.now_ns(), interval);
                    self.stats.missed.fetch_add(n as u64, Ordering::Relaxed);
                    self.stats.scheduled.fetch_add(n as u64, Ordering::Relaxed);
                    ts += (n + 1) * interval;
                    self.cost = self.scheduled(ts).await;
                    if restore_pending {
                        self.restore().await;
                        restore_pending = false;
                    }
                }
            }
        }
    }

    /// Sleeps until wall time `ns`; false when stopped first.
    async fn sleep_until(&mut self, ns: i64) -> bool {
        tokio::select! {
            _ = self.stopped.changed() => false,
            _ = sleep_for(self.clock.as_ref(), ns) => true,
        }
    }

    /// A regular (counted) evaluation at `ns`.
    async fn scheduled(&self, ns: i64) -> Cost {
        self.stats.scheduled.fetch_add(1, Ordering::Relaxed);
        self.iter(ns).await
    }

    /// One evaluation at `ns` (off the async workers: PromQL is CPU work), and what it
    /// cost on the loop's clock.
    async fn iter(&self, ns: i64) -> Cost {
        let group = Arc::clone(&self.group);
        let ms = ns.div_euclid(1_000_000);
        let start = self.clock.now_ns();
        let _ = tokio::task::spawn_blocking(move || {
            let mut g = lock(&group);
            if g.last_eval_ts.is_none_or(|last| ms > last) {
                g.eval(ms);
            }
        })
        .await;
        let end = self.clock.now_ns();
        Cost {
            end_ns: end,
            took_ns: (end - start).max(0),
        }
    }

    async fn restore(&self) {
        let group = Arc::clone(&self.group);
        let now_ms = self.clock.now_ns().div_euclid(1_000_000);
        let _ = tokio::task::spawn_blocking(move || lock(&group).restore_for_state(now_ms)).await;
    }
}

/// When and how long the loop's last evaluation ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Cost {
    pub end_ns: i64,
    pub took_ns: i64,
}

/// Extra evaluations take at most 1/EXTRA_SHARE of a core per group: a wake-up waits
/// until EXTRA_SHARE times the last evaluation's duration has passed since it ended, so
/// a group that is slow to evaluate (many series, a long LogQL range) is not run after
/// every scrape or push of a busy cluster.
pub(super) const EXTRA_SHARE: i64 = 10;

/// The least time from one evaluation's end to an extra one's start, however cheap the
/// group: wake-ups from a burst of scrapes or pushes within it are taken together (at
/// most 100 extra evaluations a second a group).
pub(super) const EXTRA_GAP_NS: i64 = 10_000_000;

/// When an extra evaluation asked for at `now_ns` may run, or None when the next tick
/// (`tick_ns`) comes first and makes it needless.
pub(super) fn extra_at(last: Cost, now_ns: i64, tick_ns: i64) -> Option<i64> {
    let wait = last.took_ns.saturating_mul(EXTRA_SHARE).max(EXTRA_GAP_NS);
    let at = now_ns.max(last.end_ns.saturating_add(wait));
    (at < tick_ns).then_some(at)
}

fn sleep_for(clock: &dyn Clock, until_ns: i64) -> tokio::time::Sleep {
    let wait = (until_ns - clock.now_ns()).max(0);
    tokio::time::sleep(Duration::from_nanos(wait as u64))
}

pub(super) fn lock(g: &Mutex<Group>) -> std::sync::MutexGuard<'_, Group> {
    g.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn cost(end_ms: i64, took_ms: i64) -> Cost {
        Cost {
            end_ns: end_ms * MS,
            took_ns: took_ms * MS,
        }
    }

    #[test]
    fn a_cheap_group_is_evaluated_at_once() {
        assert_eq!(
            extra_at(cost(1_000, 2), 1_030 * MS, 5_000 * MS),
            Some(1_030 * MS)
        );
    }

    #[test]
    fn a_burst_of_wake_ups_waits_the_least_gap() {
        // 0.1 ms to evaluate, ended at 1 s: ten times that is 1 ms, the gap is 10 ms.
        let cheap = Cost {
            end_ns: 1_000 * MS,
            took_ns: MS / 10,
        };
        assert_eq!(extra_at(cheap, 1_002 * MS, 5_000 * MS), Some(1_010 * MS));
        assert_eq!(extra_at(cheap, 1_010 * MS, 5_000 * MS), Some(1_010 * MS));
    }

    #[test]
    fn a_costly_group_waits_ten_times_its_last_evaluation() {
        // 300 ms to evaluate, ended at 1 s: not before 4 s.
        assert_eq!(
            extra_at(cost(1_000, 300), 1_100 * MS, 15_000 * MS),
            Some(4_000 * MS)
        );
    }

    #[test]
    fn an_extra_evaluation_the_tick_would_overtake_is_dropped() {
        assert_eq!(extra_at(cost(1_000, 300), 1_100 * MS, 4_000 * MS), None);
        assert_eq!(extra_at(cost(0, 0), 2_000 * MS, 2_000 * MS), None);
    }
}
