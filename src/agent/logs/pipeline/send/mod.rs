//! The sender: pops batches from the buffer, reads their events once, and hands them to
//! every configured sink at the same time (Loki push, Elasticsearch `_bulk`; one file
//! per sink adapter). A batch is acknowledged only when every sink has settled it:
//! delivered, or refused for good and counted. A delivery that shutdown interrupted
//! leaves the batch unacknowledged, so its lines are read again after a restart (and a
//! sink that had already taken them gets them twice: at-least-once). A sink that is
//! down holds the other back: the batch stays in the buffer until both have taken it,
//! and the buffer's full policy (block, or drop and count) applies behind it.

mod elasticsearch;
mod loki;

use super::metrics::PipelineMetrics;
use super::record::RecordView;
use super::PipelineError;
use crate::agent::logs::buffer::{Buffer, Delivery as Popped, FileOffsets, Records, RecordsPool};
use crate::agent::sinks::backoff::{Backoff, BackoffConfig};
use crate::agent::sinks::elasticsearch::{Compression, IndexTarget};
use crate::agent::sinks::http::HttpConfig;
use crate::agent::sinks::retry::{Retry, TokioSleeper};
use elasticsearch::EsSink;
use loki::LokiSink;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The `sink` label values on `/metrics`.
pub const LOKI: &str = "loki";
pub const ELASTICSEARCH: &str = "elasticsearch";

/// The Loki sink's settings.
#[derive(Debug, Clone)]
pub struct LokiSinkConfig {
    /// The full push URL and its HTTP settings.
    pub http: HttpConfig,
    pub format: crate::agent::sinks::loki::Format,
}

/// The Elasticsearch/OpenSearch sink's settings.
#[derive(Debug, Clone)]
pub struct EsSinkConfig {
    /// The base URL (`http://es:9200`); the bulk path is added to it.
    pub http: HttpConfig,
    pub index: IndexTarget,
    pub compression: Compression,
}

/// Where batches go: one sink, or both.
#[derive(Debug, Clone, Default)]
pub struct SinksConfig {
    pub loki: Option<LokiSinkConfig>,
    pub elasticsearch: Option<EsSinkConfig>,
}

impl SinksConfig {
    pub fn is_empty(&self) -> bool {
        self.loki.is_none() && self.elasticsearch.is_none()
    }
}

/// How one sink ended with one batch.
#[derive(Debug, PartialEq, Eq)]
enum Settled {
    /// Every event was delivered or given up on for good: `sent` went out, the rest
    /// is counted by reason.
    Done {
        sent: u64,
        dropped: Vec<(&'static str, u64)>,
    },
    /// Shutdown came first: the batch must not be acknowledged.
    Cancelled,
}

/// The configured sinks (at least one).
pub(super) struct SinkSet {
    loki: Option<LokiSink>,
    elasticsearch: Option<EsSink>,
}

impl SinkSet {
    /// Builds each configured sink with its own client and retry state; shutdown
    /// cancels them all through `cancel`.
    pub fn new(
        config: &SinksConfig,
        backoff: &BackoffConfig,
        cancel: &CancellationToken,
    ) -> Result<SinkSet, PipelineError> {
        if config.is_empty() {
            return Err(PipelineError::NoSink);
        }
        let retry = || -> Result<Retry, PipelineError> {
            let b = Backoff::new(backoff).map_err(|e| PipelineError::Backoff(e.to_string()))?;
            Ok(Retry::new(b, TokioSleeper, cancel.clone()))
        };
        let loki = match &config.loki {
            Some(c) => Some(LokiSink::new(c, retry()?).map_err(PipelineError::sink(LOKI))?),
            None => None,
        };
        let elasticsearch = match &config.elasticsearch {
            Some(c) => Some(EsSink::new(c, retry()?).map_err(PipelineError::sink(ELASTICSEARCH))?),
            None => None,
        };
        Ok(SinkSet {
            loki,
            elasticsearch,
        })
    }

    /// The sink names, for the start-up log line and the metrics.
    pub fn names(&self) -> Vec<&'static str> {
        let loki = self.loki.as_ref().map(|_| LOKI);
        let es = self.elasticsearch.as_ref().map(|_| ELASTICSEARCH);
        loki.into_iter().chain(es).collect()
    }

    /// Delivers `events` to every sink concurrently (both read the same records).
    /// Returns each sink's outcome.
    async fn deliver(&mut self, events: &[RecordView<'_>]) -> Vec<(&'static str, Settled)> {
        let SinkSet {
            loki,
            elasticsearch,
        } = self;
        let to_loki = async {
            match loki.as_mut() {
                Some(sink) => Some((LOKI, sink.deliver(events).await)),
                None => None,
            }
        };
        let to_es = async {
            match elasticsearch.as_mut() {
                Some(sink) => Some((ELASTICSEARCH, sink.deliver(events).await)),
                None => None,
            }
        };
        let (a, b) = tokio::join!(to_loki, to_es);
        a.into_iter().chain(b).collect()
    }

    /// Copies each sink's own counters into the shared snapshot.
    fn publish(&self, metrics: &PipelineMetrics) {
        let mut s = metrics.send.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sink) = &self.loki {
            sink.publish(&mut s);
        }
        if let Some(sink) = &self.elasticsearch {
            sink.publish(&mut s);
        }
    }
}

pub(super) struct Sender {
    pub buffer: Buffer<FileOffsets>,
    pub sinks: SinkSet,
    pub metrics: Arc<PipelineMetrics>,
    /// After each acknowledgement the next delivery waits for its checkpoint to be on
    /// disk: a crash then resends at most one batch (see `checkpointer`).
    pub durability: Arc<super::checkpointer::Durability>,
    /// Delivered batches' buffers go back to the batcher's pool.
    pub pool: RecordsPool,
}

impl Sender {
    /// Runs until the buffer is closed and drained, or shutdown cancels a delivery.
    pub async fn run(mut self) {
        self.sinks.publish(&self.metrics);
        while let Some(popped) = self.buffer.pop().await {
            if !self.send(popped).await {
                break;
            }
        }
        tracing::debug!("Log sender stopped.");
    }

    /// Delivers one batch to every sink; false when shutdown interrupted one of them
    /// (the batch is then not acknowledged).
    async fn send(&mut self, popped: Popped<FileOffsets>) -> bool {
        let Popped { batch, ack } = popped;
        let (events, unreadable) = read_events(&batch.records);
        let outcomes = if events.is_empty() {
            // Nothing a sink could take: settled as dropped, without a request.
            self.sinks
                .names()
                .into_iter()
                .map(|n| (n, done(0, vec![])))
                .collect()
        } else {
            self.sinks.deliver(&events).await
        };
        let mut settled = true;
        for (sink, outcome) in outcomes {
            match outcome {
                Settled::Done { sent, mut dropped } => {
                    dropped.push(("encode", unreadable));
                    self.count(sink, sent, &dropped);
                }
                Settled::Cancelled => settled = false,
            }
        }
        self.sinks.publish(&self.metrics);
        if settled {
            self.metrics.delivered(&batch.token);
            self.buffer.ack(ack).await;
            self.durability.wait_persisted().await;
        }
        drop(events);
        self.pool.give(batch.records);
        settled
    }

    fn count(&self, sink: &'static str, sent: u64, dropped: &[(&'static str, u64)]) {
        let mut s = self.metrics.send.lock().unwrap_or_else(|e| e.into_inner());
        let counts = s.sinks.entry(sink).or_default();
        counts.events_sent += sent;
        for &(reason, n) in dropped {
            *counts.dropped.entry(reason).or_default() += n;
        }
    }
}

fn done(sent: u64, dropped: Vec<(&'static str, u64)>) -> Settled {
    Settled::Done { sent, dropped }
}

/// The batch's events, and how many records could not be read back (counted as
/// dropped with reason "encode" at every sink).
fn read_events(records: &Records) -> (Vec<RecordView<'_>>, u64) {
    let mut events = Vec::with_capacity(records.len());
    let mut unreadable = 0;
    for record in records.iter() {
        match RecordView::parse_after(record, events.last()) {
            Ok(e) => events.push(e),
            Err(_) => unreadable += 1,
        }
    }
    (events, unreadable)
}
