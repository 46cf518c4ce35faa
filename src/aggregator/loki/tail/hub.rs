//! What the push path and the tails share: a generation bumped after each push the store
//! made durable (a `watch`: the push never waits, and a busy tail sees one change for
//! many pushes), the count of open tails with its limit (Loki's
//! `max_concurrent_tail_requests`), and the stop signal that closes every tail at
//! shutdown.

use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The tails' side of the Loki API.
pub struct TailHub {
    appended: watch::Sender<u64>,
    active: Arc<watch::Sender<usize>>,
    stop: CancellationToken,
}

impl Default for TailHub {
    fn default() -> Self {
        TailHub {
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
    /// Called by the push path once the store took entries (durably).
    pub fn appended(&self) {
        self.appended.send_modify(|g| *g = g.wrapping_add(1));
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

    #[tokio::test]
    async fn a_push_wakes_a_subscriber() {
        let hub = TailHub::default();
        let mut rx = hub.subscribe();
        hub.appended();
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
    }
}
