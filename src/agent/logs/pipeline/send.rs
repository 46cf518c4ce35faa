//! The sender: pops batches from the buffer, encodes them as one Loki push request each
//! (snappy protobuf) and delivers them with [`LokiSender`]; acknowledges what Loki took
//! or refused for good (counted), and leaves unacknowledged what shutdown interrupted,
//! so its lines are read again after a restart.

use super::event::Event;
use super::metrics::PipelineMetrics;
use crate::agent::logs::buffer::{Buffer, Delivery as Popped, FileOffsets};
use crate::agent::sinks::loki::{self, Delivery, LokiEntry, LokiSender, StreamLabels};
use std::sync::Arc;

pub(super) struct Sender {
    pub buffer: Buffer<FileOffsets>,
    pub loki: LokiSender,
    pub metrics: Arc<PipelineMetrics>,
}

impl Sender {
    /// Runs until the buffer is closed and drained, or shutdown cancels a delivery.
    pub async fn run(mut self) {
        while let Some(popped) = self.buffer.pop().await {
            if !self.send(popped).await {
                break;
            }
        }
        tracing::debug!("Log sender stopped.");
    }

    /// Delivers one batch; false when shutdown interrupted it (not acknowledged).
    async fn send(&mut self, popped: Popped<FileOffsets>) -> bool {
        let Popped { batch, ack } = popped;
        let events = batch.records.len() as u64;
        let (request, bad) = match encode(&batch.records) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "A log batch could not be encoded; it is dropped and counted.");
                self.count(0, &[("encode", events)]);
                self.buffer.ack(ack).await;
                return true;
            }
        };
        let delivered = match self.loki.deliver(request).await {
            Delivery::Delivered { .. } => {
                self.count(events - bad, &[("encode", bad)]);
                true
            }
            Delivery::Rejected { .. } => {
                self.count(0, &[("rejected", events - bad), ("encode", bad)]);
                true
            }
            Delivery::Cancelled { .. } => false,
        };
        self.publish();
        if delivered {
            self.buffer.ack(ack).await;
        }
        delivered
    }

    fn count(&self, sent: u64, dropped: &[(&'static str, u64)]) {
        let mut s = self.metrics.send.lock().unwrap_or_else(|e| e.into_inner());
        s.events_sent += sent;
        for &(reason, n) in dropped {
            *s.dropped.entry(reason).or_default() += n;
        }
    }

    fn publish(&self) {
        self.metrics
            .send
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .loki = self.loki.stats().clone();
    }
}

/// Why a batch cannot become a request at all.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error(transparent)]
    Encode(#[from] loki::EncodeError),
}

/// One push request of a buffer batch, and how many records could not be part of it
/// (unreadable record, or labels Loki would refuse): those are counted as dropped.
fn encode(records: &[Vec<u8>]) -> Result<(loki::EncodedRequest, u64), BatchError> {
    let mut batch = loki::Batch::new();
    let mut bad = 0;
    for record in records {
        let Ok(event) = Event::from_record(record) else {
            bad += 1;
            continue;
        };
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
    Ok((loki::encode(&batch, loki::Format::Protobuf)?, bad))
}
