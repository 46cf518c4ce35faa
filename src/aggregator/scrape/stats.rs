//! What the scrape loops tell the rest of the aggregator, shared by every loop of a
//! manager: what storage refused, the scrapes made early because a target went away,
//! and the announcement of each stored batch (with its metric names) that the rule
//! manager waits on to evaluate right after fresh samples land.

use crate::aggregator::model::{Labels, Sample, METRIC_NAME};
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use tokio::sync::watch;

pub(super) type Batch = Vec<(Labels, Vec<Sample>)>;

/// What scrapes could not store, over every loop sharing it (exported on `/metrics`).
#[derive(Debug, Default)]
pub struct ScrapeStats {
    /// Samples storage refused as older than their series' newest sample.
    pub samples_out_of_order: AtomicU64,
    /// Samples refused as a second value at a series' timestamp, and repeated series
    /// within one body (the first sample kept, as Prometheus does).
    pub samples_duplicate: AtomicU64,
    /// Scrape batches storage failed to take (each logged).
    pub append_failures: AtomicU64,
    /// Scrapes made at once, besides the ticks, because a target closed the loop's
    /// connection and refused a new one.
    pub early_scrapes: AtomicU64,
    /// Batches stored (scrapes, and the staleness markers at stop), counted up after
    /// each append returns: the rule manager watches it to evaluate right after fresh
    /// samples land, not a tick later.
    pub scrapes_stored: watch::Sender<u64>,
    /// The metric names those batches held, since the rule manager last took them.
    pub names_stored: Mutex<HashSet<String>>,
}

impl ScrapeStats {
    /// Takes the metric names stored since the last call.
    pub fn take_names_stored(&self) -> HashSet<String> {
        std::mem::take(&mut *self.names_stored.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records a stored batch: its names, then the announcement.
    pub(super) fn stored(&self, batch: &Batch) {
        {
            let mut names = self.names_stored.lock().unwrap_or_else(|e| e.into_inner());
            for (labels, _) in batch {
                let name = labels.get(METRIC_NAME).unwrap_or_default();
                if !names.contains(name) {
                    names.insert(name.to_owned());
                }
            }
        }
        self.scrapes_stored.send_modify(|n| *n += 1);
    }
}
