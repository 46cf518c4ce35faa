//! What the push path and the tails share: the streams each push the store made durable
//! went to (the last 4096, by generation) and a wake-up (a `watch` of the generation:
//! the push never waits, and a busy tail sees one change for many pushes), so a tail
//! reads only the streams pushed to; the count of open tails with its limit (Loki's
//! `max_concurrent_tail_requests`); and the stop signal that closes every tail at
//! shutdown.

use crate::aggregator::model::Labels;
use fnv::FnvHashSet;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Pushed-to streams remembered; a tail further behind reads every stream.
const TOUCHED_KEEP: usize = 4096;

/// The streams pushed to since a generation.
pub type Touched = FnvHashSet<Labels>;

/// Each pushed-to stream with its generation, oldest first.
#[derive(Default)]
struct TouchLog {
    generation: u64,
    recent: VecDeque<(u64, Labels)>,
}

/// The tails' side of the Loki API.
pub struct TailHub {
    touched: Mutex<TouchLog>,
    appended: watch::Sender<u64>,
    active: Arc<watch::Sender<usize>>,
    stop: CancellationToken,
}

impl Default for TailHub {
    fn default() -> Self {
        TailHub {
            touched: Mutex::default(),
            appended: watch::Sender::new(0),
            active: Arc::new(watch::Sender::new(0)),
            stop: CancellationToken::new(),
        }
    }
}

/// An open tail's place under the limit; given back when dropped.
pub struct TailPermit {
    active: Arc<watch::Sender<usize>>,
}

impl Drop for TailPermit {
    fn drop(&mut self) {
        self.active.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl TailHub {
    /// Called by the push path once the store took entries (durably) for `streams`.
    pub fn appended<'a>(&self, streams: impl IntoIterator<Item = &'a Labels>) {
        let generation = {
            let mut log = self.log();
            for labels in streams {
                log.generation += 1;
                let g = log.generation;
                log.recent.push_back((g, labels.clone()));
                if log.recent.len() > TOUCHED_KEEP {
                    log.recent.pop_front();
                }
            }
            log.generation
        };
        self.appended.send_replace(generation);
    }

    /// The generation now: [`touched_since`](Self::touched_since) starts from it.
    pub fn generation(&self) -> u64 {
        self.log().generation
    }

    /// The streams pushed to after generation `since`, and the generation now; `None`
    /// when some of them are no longer remembered (the caller reads every stream).
    pub fn touched_since(&self, since: u64) -> (u64, Option<Touched>) {
        let log = self.log();
        let oldest = log.recent.front().map_or(log.generation + 1, |(g, _)| *g);
        if since + 1 < oldest {
            return (log.generation, None);
        }
        let after = log.recent.iter().filter(|(g, _)| *g > since);
        let set = after.map(|(_, labels)| labels.clone()).collect();
        (log.generation, Some(set))
    }

    fn log(&self) -> std::sync::MutexGuard<'_, TouchLog> {
        self.touched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes on every push after this call.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// A permit while fewer than `max` tails are open; else the count there would be.
    pub fn admit(&self, max: usize) -> Result<TailPermit, usize> {
        let mut refused = None;
        self.active.send_if_modified(|n| {
            if *n >= max {
                refused = Some(*n + 1);
                return false;
            }
            *n += 1;
            true
        });
        match refused {
            Some(count) => Err(count),
            None => Ok(TailPermit {
                active: self.active.clone(),
            }),
        }
    }

    /// Tails open now.
    pub fn active(&self) -> usize {
        *self.active.borrow()
    }

    /// Completes once no tail is open (tests: nothing left running).
    pub async fn idle(&self) {
        let mut rx = self.active.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Completes when the server shuts down.
    pub fn stopped(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.stop.cancelled()
    }

    /// Closes every tail (the server is shutting down).
    pub fn shutdown(&self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_limited_and_given_back() {
        let hub = TailHub::default();
        let a = hub.admit(2).unwrap();
        let _b = hub.admit(2).unwrap();
        assert_eq!(hub.admit(2).err(), Some(3));
        assert_eq!(hub.active(), 2);
        drop(a);
        assert_eq!(hub.active(), 1);
        assert!(hub.admit(2).is_ok());
    }

    fn app(name: &str) -> Labels {
        Labels::from_pairs(&[("app", name)])
    }

    #[tokio::test]
    async fn a_push_wakes_a_subscriber_and_names_its_streams() {
        let hub = TailHub::default();
        let mut rx = hub.subscribe();
        let since = hub.generation();
        hub.appended(&[app("a"), app("b")]);
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 2);
        let (now, touched) = hub.touched_since(since);
        assert_eq!(now, 2);
        assert_eq!(touched, Some([app("a"), app("b")].into_iter().collect()));
        hub.appended(&[app("c")]);
        let (_, touched) = hub.touched_since(now);
        assert_eq!(touched, Some([app("c")].into_iter().collect()));
        assert_eq!(hub.touched_since(3), (3, Some(Touched::default())));
    }

    #[test]
    fn a_tail_too_far_behind_is_told_to_read_everything() {
        let hub = TailHub::default();
        let many: Vec<Labels> = (0..TOUCHED_KEEP + 1).map(|i| app(&i.to_string())).collect();
        hub.appended(&many);
        assert_eq!(hub.touched_since(0).1, None);
        let (_, recent) = hub.touched_since(1);
        assert_eq!(recent.map(|s| s.len()), Some(TOUCHED_KEEP));
    }
}
