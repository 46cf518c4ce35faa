use super::*;
use serde_json::json;

fn backing_pod() -> Pod {
    let mut v: serde_json::Value = serde_json::from_str(include_str!(
        "../../../agent/kube/testdata/pod_checkout.json"
    ))
    .unwrap();
    v["spec"]["containers"][0]["ports"] = json!([{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]);
    serde_json::from_value(v).unwrap()
}

fn endpoints() -> Endpoints {
    serde_json::from_value(json!({
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app.kubernetes.io/name": "checkout"}},
        "subsets": [{
            "addresses": [{"ip": "10.244.1.23", "nodeName": "node-1",
                "targetRef": {"kind": "Pod", "name": "checkout-7d9f8b6c5d-x2x9q", "namespace": "shop"}}],
            "notReadyAddresses": [{"ip": "10.244.2.9", "hostname": "h2"}],
            "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]
        }]
    }))
    .unwrap()
}

fn service() -> Service {
    serde_json::from_value(json!({"metadata": {"name": "checkout", "namespace": "shop",
        "annotations": {"prometheus.io/scrape": "true"}}}))
    .unwrap()
}

fn get<'a>(t: &'a Pairs, name: &str) -> Option<&'a str> {
    t.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn addresses_times_ports_with_service_pod_and_container_labels_then_uncovered_pod_ports() {
    let pod = backing_pod();
    let svc = service();
    let got = targets(&endpoints(), Some(&svc), |ns, name| {
        (ns == "shop" && name == "checkout-7d9f8b6c5d-x2x9q").then_some(&pod)
    });
    let addresses: Vec<&str> = got.iter().map(|t| get(t, "__address__").unwrap()).collect();
    assert_eq!(
        addresses,
        ["10.244.1.23:8080", "10.244.2.9:8080", "10.244.1.23:9090"]
    );
    let (ready, not_ready, extra) = (&got[0], &got[1], &got[2]);
    for t in [ready, not_ready, extra] {
        assert_eq!(get(t, "__meta_kubernetes_namespace"), Some("shop"));
        assert_eq!(get(t, "__meta_kubernetes_endpoints_name"), Some("checkout"));
        assert_eq!(get(t, "__meta_kubernetes_service_name"), Some("checkout"));
        assert_eq!(
            get(
                t,
                "__meta_kubernetes_service_annotation_prometheus_io_scrape"
            ),
            Some("true")
        );
        assert_eq!(
            get(
                t,
                "__meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_name"
            ),
            Some("true")
        );
    }
    assert_eq!(get(ready, "__meta_kubernetes_endpoint_ready"), Some("true"));
    assert_eq!(
        get(ready, "__meta_kubernetes_endpoint_port_name"),
        Some("web")
    );
    assert_eq!(
        get(ready, "__meta_kubernetes_endpoint_address_target_kind"),
        Some("Pod")
    );
    assert_eq!(
        get(ready, "__meta_kubernetes_endpoint_node_name"),
        Some("node-1")
    );
    assert_eq!(
        get(ready, "__meta_kubernetes_pod_name"),
        Some("checkout-7d9f8b6c5d-x2x9q")
    );
    assert_eq!(
        get(ready, "__meta_kubernetes_pod_container_name"),
        Some("app")
    );
    assert_eq!(
        get(ready, "__meta_kubernetes_pod_container_port_name"),
        Some("http")
    );
    assert_eq!(
        get(not_ready, "__meta_kubernetes_endpoint_ready"),
        Some("false")
    );
    assert_eq!(
        get(not_ready, "__meta_kubernetes_endpoint_hostname"),
        Some("h2")
    );
    assert_eq!(
        get(not_ready, "__meta_kubernetes_pod_name"),
        None,
        "no pod behind it"
    );
    assert_eq!(
        get(extra, "__meta_kubernetes_pod_container_port_name"),
        Some("metrics")
    );
    assert_eq!(get(extra, "__meta_kubernetes_endpoint_port_name"), None);
}

#[test]
fn without_a_service_or_pods_only_the_endpoint_labels() {
    let got = targets(&endpoints(), None, |_, _| None);
    assert_eq!(got.len(), 2);
    assert_eq!(get(&got[0], "__meta_kubernetes_service_name"), None);
    assert_eq!(get(&got[0], "__meta_kubernetes_pod_name"), None);
}
