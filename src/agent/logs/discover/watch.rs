//! When to scan again: inotify (through `notify`) on the pods directory tree marks the
//! last scan stale on any change; a periodic rescan is the fallback for what inotify
//! misses (watch limits, overflowed queues, file systems without inotify).

use super::{scan, DiscoverConfig, Discovered, PathsProvider};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A [`PathsProvider`] that rescans when inotify saw a change or `rescan_every` passed,
/// and otherwise answers from its last scan.
pub struct WatchedProvider {
    config: DiscoverConfig,
    rescan_every: Duration,
    /// Kept alive for its inotify watches; `None` when off or when it could not start.
    _watcher: Option<RecommendedWatcher>,
    changed: Arc<AtomicBool>,
    last_scan: Option<Instant>,
    last: Vec<Discovered>,
    /// Scans done, and how many of them inotify asked for (for `/metrics` and tests).
    pub scans: u64,
    pub notified_scans: u64,
}

impl WatchedProvider {
    /// Starts watching `config.pods_dir` when `use_inotify`; if the watch cannot be set
    /// up, discovery goes on with the periodic rescan alone (and says so).
    pub fn new(config: DiscoverConfig, rescan_every: Duration, use_inotify: bool) -> Self {
        let changed = Arc::new(AtomicBool::new(false));
        let watcher = if use_inotify {
            start_watch(&config, changed.clone())
        } else {
            None
        };
        WatchedProvider {
            config,
            rescan_every,
            _watcher: watcher,
            changed,
            last_scan: None,
            last: Vec::new(),
            scans: 0,
            notified_scans: 0,
        }
    }

    /// True when inotify is active.
    pub fn is_watching(&self) -> bool {
        self._watcher.is_some()
    }

    /// Makes the next [`PathsProvider::paths`] scan again: the caller knows the last
    /// scan is stale (the tailer found a rotation it does not show).
    pub fn rescan_soon(&self) {
        self.changed.store(true, Ordering::Release);
    }

    fn rescan_due(&self, now: Instant) -> bool {
        self.last_scan
            .is_none_or(|t| now.saturating_duration_since(t) >= self.rescan_every)
    }
}

impl PathsProvider for WatchedProvider {
    fn paths(&mut self) -> Vec<Discovered> {
        let now = Instant::now();
        let notified = self.changed.swap(false, Ordering::AcqRel);
        if notified || self.rescan_due(now) {
            match scan(&self.config) {
                Ok(found) => self.last = found,
                Err(e) => {
                    let dir = self.config.pods_dir.display();
                    tracing::warn!(%dir, error = %e, "Could not scan the pods directory.");
                }
            }
            self.last_scan = Some(now);
            self.scans += 1;
            self.notified_scans += u64::from(notified);
        }
        self.last.clone()
    }
}

fn start_watch(config: &DiscoverConfig, changed: Arc<AtomicBool>) -> Option<RecommendedWatcher> {
    let on_event = move |event: notify::Result<notify::Event>| {
        // Any event, or an error (e.g. a queue overflow), means the last scan is stale.
        let _ = event;
        changed.store(true, Ordering::Release);
    };
    let started = notify::recommended_watcher(on_event).and_then(|mut w| {
        w.watch(&config.pods_dir, RecursiveMode::Recursive)?;
        Ok(w)
    });
    match started {
        Ok(w) => Some(w),
        Err(e) => {
            let dir = config.pods_dir.display();
            tracing::warn!(%dir, error = %e, "Could not watch the pods directory; relying on the periodic rescan.");
            None
        }
    }
}
