//! The Loki adapter of the sender: a batch's records become one push request (snappy
//! protobuf written straight from the records, or JSON with gzip) delivered by
//! [`LokiSender`]; an event whose labels Loki would refuse is left out and counted, a
//! batch Loki refuses for good is counted.
//!
//! Entries are grouped into streams by their records' label blocks (equal bytes: the
//! same label set), and each label set's rendered form is cached across batches, so a
//! file's labels are rendered once, not once per line.

use super::{done, LokiSinkConfig, Settled, LOKI};
use crate::agent::logs::pipeline::metrics::SendStats;
use crate::agent::logs::pipeline::record::RecordView;
use crate::agent::sinks::http::{HttpClient, HttpConfigError};
use crate::agent::sinks::loki::{
    self, Delivery, EncodedRequest, Format, LokiEntry, LokiSender, PushEntry, StreamEntries,
    StreamLabels,
};
use crate::agent::sinks::retry::Retry;
use fnv::FnvHashMap;
use std::sync::Arc;

/// Label sets kept rendered; past this the cache starts again (pods come and go).
const MAX_CACHED_LABEL_SETS: usize = 4096;

pub(super) struct LokiSink {
    sender: LokiSender,
    format: Format,
    /// Label block bytes ─▶ the rendered label set, `None` when Loki would refuse it.
    rendered: FnvHashMap<Box<[u8]>, Option<Arc<str>>>,
    /// The uncompressed body and the compressor, kept across requests (a fresh
    /// megabyte per request cost page faults and zeroing).
    raw: Vec<u8>,
    snappy: loki::Snappy,
}

impl PushEntry for RecordView<'_> {
    fn timestamp_ns(&self) -> i64 {
        self.timestamp_ns
    }

    fn line(&self) -> &[u8] {
        self.line
    }

    fn metadata(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.metadata_bytes()
    }

    fn metadata_key(&self) -> Option<&[u8]> {
        Some(self.metadata_block())
    }
}

impl LokiSink {
    pub fn new(config: &LokiSinkConfig, retry: Retry) -> Result<Self, HttpConfigError> {
        Ok(LokiSink {
            sender: LokiSender::new(HttpClient::from_config(&config.http)?, retry),
            format: config.format,
            rendered: FnvHashMap::default(),
            raw: Vec::new(),
            snappy: loki::Snappy::default(),
        })
    }

    /// Delivers `events` as one push request, retrying until Loki settles it.
    pub async fn deliver(&mut self, events: &[RecordView<'_>]) -> Settled {
        let total = events.len() as u64;
        let (request, bad) = match self.format {
            Format::Protobuf => self.protobuf(events),
            _ => json(events, self.format),
        };
        let request = match request {
            Some(Ok(r)) => r,
            None => return done(0, vec![("encode", bad)]),
            Some(Err(e)) => {
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

    /// The snappy protobuf request (`None` when no event could be part of it), and how
    /// many events were left out.
    fn protobuf(&mut self, events: &[RecordView<'_>]) -> (Option<Encoded>, u64) {
        if self.rendered.len() > MAX_CACHED_LABEL_SETS {
            self.rendered.clear();
        }
        let mut index: FnvHashMap<&[u8], usize> = FnvHashMap::default();
        let mut groups: Vec<(Arc<str>, Vec<&RecordView<'_>>)> = Vec::new();
        // Runs of events of one stream are the rule: the previous event's group is
        // tried first (a byte comparison), the map (a hash of the block) only on a change.
        let mut last: Option<(&[u8], usize)> = None;
        let mut bad = 0;
        for event in events {
            let block = event.labels_block;
            let i = match last {
                Some((b, i)) if b == block => i,
                _ => match index.get(block) {
                    Some(&i) => i,
                    None => {
                        let Some(labels) = self.render(event) else {
                            bad += 1;
                            continue;
                        };
                        index.insert(block, groups.len());
                        groups.push((labels, Vec::new()));
                        groups.len() - 1
                    }
                },
            };
            groups[i].1.push(event);
            last = Some((block, i));
        }
        if groups.is_empty() {
            return (None, bad);
        }
        let streams: Vec<StreamEntries<'_, RecordView<'_>>> = groups
            .iter_mut()
            .map(|(labels, entries)| StreamEntries {
                labels,
                entries: std::mem::take(entries),
            })
            .collect();
        self.raw.clear();
        loki::write_push(&streams, &mut self.raw);
        (Some(self.snappy.request(&self.raw)), bad)
    }

    /// The rendered label set of `event`'s labels, from the cache or rendered now.
    fn render(&mut self, event: &RecordView<'_>) -> Option<Arc<str>> {
        if let Some(r) = self.rendered.get(event.labels_block) {
            return r.clone();
        }
        let rendered = StreamLabels::new(event.labels())
            .ok()
            .map(|l| Arc::from(l.render()));
        self.rendered
            .insert(event.labels_block.into(), rendered.clone());
        rendered
    }

    pub fn publish(&self, s: &mut SendStats) {
        let stats = self.sender.stats();
        let counts = s.sinks.entry(LOKI).or_default();
        counts.requests = stats.requests;
        counts.retries = stats.retries;
        s.loki = Some(stats.clone());
    }
}

type Encoded = Result<EncodedRequest, loki::EncodeError>;

/// The JSON request (the optional format: built through [`loki::Batch`]).
fn json(events: &[RecordView<'_>], format: Format) -> (Option<Encoded>, u64) {
    let mut batch = loki::Batch::new();
    let mut bad = 0;
    for event in events {
        let Ok(labels) = StreamLabels::new(event.labels()) else {
            bad += 1;
            continue;
        };
        let owned = |(k, v): (&str, &str)| (k.to_owned(), v.to_owned());
        let entry = LokiEntry {
            timestamp_ns: event.timestamp_ns,
            line: String::from_utf8_lossy(event.line).into_owned(),
            metadata: event.metadata().map(owned).collect(),
        };
        batch.push(&labels, entry);
    }
    if batch.is_empty() {
        return (None, bad);
    }
    (Some(loki::encode(&batch, format)), bad)
}
