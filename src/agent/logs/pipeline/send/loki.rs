//! The Loki adapter of the sender: a batch's events become one push request (snappy
//! protobuf, or JSON with gzip) delivered by [`LokiSender`]; an event whose labels Loki
//! would refuse is left out and counted, a batch Loki refuses for good is counted.

use super::{done, LokiSinkConfig, Settled, LOKI};
use crate::agent::logs::pipeline::event::Event;
use crate::agent::logs::pipeline::metrics::SendStats;
use crate::agent::sinks::http::{HttpClient, HttpConfigError};
use crate::agent::sinks::loki::{self, Delivery, Format, LokiEntry, LokiSender, StreamLabels};
use crate::agent::sinks::retry::Retry;

pub(super) struct LokiSink {
    sender: LokiSender,
    format: Format,
}

impl LokiSink {
    pub fn new(config: &LokiSinkConfig, retry: Retry) -> Result<Self, HttpConfigError> {
        Ok(LokiSink {
            sender: LokiSender::new(HttpClient::from_config(&config.http)?, retry),
            format: config.format,
        })
    }

    /// Delivers `events` as one push request, retrying until Loki settles it.
    pub async fn deliver(&mut self, events: Vec<Event>) -> Settled {
        let total = events.len() as u64;
        let (batch, bad) = batch(events);
        if batch.is_empty() {
            return done(0, vec![("encode", bad)]);
        }
        let request = match loki::encode(&batch, self.format) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "A log batch could not be encoded for Loki; it is dropped and counted.");
                return done(0, vec![("encode", total)]);
            }
        };
        match self.sender.deliver(request).await {
            Delivery::Delivered { .. } => done(total - bad, vec![("encode", bad)]),
            Delivery::Rejected { .. } => done(0, vec![("rejected", total - bad), ("encode", bad)]),
            Delivery::Cancelled { .. } => Settled::Cancelled,
        }
    }

    pub fn publish(&self, s: &mut SendStats) {
        let stats = self.sender.stats();
        let counts = s.sinks.entry(LOKI).or_default();
        counts.requests = stats.requests;
        counts.retries = stats.retries;
        s.loki = Some(stats.clone());
    }
}

/// The push batch of `events`, and how many could not be part of it (labels Loki
/// would refuse).
fn batch(events: Vec<Event>) -> (loki::Batch, u64) {
    let mut batch = loki::Batch::new();
    let mut bad = 0;
    for event in events {
        let Ok(labels) = StreamLabels::new(event.labels) else {
            bad += 1;
            continue;
        };
        let entry = LokiEntry {
            timestamp_ns: event.timestamp_ns,
            line: event.line,
            metadata: event.metadata,
        };
        batch.push(&labels, entry);
    }
    (batch, bad)
}
