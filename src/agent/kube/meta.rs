//! The compact copy of a Pod (and a Namespace) the cache keeps: what enrichment, container
//! naming and the kube_pod_* families read, nothing else (no managedFields, no volumes,
//! no env) — about 1–2 KiB per pod instead of the 10–20 KiB of a full `Pod`.

use super::owner::{self, OwnerRef, Workload};
use super::quantity;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Namespace, Pod, PodStatus,
};
use std::collections::BTreeMap;

/// Sorted key/value pairs (labels, kept annotations).
pub type Pairs = Box<[(Box<str>, Box<str>)]>;

/// What the cache keeps of one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodMeta {
    pub uid: Box<str>,
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub labels: Pairs,
    /// Only the annotations [`AnnotationFilter`] keeps.
    pub annotations: Pairs,
    pub owners: Box<[OwnerRef]>,
    pub workload: Workload,
    pub node: Box<str>,
    pub host_ip: Box<str>,
    pub pod_ip: Box<str>,
    pub priority_class: Box<str>,
    pub host_network: bool,
    /// `status.phase`, "" when unset.
    pub phase: Box<str>,
    /// The `Ready` condition's status ("True", "False", "Unknown"), if there is one.
    pub ready: Option<Box<str>>,
    /// `status.startTime`, unix seconds.
    pub start_time: Option<f64>,
    /// Init containers first (flagged), then the app containers, in spec order.
    pub containers: Box<[ContainerMeta]>,
}

/// One container of a pod: its spec and, once the kubelet reported it, its status.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerMeta {
    pub name: Box<str>,
    pub init: bool,
    /// The image as written in the spec.
    pub image_spec: Box<str>,
    pub requests: Box<[(Box<str>, f64)]>,
    pub limits: Box<[(Box<str>, f64)]>,
    pub status: Option<ContainerStatusMeta>,
}

/// `status.containerStatuses[]` as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerStatusMeta {
    /// The resolved image (`docker.io/...`) and its digest reference.
    pub image: Box<str>,
    pub image_id: Box<str>,
    /// `containerd://<64 hex>` as the API has it ("" before the first start).
    pub container_id: Box<str>,
    pub restart_count: u32,
    pub ready: bool,
    pub state: State,
    pub last_terminated_reason: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting { reason: Box<str> },
    Running,
    Terminated { reason: Box<str> },
    Unknown,
}

/// What the cache keeps of one namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceMeta {
    pub name: Box<str>,
    pub labels: Pairs,
    pub annotations: Pairs,
}

/// Which annotations are kept: every `nodepulse.io/` one plus the listed keys.
#[derive(Debug, Clone, Default)]
pub struct AnnotationFilter {
    pub keys: Vec<String>,
}

impl AnnotationFilter {
    pub fn keeps(&self, key: &str) -> bool {
        key.starts_with("nodepulse.io/") || self.keys.iter().any(|k| k == key)
    }

    fn pairs(&self, all: Option<&BTreeMap<String, String>>) -> Pairs {
        let kept = all.into_iter().flatten().filter(|(k, _)| self.keeps(k));
        kept.map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect()
    }
}

/// The value of `key` in sorted `pairs`.
pub fn lookup<'a>(pairs: &'a [(Box<str>, Box<str>)], key: &str) -> Option<&'a str> {
    let i = pairs.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
    Some(&pairs[i].1)
}

fn all_pairs(map: Option<&BTreeMap<String, String>>) -> Pairs {
    let pairs = map.into_iter().flatten();
    pairs
        .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
        .collect()
}

fn text(s: Option<&String>) -> Box<str> {
    s.map(String::as_str).unwrap_or_default().into()
}

impl PodMeta {
    /// The compact copy of `pod`; `None` without a uid, namespace or name.
    pub fn from_pod(pod: &Pod, filter: &AnnotationFilter) -> Option<PodMeta> {
        let m = &pod.metadata;
        let (uid, namespace, name) = (m.uid.as_ref()?, m.namespace.as_ref()?, m.name.as_ref()?);
        let labels = all_pairs(m.labels.as_ref());
        let owners: Box<[OwnerRef]> = m.owner_references.iter().flatten().map(owner_ref).collect();
        let hash = lookup(&labels, owner::POD_TEMPLATE_HASH);
        let workload = owner::workload(&owners, hash, name);
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        Some(PodMeta {
            uid: uid.as_str().into(),
            namespace: namespace.as_str().into(),
            name: name.as_str().into(),
            annotations: filter.pairs(m.annotations.as_ref()),
            owners,
            workload,
            node: text(spec.and_then(|s| s.node_name.as_ref())),
            host_ip: text(status.and_then(|s| s.host_ip.as_ref())),
            pod_ip: text(status.and_then(|s| s.pod_ip.as_ref())),
            priority_class: text(spec.and_then(|s| s.priority_class_name.as_ref())),
            host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
            phase: text(status.and_then(|s| s.phase.as_ref())),
            ready: status.and_then(ready_condition),
            start_time: status
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0.as_second() as f64),
            containers: containers(pod),
            labels,
        })
    }
}

impl NamespaceMeta {
    pub fn from_namespace(ns: &Namespace, filter: &AnnotationFilter) -> Option<NamespaceMeta> {
        Some(NamespaceMeta {
            name: ns.metadata.name.as_deref()?.into(),
            labels: all_pairs(ns.metadata.labels.as_ref()),
            annotations: filter.pairs(ns.metadata.annotations.as_ref()),
        })
    }
}

fn owner_ref(o: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference) -> OwnerRef {
    OwnerRef {
        kind: o.kind.as_str().into(),
        name: o.name.as_str().into(),
        controller: o.controller.unwrap_or(false),
    }
}

fn ready_condition(status: &PodStatus) -> Option<Box<str>> {
    let conditions = status.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready")?;
    Some(ready.status.as_str().into())
}

fn containers(pod: &Pod) -> Box<[ContainerMeta]> {
    let (Some(spec), status) = (pod.spec.as_ref(), pod.status.as_ref()) else {
        return Box::default();
    };
    let init_statuses = status.and_then(|s| s.init_container_statuses.as_deref());
    let statuses = status.and_then(|s| s.container_statuses.as_deref());
    let init = spec.init_containers.iter().flatten();
    let init = init.map(|c| container(c, true, init_statuses.unwrap_or_default()));
    let app = spec.containers.iter();
    let app = app.map(|c| container(c, false, statuses.unwrap_or_default()));
    init.chain(app).collect()
}

fn container(c: &Container, init: bool, statuses: &[ContainerStatus]) -> ContainerMeta {
    let resources = c.resources.as_ref();
    ContainerMeta {
        name: c.name.as_str().into(),
        init,
        image_spec: text(c.image.as_ref()),
        requests: quantities(resources.and_then(|r| r.requests.as_ref())),
        limits: quantities(resources.and_then(|r| r.limits.as_ref())),
        status: statuses
            .iter()
            .find(|s| s.name == c.name)
            .map(container_status),
    }
}

type QuantityMap = BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

/// Parsable quantities only: a malformed one is skipped, never a panic.
fn quantities(map: Option<&QuantityMap>) -> Box<[(Box<str>, f64)]> {
    let parsed = map.into_iter().flatten();
    let parsed = parsed.filter_map(|(k, q)| Some((k.as_str().into(), quantity::parse(&q.0)?)));
    parsed.collect()
}

fn container_status(s: &ContainerStatus) -> ContainerStatusMeta {
    ContainerStatusMeta {
        image: s.image.as_str().into(),
        image_id: s.image_id.as_str().into(),
        container_id: text(s.container_id.as_ref()),
        restart_count: u32::try_from(s.restart_count).unwrap_or(0),
        ready: s.ready,
        state: s.state.as_ref().map_or(State::Unknown, state),
        last_terminated_reason: s
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .map(|t| text(t.reason.as_ref())),
    }
}

fn state(s: &ContainerState) -> State {
    if let Some(w) = &s.waiting {
        State::Waiting {
            reason: text(w.reason.as_ref()),
        }
    } else if s.running.is_some() {
        State::Running
    } else if let Some(t) = &s.terminated {
        State::Terminated {
            reason: text(t.reason.as_ref()),
        }
    } else {
        State::Unknown
    }
}

/// The runtime id of a `containerd://<id>` / `cri-o://<id>` / `docker://<id>` reference.
pub fn runtime_id(container_id: &str) -> &str {
    container_id
        .split_once("://")
        .map_or(container_id, |(_, id)| id)
}

#[cfg(test)]
#[path = "meta_tests.rs"]
pub(crate) mod tests_support;
