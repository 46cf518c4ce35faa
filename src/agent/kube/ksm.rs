//! kube-state-metrics' pod families for this node's pods, from a cache snapshot: the
//! names, HELP texts, types and label order of KSM v2 `internal/store/pod.go`, so the
//! kubernetes-mixin alerts and dashboards work unchanged. Every series starts with
//! `namespace, pod, uid` (KSM's wrapPodFunc). Deleted pods are gone (KSM drops them at
//! once); only the log enrichment keeps them for the grace period.

use super::cache::Snapshot;
use super::meta::{ContainerMeta, ContainerStatusMeta, PodMeta, State};
use super::resource_names::{sanitize, unit};
use crate::exposition::{Label, MetricFamily};
use std::borrow::Cow;

const NONE: &str = "<none>";
/// KSM's order of the five phase series.
const PHASES: [&str; 5] = ["Pending", "Succeeded", "Failed", "Unknown", "Running"];

/// Appends the kube_pod_* families of every live pod in `snapshot`.
pub fn collect(snapshot: &Snapshot, out: &mut Vec<MetricFamily>) {
    let mut pods: Vec<&PodMeta> = snapshot.live_pods().map(|p| &**p).collect();
    pods.sort_unstable_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut f = Families::new();
    for pod in pods {
        f.pod(pod);
        for c in pod.containers.iter().filter(|c| !c.init) {
            f.container(pod, c);
        }
    }
    out.extend(f.into_vec());
}

fn gauge(name: &'static str, help: &'static str) -> MetricFamily {
    MetricFamily::gauge(name, help)
}

/// The families, in the order KSM registers them.
struct Families {
    info: MetricFamily,
    owner: MetricFamily,
    start_time: MetricFamily,
    phase: MetricFamily,
    ready: MetricFamily,
    container_info: MetricFamily,
    restarts: MetricFamily,
    waiting: MetricFamily,
    waiting_reason: MetricFamily,
    last_terminated_reason: MetricFamily,
    container_ready: MetricFamily,
    running: MetricFamily,
    terminated: MetricFamily,
    requests: MetricFamily,
    limits: MetricFamily,
}

impl Families {
    fn new() -> Self {
        Families {
            info: gauge("kube_pod_info", "Information about pod."),
            owner: gauge("kube_pod_owner", "Information about the Pod's owner."),
            start_time: gauge(
                "kube_pod_start_time",
                "Start time in unix timestamp for a pod.",
            ),
            phase: gauge("kube_pod_status_phase", "The pods current phase."),
            ready: gauge(
                "kube_pod_status_ready",
                "Describes whether the pod is ready to serve requests.",
            ),
            container_info: gauge(
                "kube_pod_container_info",
                "Information about a container in a pod.",
            ),
            restarts: MetricFamily::counter(
                "kube_pod_container_status_restarts_total",
                "The number of container restarts per container.",
            ),
            waiting: gauge(
                "kube_pod_container_status_waiting",
                "Describes whether the container is currently in waiting state.",
            ),
            waiting_reason: gauge(
                "kube_pod_container_status_waiting_reason",
                "Describes the reason the container is currently in waiting state.",
            ),
            last_terminated_reason: gauge(
                "kube_pod_container_status_last_terminated_reason",
                "Describes the last reason the container was in terminated state.",
            ),
            container_ready: gauge(
                "kube_pod_container_status_ready",
                "Describes whether the containers readiness check succeeded.",
            ),
            running: gauge(
                "kube_pod_container_status_running",
                "Describes whether the container is currently in running state.",
            ),
            terminated: gauge(
                "kube_pod_container_status_terminated",
                "Describes whether the container is currently in terminated state.",
            ),
            requests: gauge(
                "kube_pod_container_resource_requests",
                "The number of requested request resource by a container.",
            ),
            limits: gauge(
                "kube_pod_container_resource_limits",
                "The number of requested limit resource by a container.",
            ),
        }
    }

    fn into_vec(self) -> Vec<MetricFamily> {
        vec![
            self.info,
            self.owner,
            self.start_time,
            self.phase,
            self.ready,
            self.container_info,
            self.restarts,
            self.waiting,
            self.waiting_reason,
            self.last_terminated_reason,
            self.container_ready,
            self.running,
            self.terminated,
            self.requests,
            self.limits,
        ]
    }

    fn pod(&mut self, p: &PodMeta) {
        let controller = p.owners.iter().find(|o| o.controller);
        let (kind, name) = controller.map_or((NONE, NONE), |o| (&*o.kind, &*o.name));
        let host_network = if p.host_network { "true" } else { "false" };
        let info = [
            ("host_ip", &*p.host_ip),
            ("pod_ip", &*p.pod_ip),
            ("node", &*p.node),
            ("created_by_kind", kind),
            ("created_by_name", name),
            ("priority_class", &*p.priority_class),
            ("host_network", host_network),
        ];
        self.info.push_labels(labels(p, &info), 1.0);
        if p.owners.is_empty() {
            self.owner.push_labels(
                labels(
                    p,
                    &[
                        ("owner_kind", NONE),
                        ("owner_name", NONE),
                        ("owner_is_controller", NONE),
                    ],
                ),
                1.0,
            );
        }
        for o in p.owners.iter() {
            let is = if o.controller { "true" } else { "false" };
            self.owner.push_labels(
                labels(
                    p,
                    &[
                        ("owner_kind", &o.kind),
                        ("owner_name", &o.name),
                        ("owner_is_controller", is),
                    ],
                ),
                1.0,
            );
        }
        if let Some(t) = p.start_time {
            self.start_time.push_labels(labels(p, &[]), t);
        }
        if !p.phase.is_empty() {
            for phase in PHASES {
                self.phase
                    .push_labels(labels(p, &[("phase", phase)]), flag(*p.phase == *phase));
            }
        }
        if let Some(ready) = &p.ready {
            for (condition, status) in
                [("true", "True"), ("false", "False"), ("unknown", "Unknown")]
            {
                self.ready.push_labels(
                    labels(p, &[("condition", condition)]),
                    flag(**ready == *status),
                );
            }
        }
    }

    fn container(&mut self, p: &PodMeta, c: &ContainerMeta) {
        self.resources(p, c);
        let Some(s) = &c.status else { return };
        let name = ("container", &*c.name);
        let info = [
            name,
            ("image_spec", &*c.image_spec),
            ("image", &*s.image),
            ("image_id", &*s.image_id),
            ("container_id", &*s.container_id),
        ];
        self.container_info.push_labels(labels(p, &info), 1.0);
        self.restarts
            .push_labels(labels(p, &[name]), f64::from(s.restart_count));
        self.states(p, name, s);
        if let Some(reason) = &s.last_terminated_reason {
            self.last_terminated_reason
                .push_labels(labels(p, &[name, ("reason", reason)]), 1.0);
        }
        self.container_ready
            .push_labels(labels(p, &[name]), flag(s.ready));
    }

    fn states(&mut self, p: &PodMeta, name: (&'static str, &str), s: &ContainerStatusMeta) {
        let (waiting, running, terminated) = match &s.state {
            State::Waiting { reason } => {
                self.waiting_reason
                    .push_labels(labels(p, &[name, ("reason", reason)]), 1.0);
                (true, false, false)
            }
            State::Running => (false, true, false),
            State::Terminated { .. } => (false, false, true),
            State::Unknown => (false, false, false),
        };
        self.waiting.push_labels(labels(p, &[name]), flag(waiting));
        self.running.push_labels(labels(p, &[name]), flag(running));
        self.terminated
            .push_labels(labels(p, &[name]), flag(terminated));
    }

    fn resources(&mut self, p: &PodMeta, c: &ContainerMeta) {
        for (resources, family) in [
            (&c.requests, &mut self.requests),
            (&c.limits, &mut self.limits),
        ] {
            for (resource, value) in resources.iter() {
                let Some(unit) = unit(resource) else { continue };
                let resource = sanitize(resource);
                let l = [
                    ("container", &*c.name),
                    ("node", &*p.node),
                    ("resource", &*resource),
                    ("unit", unit),
                ];
                family.push_labels(labels(p, &l), *value);
            }
        }
    }
}

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// `namespace, pod, uid`, then `rest`.
fn labels(p: &PodMeta, rest: &[(&'static str, &str)]) -> Vec<Label> {
    let mut l: Vec<Label> = Vec::with_capacity(3 + rest.len());
    l.push((Cow::Borrowed("namespace"), p.namespace.to_string()));
    l.push((Cow::Borrowed("pod"), p.name.to_string()));
    l.push((Cow::Borrowed("uid"), p.uid.to_string()));
    l.extend(
        rest.iter()
            .map(|(n, v)| (Cow::Borrowed(*n), (*v).to_owned())),
    );
    l
}

#[cfg(test)]
#[path = "ksm_tests.rs"]
mod tests;
