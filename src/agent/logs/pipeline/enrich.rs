//! The hook through which pod metadata reaches log events (the pod cache implements it:
//! `agent/kube/enrich.rs`; the pipeline knows nothing of Kubernetes' API). A stream asks
//! once, at its first line, what the cache says of its pod and container, and again
//! whenever the cache's generation moves, so a pod seen after its first lines, or whose
//! labels changed, is enriched from then on.

/// What a source of pod metadata says of one container's logs.
pub trait Enricher: Send + Sync {
    /// Changes whenever an [`Enricher::enrich`] answer may have changed.
    fn generation(&self) -> u64;
    /// `None` when the pod is unknown (its lines keep what their path says).
    fn enrich(&self, pod_uid: &str, container: &str) -> Option<Enrichment>;
}

/// The pod's share of a stream's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// Excluded by annotation: the stream's lines are read and acknowledged, not
    /// shipped (counted).
    pub excluded: bool,
    /// Extra stream labels (keep them few: each distinct set is a Loki stream).
    pub labels: Vec<(String, String)>,
    /// Extra per-line fields (Loki structured metadata, Elasticsearch fields).
    pub metadata: Vec<(String, String)>,
}
