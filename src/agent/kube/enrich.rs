//! The pod cache as the log pipeline's [`Enricher`]: what a container's log lines get
//! from its pod. Stream labels (few, low-cardinality: `--kube.stream-labels`, default
//! `app` from `app.kubernetes.io/name`, `app` or `k8s-app`, as Grafana's Promtail and
//! Alloy charts derive it); per-line metadata: the pod's labels (`pod_label_<key>`),
//! the annotations kept (`pod_annotation_<key>`), its namespace's labels
//! (`namespace_label_<key>`), and the owner workload (`workload_kind`,
//! `workload_name`). The Loki sink sanitizes the names (`.` and `/` to `_`); the
//! Elasticsearch sink keeps them. Exclusion by annotation: [`super::exclude`].

use super::cache::PodCache;
use super::exclude;
use super::meta::lookup;
use crate::agent::logs::pipeline::enrich::{Enricher, Enrichment};
use crate::agent::sinks::loki::labels::sanitize_name;
use std::sync::Arc;

/// `--kube.stream-labels`'s default.
pub const DEFAULT_STREAM_LABELS: &str = "app=app.kubernetes.io/name|app|k8s-app";

/// One stream label: its name and the pod labels it takes its value from, first
/// present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLabel {
    pub name: String,
    pub keys: Vec<String>,
}

/// Parses `name=key1|key2,key3`: a bare key names its label after itself, sanitized
/// (`tier`, `app.kubernetes.io/part-of` → `app_kubernetes_io_part_of`).
pub fn parse_stream_labels(spec: &str) -> Result<Vec<StreamLabel>, String> {
    let mut out: Vec<StreamLabel> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, keys) = match item.split_once('=') {
            Some((name, keys)) => (name.trim().to_owned(), keys),
            None => (sanitize_name(item), item),
        };
        let keys: Vec<String> = keys.split('|').map(|k| k.trim().to_owned()).collect();
        if !valid_name(&name) || keys.iter().any(String::is_empty) {
            return Err(format!(
                "{item:?}: want label=podlabel[|podlabel...] or podlabel"
            ));
        }
        if RESERVED.contains(&name.as_str()) || out.iter().any(|l| l.name == name) {
            return Err(format!("{item:?}: the label {name:?} is already set"));
        }
        out.push(StreamLabel { name, keys });
    }
    Ok(out)
}

/// The stream labels every event has already.
const RESERVED: [&str; 5] = ["namespace", "pod", "container", "node", "stream"];

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The pod cache seen by the log pipeline.
pub struct KubeEnricher {
    pub cache: Arc<PodCache>,
    pub stream_labels: Vec<StreamLabel>,
}

impl Enricher for KubeEnricher {
    fn generation(&self) -> u64 {
        self.cache.generation()
    }

    fn enrich(&self, pod_uid: &str, container: &str) -> Option<Enrichment> {
        let snapshot = self.cache.snapshot();
        let pod = &snapshot.by_uid(pod_uid)?.meta;
        let namespace = snapshot.namespace(&pod.namespace);
        let labels = self.stream_labels.iter().filter_map(|l| {
            let value = l.keys.iter().find_map(|k| lookup(&pod.labels, k))?;
            Some((l.name.clone(), value.to_owned()))
        });
        let pairs = |prefix: &str, pairs: &[(Box<str>, Box<str>)]| -> Vec<(String, String)> {
            let named = pairs
                .iter()
                .map(|(k, v)| (format!("{prefix}{k}"), v.to_string()));
            named.collect()
        };
        let mut metadata = vec![
            ("workload_kind".to_owned(), pod.workload.kind.to_string()),
            ("workload_name".to_owned(), pod.workload.name.to_string()),
        ];
        metadata.extend(pairs("pod_label_", &pod.labels));
        metadata.extend(pairs("pod_annotation_", &pod.annotations));
        if let Some(ns) = namespace {
            metadata.extend(pairs("namespace_label_", &ns.labels));
        }
        Some(Enrichment {
            excluded: exclude::container_excluded(pod, namespace, container),
            labels: labels.collect(),
            metadata,
        })
    }
}

#[cfg(test)]
#[path = "enrich_tests.rs"]
mod tests;
