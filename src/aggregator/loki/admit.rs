//! The two admission limits Loki answers 429 for: the ingestion rate (a token bucket of
//! bytes, as Go's `rate.Limiter` in the distributor: a push larger than the burst never
//! fits) and the number of active streams (the ingester's `max_global_streams_per_user`:
//! a push may not create a stream past the limit; a stream idle for `stream_idle` stops
//! counting, as Loki's ingester drops idle streams). Pure state driven by a clock passed
//! in (ns), so tests control time.

use crate::aggregator::model::Labels;
use std::collections::HashMap;

/// Tokens are bytes; `rate` per second up to `burst`.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: i64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_bytes: u64, burst_bytes: u64, now: i64) -> Self {
        TokenBucket {
            rate: rate_bytes as f64,
            burst: burst_bytes as f64,
            tokens: burst_bytes as f64,
            last: now,
        }
    }

    /// Takes `n` tokens if there are that many at `now`; a clock that steps back adds
    /// nothing.
    pub fn allow(&mut self, n: u64, now: i64) -> bool {
        let elapsed = now.saturating_sub(self.last).max(0) as f64 / 1e9;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = self.last.max(now);
        if n as f64 > self.tokens {
            return false;
        }
        self.tokens -= n as f64;
        true
    }

    /// The sustained rate in bytes/s (for the refusal message).
    pub fn rate(&self) -> u64 {
        self.rate as u64
    }
}

/// Streams pushed to recently, with the time of their last push.
#[derive(Debug)]
pub struct ActiveStreams {
    max: usize,
    idle_ns: i64,
    last_push: HashMap<Labels, i64>,
    last_sweep: i64,
}

impl ActiveStreams {
    pub fn new(max: usize, idle: std::time::Duration) -> Self {
        ActiveStreams {
            max,
            idle_ns: i64::try_from(idle.as_nanos()).unwrap_or(i64::MAX),
            last_push: HashMap::new(),
            last_sweep: i64::MIN,
        }
    }

    /// Whether a push to `labels` at `now` may go on: a known stream always may, a new
    /// one while fewer than `max` are active. Memory stays bounded by `max`.
    pub fn admit(&mut self, labels: &Labels, now: i64) -> bool {
        if let Some(t) = self.last_push.get_mut(labels) {
            *t = (*t).max(now);
            return true;
        }
        if self.last_push.len() >= self.max {
            self.sweep(now);
        }
        if self.last_push.len() >= self.max {
            return false;
        }
        self.last_push.insert(labels.clone(), now);
        true
    }

    /// Forgets idle streams; at most once a second, so a flood of new streams at the
    /// limit costs one scan per second, not one per stream.
    fn sweep(&mut self, now: i64) {
        if now.saturating_sub(self.last_sweep) < 1_000_000_000 {
            return;
        }
        self.last_sweep = now;
        let oldest = now.saturating_sub(self.idle_ns);
        self.last_push.retain(|_, t| *t >= oldest);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.last_push.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const S: i64 = 1_000_000_000;

    #[test]
    fn bucket_refills_at_the_rate_up_to_the_burst() {
        let mut b = TokenBucket::new(100, 300, 0);
        assert!(b.allow(300, 0));
        assert!(!b.allow(1, 0));
        assert!(b.allow(100, S));
        assert!(!b.allow(1, S));
        assert!(!b.allow(301, 100 * S), "over the burst never fits");
        assert!(b.allow(300, 100 * S));
        assert!(!b.allow(1, 50 * S), "a clock stepping back adds nothing");
        assert_eq!(b.rate(), 100);
    }

    proptest! {
        /// Over any run, the bytes let through never exceed burst + rate × elapsed.
        #[test]
        fn bucket_never_exceeds_its_budget(pushes in prop::collection::vec((0u64..500, 0i64..2 * S), 1..200)) {
            let (rate, burst) = (1000u64, 2000u64);
            let mut b = TokenBucket::new(rate, burst, 0);
            let (mut now, mut allowed) = (0i64, 0u64);
            for (n, step) in pushes {
                now += step;
                if b.allow(n, now) {
                    allowed += n;
                }
                let budget = burst as f64 + rate as f64 * now as f64 / 1e9;
                prop_assert!(allowed as f64 <= budget + 1e-6);
            }
        }
    }

    fn labels(i: usize) -> Labels {
        Labels::from_pairs(&[("pod", &format!("p{i}"))])
    }

    #[test]
    fn streams_past_the_limit_wait_for_idle_ones() {
        let mut a = ActiveStreams::new(2, Duration::from_secs(60));
        assert!(a.admit(&labels(1), 0));
        assert!(a.admit(&labels(2), 0));
        assert!(!a.admit(&labels(3), S));
        assert!(a.admit(&labels(1), 30 * S), "known streams always pass");
        assert!(!a.admit(&labels(3), 59 * S), "stream 2 is not idle yet");
        assert!(a.admit(&labels(3), 61 * S), "stream 2 went idle");
        assert!(!a.admit(&labels(2), 62 * S));
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn a_flood_of_new_streams_stays_bounded() {
        let mut a = ActiveStreams::new(100, Duration::from_secs(3600));
        let admitted = (0..100_000)
            .filter(|i| a.admit(&labels(*i), *i as i64))
            .count();
        assert_eq!(admitted, 100);
        assert_eq!(a.len(), 100);
    }
}
