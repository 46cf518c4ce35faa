//! One destination's bounded queue of alerts (Prometheus's per-Alertmanager send
//! queue, `notifier/sendloop.go`): when full, the oldest alerts make room for the new
//! ones and are counted as dropped; the send loop takes batches of at most
//! [`MAX_BATCH`] and is woken when work arrives.

use super::alert::Alert;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Alerts per request, as Prometheus's `maxBatchSize`.
pub const MAX_BATCH: usize = 64;

/// Prometheus's `--alertmanager.notification-queue-capacity` default.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct Queue {
    alerts: Mutex<VecDeque<Arc<Alert>>>,
    capacity: usize,
    work: Notify,
    dropped: AtomicU64,
}

impl Queue {
    /// A queue of at most `capacity` alerts (at least one).
    pub fn new(capacity: usize) -> Queue {
        Queue {
            alerts: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            work: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Alert>>> {
        // A panic while holding the lock leaves a valid deque: keep going.
        self.alerts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `alerts`, dropping the oldest beyond capacity; returns how many were
    /// dropped (also counted) and wakes the send loop.
    pub fn push(&self, alerts: impl IntoIterator<Item = Arc<Alert>>) -> usize {
        let mut dropped = 0;
        {
            let mut q = self.lock();
            for a in alerts {
                if q.len() == self.capacity {
                    q.pop_front();
                    dropped += 1;
                }
                q.push_back(a);
            }
        }
        if dropped > 0 {
            self.dropped.fetch_add(dropped as u64, Relaxed);
            tracing::warn!(
                count = dropped,
                "Alert notification queue full, dropping the oldest alerts."
            );
        }
        self.work.notify_one();
        dropped
    }

    /// Up to [`MAX_BATCH`] alerts from the front, or `None` when empty.
    pub fn next_batch(&self) -> Option<Vec<Arc<Alert>>> {
        let mut q = self.lock();
        if q.is_empty() {
            return None;
        }
        let n = q.len().min(MAX_BATCH);
        Some(q.drain(..n).collect())
    }

    /// Waits until alerts may have arrived since the last call (a stored wake-up
    /// returns at once).
    pub async fn wait(&self) {
        self.work.notified().await;
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Alerts dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::model::Labels;
    use crate::aggregator::notify::alert::from_millis;

    fn numbered(range: std::ops::Range<usize>) -> Vec<Arc<Alert>> {
        range
            .map(|i| {
                Arc::new(Alert {
                    labels: Labels::from_pairs(&[("n", &i.to_string())]),
                    annotations: Labels::default(),
                    starts_at: from_millis(0),
                    ends_at: None,
                    generator_url: String::new(),
                })
            })
            .collect()
    }

    fn numbers(batch: &[Arc<Alert>]) -> Vec<usize> {
        batch
            .iter()
            .map(|a| a.labels.get("n").unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn full_drops_the_oldest_and_counts_them() {
        let q = Queue::new(5);
        assert_eq!(q.push(numbered(0..3)), 0);
        assert_eq!(q.push(numbered(3..8)), 3);
        assert_eq!(q.dropped(), 3);
        assert_eq!(q.len(), 5);
        assert_eq!(numbers(&q.next_batch().unwrap()), [3, 4, 5, 6, 7]);
        assert!(q.next_batch().is_none());
        // A push larger than the queue keeps its newest alerts.
        assert_eq!(q.push(numbered(0..12)), 7);
        assert_eq!(numbers(&q.next_batch().unwrap()), [7, 8, 9, 10, 11]);
        assert_eq!(q.dropped(), 10);
    }

    #[test]
    fn batches_hold_at_most_64_in_order() {
        let q = Queue::new(DEFAULT_CAPACITY);
        q.push(numbered(0..150));
        let sizes: Vec<usize> = std::iter::from_fn(|| q.next_batch().map(|b| b.len())).collect();
        assert_eq!(sizes, [64, 64, 22]);
        q.push(numbered(0..65));
        assert_eq!(
            numbers(&q.next_batch().unwrap()),
            (0..64).collect::<Vec<_>>()
        );
        assert_eq!(numbers(&q.next_batch().unwrap()), [64]);
    }

    #[tokio::test]
    async fn a_push_wakes_a_waiting_loop_and_a_wake_up_is_kept() {
        let q = Arc::new(Queue::new(10));
        let waiter = tokio::spawn({
            let q = q.clone();
            async move {
                q.wait().await;
                q.next_batch().map(|b| b.len())
            }
        });
        q.push(numbered(0..2));
        assert_eq!(waiter.await.unwrap(), Some(2));
        // Pushed before anyone waits: the next wait returns at once.
        q.push(numbered(0..1));
        q.wait().await;
        assert_eq!(q.len(), 1);
    }
}
