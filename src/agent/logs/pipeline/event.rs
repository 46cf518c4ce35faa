//! One log event between processing and sending: what enrichment made of a message,
//! its buffer record ([`super::record`]: compact binary, so a spooled batch keeps every
//! field), and the hook later stages plug into ([`Stage`]).
//!
//! The processor does not build an `Event` per line: it writes the record straight
//! from the [`Origin`]'s cached blocks. `Event` is what a [`Stage`] sees (only built
//! when stages beyond the app-log stage are configured) and what tests compare.
//!
//! Enrichment here is what the path says (kubelet's layout, [`path::parse`]): namespace,
//! pod, pod uid, container, restart count; plus the node name from the config. Stream
//! labels stay low-cardinality ({namespace, pod, container, node, stream}); pod uid and
//! restart count travel as Loki structured metadata.

use super::enrich::Enricher;
use super::record::{self, RecordError, RecordView};
use crate::agent::logs::discover::path;
use std::path::Path;

/// One message on its way to a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The record blocks, written once: labels (with `stream`) per stream value, in
    /// [`STREAMS`] order, and the metadata pairs.
    label_blocks: [Vec<u8>; 3],
    metadata_pairs: Vec<u8>,
    /// The enricher's generation this was made at (0 without one).
    pub generation: u64,
    /// Excluded by the pod's or namespace's annotations: nothing of it is shipped.
    pub excluded: bool,
}

/// The `stream` label values: the container's two streams, and "unknown" for a line
/// that did not decode.
pub const STREAMS: [&str; 3] = ["stdout", "stderr", "unknown"];

impl Origin {
    pub fn of(live: &Path, node: &str) -> Self {
        Origin::enriched(live, node, None)
    }

    /// What the path says, plus what `enricher` says of the path's pod and container.
    pub fn enriched(live: &Path, node: &str, enricher: Option<&dyn Enricher>) -> Self {
        let mut labels: Vec<(String, String)> = Vec::with_capacity(6);
        let mut metadata: Vec<(String, String)> = Vec::with_capacity(2);
        let generation = enricher.map_or(0, |e| e.generation());
        let mut excluded = false;
        let text = live.to_string_lossy();
        match path::parse(&text) {
            Some(p) => {
                labels.push(("namespace".into(), p.namespace.into()));
                labels.push(("pod".into(), p.pod.into()));
                labels.push(("container".into(), p.container.into()));
                metadata.push(("pod_uid".into(), p.pod_uid.into()));
                metadata.push(("restart_count".into(), p.restart_count.to_string()));
                if let Some(e) = enricher.and_then(|e| e.enrich(p.pod_uid, p.container)) {
                    excluded = e.excluded;
                    labels.extend(e.labels);
                    metadata.extend(e.metadata);
                }
            }
            // A containers-dir symlink pointing outside the pods dir: no pod to name.
            None => metadata.push(("filename".into(), text.into_owned())),
        }
        labels.push(("node".into(), node.into()));
        let label_blocks = STREAMS.map(|stream| {
            let mut block = Vec::new();
            let pairs = labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            record::put_block(&mut block, pairs.chain([("stream", stream)]));
            block
        });
        let mut metadata_pairs = Vec::new();
        for (k, v) in &metadata {
            record::put_pair(&mut metadata_pairs, k, v);
        }
        Origin {
            labels,
            metadata,
            label_blocks,
            metadata_pairs,
            generation,
            excluded,
        }
    }

    /// Appends the record of `line` on `stream` (an index into [`STREAMS`]) with the
    /// pairs in `lifted` (record form) after the stream's own metadata.
    pub fn write_record(
        &self,
        out: &mut Vec<u8>,
        stream: usize,
        timestamp_ns: i64,
        lifted: &[u8],
        line: &str,
    ) {
        let labels = &self.label_blocks[stream];
        record::encode(
            out,
            timestamp_ns,
            labels,
            [&self.metadata_pairs, lifted],
            line,
        );
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

    /// The buffer record.
    pub fn to_record(&self) -> Vec<u8> {
        let pairs = |v: &'_ [(String, String)]| {
            let mut out = Vec::new();
            for (k, val) in v {
                record::put_pair(&mut out, k, val);
            }
            out
        };
        let mut labels = Vec::new();
        let iter = self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        record::put_block(&mut labels, iter);
        let mut out = Vec::new();
        let metadata = pairs(&self.metadata);
        record::encode(
            &mut out,
            self.timestamp_ns,
            &labels,
            [&metadata, &[]],
            &self.line,
        );
        out
    }

    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        RecordView::parse(bytes).map(|v| Event::from_view(&v))
    }

    /// The owned event of a record view.
    pub fn from_view(v: &RecordView<'_>) -> Self {
        let owned = |(k, v): (&str, &str)| (k.to_owned(), v.to_owned());
        Event {
            timestamp_ns: v.timestamp_ns,
            line: String::from_utf8_lossy(v.line).into_owned(),
            labels: v.labels().map(owned).collect(),
            metadata: v.metadata().map(owned).collect(),
        }
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
    fn the_origin_writes_the_record_of_its_event() {
        let live = Path::new("/var/log/pods/default_web-1_0a1b-22/nginx/3.log");
        let origin = Origin::of(live, "node-a");
        let mut out = Vec::new();
        origin.write_record(&mut out, 1, 9, &[], "line");
        assert_eq!(out, origin.event("stderr", 9, "line".into()).to_record());
    }

    #[test]
    fn a_path_outside_the_pods_layout_keeps_its_file_name() {
        let e = Event::enriched(Path::new("/srv/app.log"), "n", "stdout", 0, String::new());
        assert_eq!(e.labels.len(), 2);
        assert_eq!(e.metadata[0], ("filename".into(), "/srv/app.log".into()));
    }

    /// Knows one pod (uid "u1"), excludes its container "sidecar".
    struct OnePod;

    impl Enricher for OnePod {
        fn generation(&self) -> u64 {
            7
        }
        fn enrich(
            &self,
            pod_uid: &str,
            container: &str,
        ) -> Option<super::super::enrich::Enrichment> {
            (pod_uid == "u1").then(|| super::super::enrich::Enrichment {
                excluded: container == "sidecar",
                labels: vec![("app".into(), "web".into())],
                metadata: vec![("pod_label_app".into(), "web".into())],
            })
        }
    }

    #[test]
    fn an_enricher_adds_labels_and_metadata_and_says_what_is_excluded() {
        let live = Path::new("/var/log/pods/default_web-1_u1/nginx/3.log");
        let o = Origin::enriched(live, "n", Some(&OnePod));
        assert_eq!(o.generation, 7);
        assert!(!o.excluded);
        let e = o.event("stdout", 1, "hi".into());
        assert!(e.labels.contains(&("app".into(), "web".into())));
        assert!(e.metadata.contains(&("pod_label_app".into(), "web".into())));
        let side = Path::new("/var/log/pods/default_web-1_u1/sidecar/0.log");
        assert!(Origin::enriched(side, "n", Some(&OnePod)).excluded);
        let other = Path::new("/var/log/pods/default_web-2_u2/nginx/0.log");
        let o = Origin::enriched(other, "n", Some(&OnePod));
        assert_eq!(
            o.labels.len(),
            4,
            "path labels and node only: {:?}",
            o.labels
        );
        assert_eq!(o.generation, 7);
    }
}
