//! What the sinks' retry loops share: the wait between attempts (the [`Backoff`] with
//! its own RNG, slept through a [`Sleeper`] so tests need not wait for real) and the
//! shutdown token that ends a wait or an attempt in flight at once.
//!
//! Retries are unbounded in number: the buffer holds the data until a batch is
//! acknowledged (at-least-once), and each attempt is bounded by the client's timeout.

use super::backoff::Backoff;
use rand::rngs::SmallRng;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a retry loop waits. Real sockets cannot run under `tokio::time::pause`, so tests
/// pass a sleeper that records the delay it was asked for and returns at once.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, delay: Duration) -> impl Future<Output = ()> + Send;
}

/// The sleeper of the running agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(delay)
    }
}

/// Shutdown was asked for; what was in flight is not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Backoff, sleeper and shutdown token of one sink.
#[derive(Debug)]
pub struct Retry<S = TokioSleeper> {
    backoff: Backoff,
    sleeper: S,
    cancel: CancellationToken,
    rng: SmallRng,
}

impl<S: Sleeper> Retry<S> {
    pub fn new(backoff: Backoff, sleeper: S, cancel: CancellationToken) -> Self {
        Retry {
            backoff,
            sleeper,
            cancel,
            rng: rand::make_rng(),
        }
    }

    /// The same, with a given RNG (a seeded one in tests).
    pub fn with_rng(self, rng: SmallRng) -> Self {
        Retry { rng, ..self }
    }

    pub fn sleeper(&self) -> &S {
        &self.sleeper
    }

    /// Waits before retry `retry` (0 for the first), at least `retry_after` (capped by
    /// the backoff); returns the delay waited.
    pub async fn wait(
        &mut self,
        retry: u32,
        retry_after: Option<Duration>,
    ) -> Result<Duration, Cancelled> {
        let delay = self.backoff.next_delay(retry, retry_after, &mut self.rng);
        self.or_cancel(self.sleeper.sleep(delay)).await?;
        Ok(delay)
    }

    /// Runs `work` unless shutdown comes first. Checked first, so a token already
    /// cancelled starts nothing.
    pub async fn or_cancel<F: Future>(&self, work: F) -> Result<F::Output, Cancelled> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Cancelled),
            out = work => Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::sinks::backoff::BackoffConfig;
    use rand::SeedableRng;
    use std::sync::{Arc, Mutex};

    #[derive(Default, Clone)]
    struct Recorder(Arc<Mutex<Vec<Duration>>>);

    impl Sleeper for Recorder {
        async fn sleep(&self, delay: Duration) {
            self.0.lock().unwrap().push(delay);
        }
    }

    fn retry<S: Sleeper>(sleeper: S, cancel: CancellationToken) -> Retry<S> {
        let backoff = Backoff::new(&BackoffConfig::default()).unwrap();
        Retry::new(backoff, sleeper, cancel).with_rng(SmallRng::seed_from_u64(7))
    }

    #[tokio::test]
    async fn waits_what_the_backoff_says_and_honours_retry_after() {
        let rec = Recorder::default();
        let mut r = retry(rec.clone(), CancellationToken::new());
        let first = r.wait(0, None).await.unwrap();
        assert!(first <= Duration::from_millis(500));
        let told = r.wait(1, Some(Duration::from_secs(7))).await.unwrap();
        assert_eq!(told, Duration::from_secs(7));
        assert_eq!(*rec.0.lock().unwrap(), vec![first, told]);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_a_long_wait_at_once() {
        let cancel = CancellationToken::new();
        let mut r = retry(TokioSleeper, cancel.clone());
        let waiting = tokio::spawn(async move { r.wait(3, Some(Duration::from_secs(300))).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        assert_eq!(waiting.await.unwrap(), Err(Cancelled));
    }

    #[tokio::test]
    async fn a_cancelled_token_starts_nothing() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let r = retry(TokioSleeper, cancel);
        assert_eq!(r.or_cancel(async { 1 }).await, Err(Cancelled));
    }
}
