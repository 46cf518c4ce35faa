//! nodepulse: a Kubernetes node agent (node, container and pod metrics in node_exporter,
//! cAdvisor and kube-state-metrics names; container logs shipped at-least-once) and its
//! embedded aggregator. The binaries in `src/bin/` are thin mains over this library;
//! [`web`] is what their HTTP servers share (TLS and basic auth by a web config file).

pub mod agent;
pub mod aggregator;
pub mod civil;
pub mod exposition;
pub mod gzip;
pub mod loki_proto;
pub mod shutdown;
pub mod web;

/// The package version, as reported by `--version` and the build-info metric.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
