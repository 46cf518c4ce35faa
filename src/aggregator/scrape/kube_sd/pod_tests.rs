use super::*;
use serde_json::json;

fn pod() -> Pod {
    let mut v: serde_json::Value = serde_json::from_str(include_str!(
        "../../../agent/kube/testdata/pod_checkout.json"
    ))
    .unwrap();
    v["spec"]["containers"][0]["ports"] = json!([
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"containerPort": 9090}
    ]);
    v["spec"]["initContainers"] = json!([{"name": "migrate", "image": "acme/migrate:1"}]);
    v["metadata"]["annotations"]["prometheus.io/scrape"] = json!("true");
    serde_json::from_value(v).unwrap()
}

fn get<'a>(t: &'a Pairs, name: &str) -> Option<&'a str> {
    t.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn one_target_per_port_one_per_portless_container_init_included() {
    let targets = targets(&pod());
    let addresses: Vec<(&str, &str, Option<&str>)> = targets
        .iter()
        .map(|t| {
            (
                get(t, "__address__").unwrap(),
                get(t, "__meta_kubernetes_pod_container_name").unwrap(),
                get(t, "__meta_kubernetes_pod_container_port_name"),
            )
        })
        .collect();
    assert_eq!(
        addresses,
        [
            ("10.244.1.23:8080", "app", Some("http")),
            ("10.244.1.23:9090", "app", Some("")),
            ("10.244.1.23", "proxy", None),
            ("10.244.1.23", "migrate", None),
        ]
    );
    let t = &targets[1];
    assert_eq!(
        get(t, "__meta_kubernetes_pod_container_port_protocol"),
        Some("TCP"),
        "the API's default"
    );
    assert_eq!(
        get(t, "__meta_kubernetes_pod_container_port_number"),
        Some("9090")
    );
    assert_eq!(
        get(&targets[3], "__meta_kubernetes_pod_container_init"),
        Some("true")
    );
    assert_eq!(
        get(&targets[3], "__meta_kubernetes_pod_container_id"),
        Some("")
    );
}

#[test]
fn pod_meta_labels_as_prometheus_names_them() {
    let t = &targets(&pod())[0];
    let want = [
        ("__meta_kubernetes_namespace", "shop"),
        ("__meta_kubernetes_pod_name", "checkout-7d9f8b6c5d-x2x9q"),
        ("__meta_kubernetes_pod_ip", "10.244.1.23"),
        ("__meta_kubernetes_pod_ready", "false"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-1"),
        ("__meta_kubernetes_pod_host_ip", "10.0.0.11"),
        (
            "__meta_kubernetes_pod_uid",
            "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b",
        ),
        ("__meta_kubernetes_pod_label_app", "checkout"),
        (
            "__meta_kubernetes_pod_labelpresent_pod_template_hash",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_nodepulse_io_exclude_containers",
            "true",
        ),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        (
            "__meta_kubernetes_pod_controller_name",
            "checkout-7d9f8b6c5d",
        ),
        (
            "__meta_kubernetes_pod_container_image",
            "ghcr.io/acme/checkout:1.4.2",
        ),
        (
            "__meta_kubernetes_pod_container_id",
            "containerd://8d3f0a2b4c6e8f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a",
        ),
        ("__meta_kubernetes_pod_container_init", "false"),
    ];
    for (name, value) in want {
        assert_eq!(get(t, name), Some(value), "{name}");
    }
}

#[test]
fn a_pod_without_an_ip_has_no_targets_and_ipv6_is_bracketed() {
    let mut p = pod();
    p.status.as_mut().unwrap().pod_ip = None;
    assert!(targets(&p).is_empty());
    p.status.as_mut().unwrap().pod_ip = Some("fd00::5".into());
    assert_eq!(get(&targets(&p)[0], "__address__"), Some("[fd00::5]:8080"));
    assert_eq!(sanitize("app.kubernetes.io/name"), "app_kubernetes_io_name");
}
