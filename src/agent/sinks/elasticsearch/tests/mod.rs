//! Tests of the Elasticsearch sink: the body as Elasticsearch reads it (encode.rs) and
//! real-shaped bulk answers (response.rs).

mod encode;
mod response;

use super::*;
use serde_json::Value;

/// 2024-05-01T12:00:00.123456789Z
pub const T0: i64 = 1_714_564_800_123_456_789;

pub fn doc(message: &str) -> EsDocument {
    EsDocument {
        unix_nanos: T0,
        message: message.to_owned(),
        stream: "stdout".into(),
        level: Some("info".into()),
        trace_id: None,
        kubernetes: KubernetesMeta {
            namespace: "shop".into(),
            pod_name: "web-0".into(),
            pod_uid: "0c6b5b4e-6f1d-4f7e-9d0a-1b2c3d4e5f60".into(),
            container_name: "app".into(),
            node_name: "node-1".into(),
            labels: [("app.kubernetes.io/name", "web"), ("tier", "front")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        },
    }
}

pub fn docs(n: usize) -> Vec<EsDocument> {
    (0..n).map(|i| doc(&format!("line {i}"))).collect()
}

/// Splits a body into JSON values, checking the NDJSON framing on the way.
pub fn lines(body: &[u8]) -> Vec<Value> {
    assert_eq!(body.last(), Some(&b'\n'), "the last line ends in a newline");
    body[..body.len() - 1]
        .split(|&b| b == b'\n')
        .map(|l| serde_json::from_slice(l).expect("every line is JSON"))
        .collect()
}

pub fn fixed() -> IndexTarget {
    IndexTarget::index("k8s-logs").unwrap()
}
