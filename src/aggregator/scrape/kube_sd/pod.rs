//! The targets of one Pod, with the labels Prometheus's `kubernetes_sd_configs` role
//! `pod` gives them (discovery/kubernetes/pod.go): one target per declared container
//! port (`<pod IP>:<port>`), one port-less target per container without ports, init
//! containers included; `__meta_kubernetes_namespace`, `__meta_kubernetes_pod_*` (name,
//! ip, labels and annotations with their `*present_` twins, node_name, host_ip, uid,
//! ready, phase, controller kind and name) and `__meta_kubernetes_pod_container_*`
//! (name, id, image, init, port name, number and protocol). A pod without an IP yet has
//! no targets.

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod};

pub(super) type Pairs = Vec<(String, String)>;

/// Every target of `pod`, as label pairs (`__address__` included).
pub fn targets(pod: &Pod) -> Vec<Pairs> {
    let Some(ip) = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .filter(|ip| !ip.is_empty())
    else {
        return Vec::new();
    };
    let common = pod_labels(pod, ip);
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let init = spec.init_containers.iter().flatten().map(|c| (c, true));
    let mut out = Vec::new();
    for (c, is_init) in spec.containers.iter().map(|c| (c, false)).chain(init) {
        let mut base = common.clone();
        base.extend(container_labels(pod, c, is_init));
        let ports = c.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            let mut t = base.clone();
            t.push(("__address__".into(), host(ip)));
            out.push(t);
        }
        for p in ports {
            let mut t = base.clone();
            t.extend(port_target(ip, p));
            out.push(t);
        }
    }
    out
}

/// `__address__` and the `pod_container_port_*` labels of container port `p` at `ip`.
pub(super) fn port_target(ip: &str, p: &ContainerPort) -> Pairs {
    vec![
        (
            "__address__".into(),
            format!("{}:{}", host(ip), p.container_port),
        ),
        meta(
            "pod_container_port_name",
            p.name.clone().unwrap_or_default(),
        ),
        meta("pod_container_port_number", p.container_port.to_string()),
        meta(
            "pod_container_port_protocol",
            p.protocol.clone().unwrap_or_else(|| "TCP".into()),
        ),
    ]
}

/// An IPv6 address in brackets, as Go's net.JoinHostPort writes it.
pub(super) fn host(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_owned()
    }
}

pub(super) fn meta(name: &str, value: String) -> (String, String) {
    (format!("__meta_kubernetes_{name}"), value)
}

/// The labels every target of `pod` has (namespace, name, ip, labels, annotations, ...).
pub(super) fn pod_labels(pod: &Pod, ip: &str) -> Pairs {
    let m = &pod.metadata;
    let status = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    let mut out = vec![
        meta("namespace", m.namespace.clone().unwrap_or_default()),
        meta("pod_name", m.name.clone().unwrap_or_default()),
        meta("pod_ip", ip.to_owned()),
        meta("pod_ready", ready(pod).into()),
        meta(
            "pod_phase",
            status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        ),
        meta(
            "pod_node_name",
            spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        ),
        meta(
            "pod_host_ip",
            status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        ),
        meta("pod_uid", m.uid.clone().unwrap_or_default()),
    ];
    for (kind, map) in [("label", &m.labels), ("annotation", &m.annotations)] {
        for (k, v) in map.iter().flatten() {
            let name = sanitize(k);
            out.push(meta(&format!("pod_{kind}_{name}"), v.clone()));
            out.push(meta(&format!("pod_{kind}present_{name}"), "true".into()));
        }
    }
    let controller = m
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    if let Some(o) = controller {
        out.push(meta("pod_controller_kind", o.kind.clone()));
        out.push(meta("pod_controller_name", o.name.clone()));
    }
    out
}

fn container_labels(pod: &Pod, c: &Container, init: bool) -> Pairs {
    let statuses = pod.status.as_ref().and_then(|s| {
        if init {
            s.init_container_statuses.as_ref()
        } else {
            s.container_statuses.as_ref()
        }
    });
    let id = statuses
        .and_then(|all| all.iter().find(|s| s.name == c.name))
        .and_then(|s| s.container_id.clone())
        .unwrap_or_default();
    vec![
        meta("pod_container_name", c.name.clone()),
        meta("pod_container_id", id),
        meta("pod_container_image", c.image.clone().unwrap_or_default()),
        meta("pod_container_init", init.to_string()),
    ]
}

/// The Ready condition: "true", "false", or "unknown" without one.
fn ready(pod: &Pod) -> &'static str {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    match conditions.and_then(|c| c.iter().find(|c| c.type_ == "Ready")) {
        Some(c) if c.status == "True" => "true",
        Some(c) if c.status == "False" => "false",
        _ => "unknown",
    }
}

/// A Kubernetes label or annotation key as a label name: every character outside
/// `[a-zA-Z0-9_]` becomes `_` (Prometheus's strutil.SanitizeLabelName).
pub fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
