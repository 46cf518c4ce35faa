//! The killed-target trials: trial i has a target of its own (a listener in the bench,
//! [`Killable`]), which both servers scrape as job `kill` with the label `trial="i"`.
//! At trial i's instant the target is killed as a dying process would be (listener
//! closed, connections dropped: new ones are refused); the time runs from that kill to
//! the webhook's receipt of `TargetDown{trial="i"}` (rule `up{job="kill"} == 0`).

use crate::common::killable::Killable;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The targets and when each was killed.
pub struct Kills {
    targets: Vec<Arc<Killable>>,
    killed: Arc<Mutex<Vec<Option<Instant>>>>,
}

impl Kills {
    /// Starts `n` targets on `rt`.
    pub fn start(rt: &tokio::runtime::Runtime, n: usize) -> Kills {
        let body = "# TYPE ttd_alive gauge\nttd_alive 1\n";
        let targets = (0..n)
            .map(|_| Arc::new(rt.block_on(Killable::start(body, None))))
            .collect();
        Kills {
            targets,
            killed: Arc::new(Mutex::new(vec![None; n])),
        }
    }

    pub fn ports(&self) -> Vec<u16> {
        self.targets.iter().map(|t| t.port).collect()
    }

    /// Whether ours (and Prometheus, when it runs) scraped every target once.
    pub fn scraped(&self, prometheus: bool) -> bool {
        self.targets.iter().all(|t| {
            t.served_by("nodepulse-aggregator/") > 0
                && (!prometheus || t.served_by("Prometheus/") > 0)
        })
    }

    /// Kills target i at `at[i]`, noting the instant it was done.
    pub fn schedule(&self, rt: &tokio::runtime::Runtime, at: &[Instant]) {
        for (i, (t, at)) in self.targets.iter().zip(at).enumerate() {
            let (t, at, killed) = (t.clone(), *at, self.killed.clone());
            rt.spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let now = Instant::now();
                t.kill();
                killed.lock().unwrap()[i] = Some(now);
            });
        }
    }

    /// When each target was killed (`planned[i]` for one not killed yet).
    pub fn killed_at(&self, planned: &[Instant]) -> Vec<Instant> {
        let killed = self.killed.lock().unwrap();
        killed
            .iter()
            .zip(planned)
            .map(|(k, p)| k.unwrap_or(*p))
            .collect()
    }
}
