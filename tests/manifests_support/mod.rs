//! What tests/manifests.rs reads the manifests with: [`render`] runs `kubectl
//! kustomize` (alone or with components) and indexes the objects; [`pod`] reads a pod
//! template (containers, their expanded args, mounts and the volumes behind them,
//! ports); [`layout`] writes what a container sees at its mounts into a temp dir;
//! [`programs`] reads a render with the agent's and the aggregator's own parsers.

pub mod layout;
pub mod pod;
pub mod programs;
pub mod render;
