//! One log event between processing and sending: what enrichment made of a message,
//! serialized as a buffer record (JSON, so a spooled batch keeps every field), and the
//! hook later stages plug into ([`Stage`]).
//!
//! Enrichment here is what the path says (kubelet's layout, [`path::parse`]): namespace,
//! pod, pod uid, container, restart count; plus the node name from the config. Stream
//! labels stay low-cardinality ({namespace, pod, container, node, stream}); pod uid and
//! restart count travel as Loki structured metadata.

use crate::agent::logs::discover::path;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One message on its way to a sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub timestamp_ns: i64,
    pub line: String,
    /// Stream labels (low cardinality: every distinct set is a Loki stream).
    pub labels: Vec<(String, String)>,
    /// Per-line fields (Loki structured metadata).
    pub metadata: Vec<(String, String)>,
}

/// What a stream's live path (and the node) say about its events: computed once per
/// stream, then copied into each event, so the path is not parsed again per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// namespace, pod, container, node — the labels every event of the stream shares.
    labels: Vec<(String, String)>,
    metadata: Vec<(String, String)>,
}

impl Origin {
    pub fn of(live: &Path, node: &str) -> Self {
        let mut labels = Vec::with_capacity(5);
        let mut metadata = Vec::with_capacity(2);
        let text = live.to_string_lossy();
        match path::parse(&text) {
            Some(p) => {
                labels.push(("namespace".into(), p.namespace.into()));
                labels.push(("pod".into(), p.pod.into()));
                labels.push(("container".into(), p.container.into()));
                metadata.push(("pod_uid".into(), p.pod_uid.into()));
                metadata.push(("restart_count".into(), p.restart_count.to_string()));
            }
            // A containers-dir symlink pointing outside the pods dir: no pod to name.
            None => metadata.push(("filename".into(), text.into_owned())),
        }
        labels.push(("node".into(), node.into()));
        Origin { labels, metadata }
    }

    /// The event of `line` on `stream` ("stdout", "stderr", or "unknown" for a line
    /// that did not decode).
    pub fn event(&self, stream: &str, timestamp_ns: i64, line: String) -> Event {
        let mut labels = Vec::with_capacity(self.labels.len() + 1);
        labels.extend_from_slice(&self.labels);
        labels.push(("stream".into(), stream.into()));
        Event {
            timestamp_ns,
            line,
            labels,
            metadata: self.metadata.clone(),
        }
    }
}

impl Event {
    /// The event of `line` read from the stream whose live path is `live` (see
    /// [`Origin`]; the processor keeps one `Origin` per stream instead).
    pub fn enriched(
        live: &Path,
        node: &str,
        stream: &str,
        timestamp_ns: i64,
        line: String,
    ) -> Self {
        Origin::of(live, node).event(stream, timestamp_ns, line)
    }

    /// The buffer record: JSON cannot fail on these types.
    pub fn to_record(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Event always serializes")
    }

    pub fn from_record(record: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(record)
    }
}

/// A processing stage run on every event after enrichment, before batching.
///
/// This is the hook for the stages still to come: the app-log stage (JSON body ─▶ level,
/// message, trace_id) and secret redaction, and Kubernetes metadata from the pod cache
/// (labels, annotations). They are passed in [`super::PipelineConfig::stages`]; none is
/// wired yet. A stage may rewrite the line, add metadata or labels (keep those few).
pub trait Stage: Send + Sync {
    fn apply(&mut self, event: &mut Event);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_metadata_come_from_the_path() {
        let live = Path::new("/var/log/pods/default_web-1_0a1b-22/nginx/3.log");
        let e = Event::enriched(live, "node-a", "stderr", 7, "hi".into());
        let labels: Vec<(&str, &str)> = e
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("namespace", "default"),
                ("pod", "web-1"),
                ("container", "nginx"),
                ("node", "node-a"),
                ("stream", "stderr")
            ]
        );
        assert_eq!(
            e.metadata,
            [
                ("pod_uid".to_string(), "0a1b-22".to_string()),
                ("restart_count".to_string(), "3".to_string())
            ]
        );
        assert_eq!(Event::from_record(&e.to_record()).unwrap(), e);
    }

    #[test]
    fn a_path_outside_the_pods_layout_keeps_its_file_name() {
        let e = Event::enriched(Path::new("/srv/app.log"), "n", "stdout", 0, String::new());
        assert_eq!(e.labels.len(), 2);
        assert_eq!(e.metadata[0], ("filename".into(), "/srv/app.log".into()));
    }
}
