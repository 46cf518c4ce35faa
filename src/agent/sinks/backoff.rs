//! Exponential backoff with jitter for the sinks' retries, as a small validated unit.
//!
//! Modelled on linkerd2-proxy's `linkerd/exp-backoff`: a config checked once
//! ([`Backoff::new`], an error naming the bad field), a base that doubles from `min` per
//! attempt and saturates at `max` without overflowing (however large the attempt), and
//! an RNG the caller passes in (a seeded one in tests). Where linkerd only adds a ratio
//! of the base on top, the default here is AWS's "full jitter": attempt n waits a
//! uniform random time in [0, min(max, min·2ⁿ)], which spreads 1,000 agents that failed
//! at once over the whole window instead of bunching them at its start (PITFALLS 11).
//! linkerd's ratio jitter is kept as an option.

use super::error::SendError;
use rand::{Rng, RngExt};
use serde::Deserialize;
use std::time::Duration;
use thiserror::Error;

/// How the wait is spread around the exponential base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Uniform in [0, base] (AWS "full jitter").
    Full,
    /// Uniform in [base, base·(1 + ratio)], capped at `max` (linkerd2-proxy's jitter).
    Ratio(f64),
}

/// What users write; [`Backoff::new`] validates it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackoffConfig {
    /// The base wait of the first retry. Default 500ms.
    #[serde(with = "humantime_serde")]
    pub min: Duration,
    /// The largest base wait. Default 1m.
    #[serde(with = "humantime_serde")]
    pub max: Duration,
    /// Unset (the default): full jitter. Set: linkerd's jitter with this ratio.
    pub jitter_ratio: Option<f64>,
    /// The longest wait a `Retry-After` can impose. Default 5m.
    #[serde(with = "humantime_serde")]
    pub retry_after_cap: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            min: Duration::from_millis(500),
            max: Duration::from_secs(60),
            jitter_ratio: None,
            retry_after_cap: Duration::from_secs(300),
        }
    }
}

/// A backoff setting that cannot be used, named by its field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid backoff {field}: {msg}")]
pub struct BackoffError {
    pub field: &'static str,
    pub msg: &'static str,
}

fn invalid(field: &'static str, msg: &'static str) -> Result<Backoff, BackoffError> {
    Err(BackoffError { field, msg })
}

/// A validated backoff: `0 < min ≤ max ≤ retry_after_cap`, a finite ratio in [0, 100].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: Jitter,
    retry_after_cap: Duration,
}

impl Backoff {
    pub fn new(c: &BackoffConfig) -> Result<Self, BackoffError> {
        if c.min.is_zero() {
            return invalid("min", "must be greater than zero");
        }
        if c.max < c.min {
            return invalid("max", "must not be less than min");
        }
        if c.retry_after_cap < c.max {
            return invalid("retry_after_cap", "must not be less than max");
        }
        if let Some(r) = c.jitter_ratio {
            if !(r.is_finite() && (0.0..=100.0).contains(&r)) {
                return invalid("jitter_ratio", "must be a number from 0 to 100");
            }
        }
        Ok(Backoff {
            min: c.min,
            max: c.max,
            jitter: c.jitter_ratio.map_or(Jitter::Full, Jitter::Ratio),
            retry_after_cap: c.retry_after_cap,
        })
    }

    /// The exponential base of retry `attempt` (0 for the first): min(max, min·2^attempt).
    pub fn base(&self, attempt: u32) -> Duration {
        1u32.checked_shl(attempt)
            .and_then(|factor| self.min.checked_mul(factor))
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The jittered wait before retry `attempt`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let base = self.base(attempt);
        match self.jitter {
            Jitter::Full => from_nanos(rng.random_range(0..=base.as_nanos())),
            Jitter::Ratio(ratio) => {
                let extra = base.as_secs_f64() * ratio * rng.random::<f64>();
                let extra = Duration::try_from_secs_f64(extra).unwrap_or(self.max);
                base.saturating_add(extra).min(self.max)
            }
        }
    }

    /// The wait before retry `attempt` when the sink may have sent a `Retry-After`:
    /// the longer of the two, but never more than `retry_after_cap`.
    pub fn next_delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let jittered = self.delay(attempt, rng);
        jittered
            .max(retry_after.unwrap_or_default())
            .min(self.retry_after_cap)
    }

    /// The wait before retrying after `error`, or `None` when it is not worth retrying.
    pub fn after(&self, attempt: u32, error: &SendError, rng: &mut impl Rng) -> Option<Duration> {
        error
            .is_retryable()
            .then(|| self.next_delay(attempt, error.retry_after(), rng))
    }

    /// The waits of retries 0, 1, 2, …; the attempt count saturates, so it never ends.
    pub fn delays<R: Rng>(&self, rng: R) -> Delays<R> {
        Delays {
            backoff: *self,
            rng,
            attempt: 0,
        }
    }
}

fn from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
}

/// An endless sequence of backoff waits.
#[derive(Debug)]
pub struct Delays<R> {
    backoff: Backoff,
    rng: R,
    attempt: u32,
}

impl<R> Delays<R> {
    /// How many waits have been handed out.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

impl<R: Rng> Iterator for Delays<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.backoff.delay(self.attempt, &mut self.rng);
        self.attempt = self.attempt.saturating_add(1);
        Some(delay)
    }
}

#[cfg(test)]
mod tests;
