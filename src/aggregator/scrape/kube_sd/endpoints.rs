//! The targets of one Endpoints object, with the labels Prometheus's role `endpoints`
//! gives them (discovery/kubernetes/endpoints.go): one target per address × port
//! (`__meta_kubernetes_endpoint_{port_name,port_protocol,ready,address_target_kind,
//! address_target_name,node_name,hostname}`), the Endpoints' own labels, its Service's
//! name, labels and annotations, and — for an address backed by a known Pod — the pod's
//! labels and the container whose port is the endpoint port; then one target per
//! container port of those pods that no endpoint port covered.

use super::pod::{host, meta, pod_labels, port_target, sanitize, Pairs};
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use std::collections::BTreeMap;

/// Every target of `ep`; `service` is the Service of the same name, `pod` finds a pod
/// by namespace and name.
pub fn targets<'a>(
    ep: &Endpoints,
    service: Option<&Service>,
    pod: impl Fn(&str, &str) -> Option<&'a Pod>,
) -> Vec<Pairs> {
    let ns = ep.metadata.namespace.clone().unwrap_or_default();
    let mut group = vec![
        meta("namespace", ns.clone()),
        meta(
            "endpoints_name",
            ep.metadata.name.clone().unwrap_or_default(),
        ),
    ];
    if let Some(svc) = service {
        group.push(meta(
            "service_name",
            svc.metadata.name.clone().unwrap_or_default(),
        ));
        present(&mut group, "service_label", &svc.metadata.labels);
        present(&mut group, "service_annotation", &svc.metadata.annotations);
    }
    present(&mut group, "endpoints_label", &ep.metadata.labels);
    let mut out = Vec::new();
    // Pods seen behind addresses, with the ports their endpoints covered.
    let mut seen: Vec<(&Pod, Vec<i32>)> = Vec::new();
    for subset in ep.subsets.iter().flatten() {
        for port in subset.ports.iter().flatten() {
            let ready = subset.addresses.iter().flatten().map(|a| (a, "true"));
            let not_ready = subset
                .not_ready_addresses
                .iter()
                .flatten()
                .map(|a| (a, "false"));
            for (addr, is_ready) in ready.chain(not_ready) {
                let mut t = group.clone();
                t.push((
                    "__address__".into(),
                    format!("{}:{}", host(&addr.ip), port.port),
                ));
                t.push(meta(
                    "endpoint_port_name",
                    port.name.clone().unwrap_or_default(),
                ));
                t.push(meta(
                    "endpoint_port_protocol",
                    port.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ));
                t.push(meta("endpoint_ready", is_ready.into()));
                if let Some(r) = &addr.target_ref {
                    t.push(meta(
                        "endpoint_address_target_kind",
                        r.kind.clone().unwrap_or_default(),
                    ));
                    t.push(meta(
                        "endpoint_address_target_name",
                        r.name.clone().unwrap_or_default(),
                    ));
                }
                if let Some(n) = &addr.node_name {
                    t.push(meta("endpoint_node_name", n.clone()));
                }
                if let Some(h) = addr.hostname.as_ref().filter(|h| !h.is_empty()) {
                    t.push(meta("endpoint_hostname", h.clone()));
                }
                let backing = addr
                    .target_ref
                    .as_ref()
                    .filter(|r| r.kind.as_deref() == Some("Pod"))
                    .and_then(|r| pod(r.namespace.as_deref().unwrap_or(&ns), r.name.as_deref()?));
                if let Some(p) = backing {
                    t.extend(pod_labels(p, pod_ip(p)));
                    t.extend(container_of_port(p, port.port, port.protocol.as_deref()));
                    match seen.iter_mut().find(|(s, _)| std::ptr::eq(*s, p)) {
                        Some((_, ports)) => ports.push(port.port),
                        None => seen.push((p, vec![port.port])),
                    }
                }
                out.push(t);
            }
        }
    }
    for (p, covered) in seen {
        out.extend(uncovered_ports(&group, p, &covered));
    }
    out
}

fn pod_ip(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .unwrap_or("")
}

/// The container labels of the container exposing `port`, if any.
fn container_of_port(p: &Pod, port: i32, protocol: Option<&str>) -> Pairs {
    let containers = p.spec.iter().flat_map(|s| s.containers.iter());
    for c in containers {
        if let Some(cp) = c
            .ports
            .iter()
            .flatten()
            .find(|cp| cp.container_port == port)
        {
            return vec![
                meta("pod_container_name", c.name.clone()),
                meta("pod_container_image", c.image.clone().unwrap_or_default()),
                meta(
                    "pod_container_port_name",
                    cp.name.clone().unwrap_or_default(),
                ),
                meta("pod_container_port_number", port.to_string()),
                meta(
                    "pod_container_port_protocol",
                    protocol.unwrap_or("TCP").to_owned(),
                ),
            ];
        }
    }
    Vec::new()
}

/// Targets for the container ports of `p` that no endpoint port covered.
fn uncovered_ports(group: &Pairs, p: &Pod, covered: &[i32]) -> Vec<Pairs> {
    let mut out = Vec::new();
    for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
        for cp in c
            .ports
            .iter()
            .flatten()
            .filter(|cp| !covered.contains(&cp.container_port))
        {
            let mut t = group.clone();
            t.extend(port_target(pod_ip(p), cp));
            t.push(meta("pod_container_name", c.name.clone()));
            t.push(meta(
                "pod_container_image",
                c.image.clone().unwrap_or_default(),
            ));
            t.extend(pod_labels(p, pod_ip(p)));
            out.push(t);
        }
    }
    out
}

/// `<prefix>_<name>` and `<prefix>present_<name>` for every key of `map`.
fn present(out: &mut Pairs, prefix: &str, map: &Option<BTreeMap<String, String>>) {
    for (k, v) in map.iter().flatten() {
        let name = sanitize(k);
        out.push(meta(&format!("{prefix}_{name}"), v.clone()));
        out.push(meta(&format!("{prefix}present_{name}"), "true".into()));
    }
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
