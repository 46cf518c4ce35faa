//! Support of the whole-system test (`tests/system_e2e.rs`): the node it plays — a pod
//! of the fake Kubernetes API with its cgroups and log files ([`node`]); the processes
//! around the agent — the aggregator, a real Prometheus and a real Alertmanager, with
//! their configurations ([`peers`]); and the questions asked of their HTTP APIs, polled
//! until a deadline ([`ask`]).

pub mod ask;
pub mod node;
pub mod peers;
