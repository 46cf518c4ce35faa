//! The Elasticsearch adapter of the sender: a batch's records become ECS documents in one
//! `_bulk` request (index from the configured name or daily pattern, gzip), delivered by
//! [`BulkSender`], which sends again only the items that failed for a reason worth a
//! retry. Documents refused for good are counted; a delivery cut short by shutdown
//! leaves the batch unacknowledged (the documents already accepted will come again).

use super::{done, EsSinkConfig, Settled, ELASTICSEARCH};
use crate::agent::logs::pipeline::event::Event;
use crate::agent::logs::pipeline::metrics::SendStats;
use crate::agent::logs::pipeline::record::RecordView;
use crate::agent::sinks::elasticsearch::{
    bulk_url, BulkRequest, BulkSender, EsDocument, IndexTarget,
};
use crate::agent::sinks::http::{HttpClient, HttpConfigError};
use crate::agent::sinks::retry::Retry;

pub(super) struct EsSink {
    sender: BulkSender,
    index: IndexTarget,
}

impl EsSink {
    pub fn new(config: &EsSinkConfig, retry: Retry) -> Result<Self, HttpConfigError> {
        let mut http = config.http.clone();
        http.url = bulk_url(&http.url);
        let client = HttpClient::from_config(&http)?;
        Ok(EsSink {
            sender: BulkSender::new(client, retry, config.compression),
            index: config.index.clone(),
        })
    }

    /// Delivers `events` as one bulk request until every document is accepted or
    /// refused for good.
    pub async fn deliver(&mut self, events: &[RecordView<'_>]) -> Settled {
        let docs: Vec<EsDocument> = events
            .iter()
            .map(|v| document(Event::from_view(v)))
            .collect();
        let request = BulkRequest::encode(&docs, &self.index);
        drop(docs);
        let delivery = self.sender.deliver(request).await;
        if !delivery.is_complete() {
            return Settled::Cancelled;
        }
        done(
            delivery.accepted as u64,
            vec![("rejected", delivery.rejected as u64)],
        )
    }

    pub fn publish(&self, s: &mut SendStats) {
        let stats = self.sender.stats();
        let counts = s.sinks.entry(ELASTICSEARCH).or_default();
        counts.requests = stats.requests;
        counts.retries = stats.retries;
        s.elasticsearch = Some(stats.clone());
    }
}

/// The ECS document of an event: the stream labels name the pod and container; of the
/// per-line fields, the pod uid, the level and the trace id have ECS places (the rest,
/// such as the restart count, has none and stays out). Labels a later stage adds
/// beyond the known ones go to `kubernetes.labels`.
pub(super) fn document(e: Event) -> EsDocument {
    let mut doc = EsDocument {
        unix_nanos: e.timestamp_ns,
        message: e.line,
        ..EsDocument::default()
    };
    let k = &mut doc.kubernetes;
    for (name, value) in e.labels {
        match name.as_str() {
            "namespace" => k.namespace = value,
            "pod" => k.pod_name = value,
            "container" => k.container_name = value,
            "node" => k.node_name = value,
            "stream" => doc.stream = value,
            _ => {
                k.labels.insert(name, value);
            }
        }
    }
    for (name, value) in e.metadata {
        match name.as_str() {
            "pod_uid" => doc.kubernetes.pod_uid = value,
            "level" => doc.level = Some(value),
            "trace_id" => doc.trace_id = Some(value),
            _ => {}
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn an_event_becomes_an_ecs_document() {
        let live = Path::new("/var/log/pods/shop_web-0_0a1b/app/2.log");
        let mut e = Event::enriched(
            live,
            "n1",
            "stderr",
            1_700_000_000_123_456_789,
            "boom".into(),
        );
        e.metadata.push(("level".into(), "error".into()));
        e.metadata.push(("trace_id".into(), "4bf9".into()));
        let doc = serde_json::to_value(document(e)).unwrap();
        let want = serde_json::json!({
            "@timestamp": "2023-11-14T22:13:20.123456789Z",
            "message": "boom",
            "stream": "stderr",
            "log": {"level": "error"},
            "trace": {"id": "4bf9"},
            "kubernetes": {
                "namespace": "shop",
                "pod": {"name": "web-0", "uid": "0a1b"},
                "container": {"name": "app"},
                "node": {"name": "n1"}
            }
        });
        assert_eq!(doc, want);
    }
}
