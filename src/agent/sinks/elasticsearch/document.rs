//! One log line as an Elasticsearch document, in the Elastic Common Schema (ECS) field
//! names that Filebeat's `add_kubernetes_metadata` and container input write:
//!
//! ```json
//! {"@timestamp":"2024-05-01T12:00:00.123456789Z","message":"...","stream":"stdout",
//!  "log":{"level":"info"},"trace":{"id":"4bf9..."},
//!  "kubernetes":{"namespace":"shop","pod":{"name":"web-0","uid":"..."},
//!                "container":{"name":"app"},"node":{"name":"n1"},
//!                "labels":{"app_kubernetes_io/name":"web"}}}
//! ```
//!
//! ECS rather than Fluent Bit's (`kubernetes.pod_name`, `namespace_name`) or Vector's
//! (`kubernetes.pod_namespace`, `pod_node_name`) names: the sink writes to Elastic's own
//! store, whose `logs-*-*` data stream template maps ECS fields and whose Kibana views
//! expect them. Objects are nested rather than dotted so that OpenSearch and old
//! Elasticsearch versions read them the same way.

use super::civil::Civil;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What the log pipeline hands the sink for one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EsDocument {
    /// The line's time from the container runtime, Unix nanoseconds (UTC).
    pub unix_nanos: i64,
    pub message: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// From the app-log parser, when the body was JSON with a level.
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub kubernetes: KubernetesMeta,
}

/// Pod metadata from the log path and the pod cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubernetesMeta {
    pub namespace: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub container_name: String,
    pub node_name: String,
    pub labels: BTreeMap<String, String>,
}

impl Serialize for EsDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire::from(self).serialize(s)
    }
}

/// The document's JSON shape, borrowed from an [`EsDocument`].
#[derive(Serialize)]
struct Wire<'a> {
    #[serde(rename = "@timestamp", serialize_with = "rfc3339")]
    timestamp: i64,
    message: &'a str,
    stream: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<Level<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<Id<'a>>,
    kubernetes: Kubernetes<'a>,
}

#[derive(Serialize)]
struct Level<'a> {
    level: &'a str,
}

#[derive(Serialize)]
struct Id<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Pod<'a> {
    name: &'a str,
    uid: &'a str,
}

#[derive(Serialize)]
struct Kubernetes<'a> {
    namespace: &'a str,
    pod: Pod<'a>,
    container: Name<'a>,
    node: Name<'a>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "dedotted"
    )]
    labels: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a EsDocument> for Wire<'a> {
    fn from(d: &'a EsDocument) -> Self {
        let k = &d.kubernetes;
        Wire {
            timestamp: d.unix_nanos,
            message: &d.message,
            stream: &d.stream,
            log: d.level.as_deref().map(|level| Level { level }),
            trace: d.trace_id.as_deref().map(|id| Id { id }),
            kubernetes: Kubernetes {
                namespace: &k.namespace,
                pod: Pod {
                    name: &k.pod_name,
                    uid: &k.pod_uid,
                },
                container: Name {
                    name: &k.container_name,
                },
                node: Name { name: &k.node_name },
                labels: &k.labels,
            },
        }
    }
}

fn rfc3339<S: Serializer>(nanos: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&Civil::from_unix_nanos(*nanos))
}

/// Label keys with `.` replaced by `_`, as Filebeat's `labels.dedot` (on by default)
/// does: Elasticsearch expands dots into objects, so `app` and `app.kubernetes.io/name`
/// on two pods would map `kubernetes.labels.app` as both text and object, and every
/// later document carrying one of them would be rejected with a mapping conflict.
fn dedotted<S: Serializer>(labels: &&BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(labels.len()))?;
    for (k, v) in labels.iter() {
        map.serialize_entry(&dedot(k), v)?;
    }
    map.end()
}

pub fn dedot(key: &str) -> Cow<'_, str> {
    if key.contains('.') {
        Cow::Owned(key.replace('.', "_"))
    } else {
        Cow::Borrowed(key)
    }
}
