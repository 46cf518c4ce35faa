//! A [`Sleeper`] for retry tests over real sockets: it records every delay the retry
//! loop asked for and sleeps only a few milliseconds of it.

use nodepulse::agent::sinks::retry::Sleeper;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct RecordingSleeper {
    asked: Arc<Mutex<Vec<Duration>>>,
    real: Duration,
}

impl RecordingSleeper {
    /// Sleeps at most `real` of each delay asked.
    pub fn new(real: Duration) -> Self {
        RecordingSleeper {
            asked: Arc::default(),
            real,
        }
    }

    pub fn asked(&self) -> Vec<Duration> {
        self.asked.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    async fn sleep(&self, delay: Duration) {
        self.asked.lock().unwrap().push(delay);
        tokio::time::sleep(delay.min(self.real)).await;
    }
}
