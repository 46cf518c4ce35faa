//! The aggregator's HTTP API with the Loki routes on a loopback port, over [`TestLogs`] (the real log store),
//! and the bodies clients send: snappy protobuf built with prost, Loki's JSON, gzip.

use crate::store::TestLogs;
use nodepulse::aggregator::http::{serve, Api};
use nodepulse::aggregator::loki::LokiApi;
use nodepulse::aggregator::model::MemStore;
use nodepulse::loki_proto::{
    EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp,
};
use prost::Message;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;

pub struct Running {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<TestLogs>,
    pub loki: Arc<LokiApi>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Serves the whole API (metrics side over an empty `MemStore`) with Loki's routes.
pub async fn start(tweak: impl FnOnce(&mut LokiApi)) -> Running {
    let first = Arc::new(TestLogs::default());
    let mut loki = LokiApi::new(first.clone(), first);
    tweak(&mut loki);
    // The store refuses entries too far in the future as the receiver does: one grace.
    let store = Arc::new(TestLogs::with_creation_grace(loki.limits.creation_grace));
    (loki.appender, loki.reader) = (store.clone(), store.clone());
    let loki = Arc::new(loki);
    let metrics = Arc::new(MemStore::default());
    let mut api = Api::new(metrics.clone(), metrics);
    api.loki = Some(loki.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, Arc::new(api), None, async {
        let _ = rx.await;
    }));
    Running {
        base,
        client: reqwest::Client::new(),
        store,
        loki,
        stop: Some(tx),
    }
}

impl Running {
    /// Shuts the server down as SIGTERM would (the store stays open).
    pub fn stop(&mut self) {
        self.stop.take();
    }

    /// POSTs `body` with these headers; (status, body text).
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
        let mut req = self.client.post(format!("{}{path}", self.base)).body(body);
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn push_proto(&self, body: Vec<u8>) -> (u16, String) {
        let ct = [("content-type", "application/x-protobuf")];
        self.post("/loki/api/v1/push", &ct, body).await
    }

    pub async fn push_json(&self, body: &str) -> (u16, String) {
        let ct = [("content-type", "application/json")];
        self.post("/loki/api/v1/push", &ct, body.as_bytes().to_vec())
            .await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// One entry: time, line, structured metadata.
pub type Entry<'a> = (i64, &'a str, &'a [(&'a str, &'a str)]);

/// A `PushRequest`, protobuf-encoded (not yet compressed).
pub fn proto(streams: &[(&str, Vec<Entry<'_>>)]) -> Vec<u8> {
    let req = PushRequest {
        streams: streams
            .iter()
            .map(|(labels, entries)| StreamAdapter {
                labels: labels.to_string(),
                entries: entries.iter().map(|e| proto_entry(*e)).collect(),
                hash: 0,
            })
            .collect(),
    };
    req.encode_to_vec()
}

fn proto_entry((ts, line, meta): Entry<'_>) -> EntryAdapter {
    EntryAdapter {
        timestamp: Some(Timestamp::from_unix_nanos(ts)),
        line: line.to_string(),
        structured_metadata: meta
            .iter()
            .map(|(n, v)| LabelPairAdapter {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

pub fn snappy(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(raw).unwrap()
}

pub fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

/// The wall clock in ns: entries must be recent to pass the age check.
pub fn now() -> i64 {
    nodepulse::aggregator::loki::now_ns()
}
