//! Real-shaped Pod and Namespace JSON for the fake API server, built from the full pod
//! of `src/agent/kube/testdata/pod_checkout.json` (a Deployment's pod, one container
//! crash-looping after an OOM kill, a running sidecar).

use serde_json::{json, Value};

pub const NODE: &str = "node-1";

/// The checkout pod renamed `name` with uid `uid`, in `namespace`, on `node`; container
/// ids are derived from the uid so that every pod's are distinct.
pub fn pod(namespace: &str, name: &str, uid: &str, node: &str) -> Value {
    let mut p: Value = serde_json::from_str(include_str!(
        "../../src/agent/kube/testdata/pod_checkout.json"
    ))
    .expect("pod fixture");
    p["metadata"]["name"] = json!(name);
    p["metadata"]["namespace"] = json!(namespace);
    p["metadata"]["uid"] = json!(uid);
    p["spec"]["nodeName"] = json!(node);
    for (i, status) in p["status"]["containerStatuses"]
        .as_array_mut()
        .expect("statuses")
        .iter_mut()
        .enumerate()
    {
        status["containerID"] = json!(format!("containerd://{}", container_id(uid, i)));
    }
    p
}

/// A 64-hex runtime id for container `index` of pod `uid`.
pub fn container_id(uid: &str, index: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ index as u64;
    for b in uid.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

/// A uid shaped like Kubernetes' (8-4-4-4-12 hex) from a number.
pub fn uid(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

pub fn with_label(mut pod: Value, key: &str, value: &str) -> Value {
    pod["metadata"]["labels"][key] = json!(value);
    pod
}

pub fn with_annotation(mut pod: Value, key: &str, value: &str) -> Value {
    pod["metadata"]["annotations"][key] = json!(value);
    pod
}

/// A namespace as the API server lists it (the `kubernetes.io/metadata.name` label set).
pub fn namespace(name: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Value {
    let mut l = serde_json::Map::new();
    l.insert("kubernetes.io/metadata.name".into(), json!(name));
    for (k, v) in labels {
        l.insert((*k).into(), json!(v));
    }
    let a: serde_json::Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| ((*k).into(), json!(v)))
        .collect();
    json!({"metadata": {"name": name, "uid": format!("ns-{name}"), "labels": l,
        "annotations": a, "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

/// [`pod`] with a third container (`logger`, running, BestEffort), for the 110 pods ×
/// 3 containers budget cases.
pub fn pod3(namespace: &str, name: &str, uid: &str, node: &str) -> Value {
    let mut p = pod(namespace, name, uid, node);
    let spec = json!({"name": "logger", "image": "fluent/fluent-bit:3.1"});
    p["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(spec);
    let status = json!({"name": "logger", "ready": true, "started": true, "restartCount": 1,
        "image": "docker.io/fluent/fluent-bit:3.1",
        "imageID": "docker.io/fluent/fluent-bit@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "containerID": format!("containerd://{}", container_id(uid, 2)),
        "state": {"running": {"startedAt": "2026-12-05T20:01:05Z"}}, "lastState": {}});
    p["status"]["containerStatuses"]
        .as_array_mut()
        .expect("statuses")
        .push(status);
    p
}

/// `n` pods of [`pod3`] on [`NODE`] across 10 namespaces `ns-0`..`ns-9`.
pub fn node_full_of_pods(n: u32) -> Vec<Value> {
    (0..n)
        .map(|i| {
            pod3(
                &format!("ns-{}", i % 10),
                &format!("app-{i}"),
                &uid(1000 + i),
                NODE,
            )
        })
        .collect()
}
