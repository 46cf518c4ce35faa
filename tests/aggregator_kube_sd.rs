//! The aggregator's Kubernetes discovery through the fake API server (real HTTP,
//! real-shaped list/watch JSON): role pod with the `prometheus.io/*` annotation rules,
//! and role endpoints (Endpoints, Services, Pods), each scraping a scripted target.

mod common;

use common::fake_api::{wait_for, FakeApi, ENDPOINTS, PODS, SERVICES};
use common::pods::{pod, uid, with_annotation};
use common::scrape_target::{ok, series, serve};
use nodepulse::aggregator::model::{is_stale, MemStore};
use nodepulse::aggregator::scrape::config::Config;
use nodepulse::aggregator::scrape::Manager;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// The `prometheus.io/*` annotation convention as relabel rules (as in the README).
const ANNOTATION_RULES: &str = r#"
    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true"}
      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], target_label: __metrics_path__, regex: (.+)}
      - {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], target_label: __address__, regex: '([^:]+)(?::\d+)?;(\d+)', replacement: '$1:$2'}
      - {action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}
      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_discovered_through_the_api_server_are_scraped_by_annotation_and_dropped_when_deleted()
{
    let answer = Arc::new(Mutex::new(ok("app_requests_total 7\n")));
    let port = serve(answer).await;
    let api = FakeApi::start().await;
    let annotated = |p: serde_json::Value, path: &str| {
        let mut p = with_annotation(
            with_annotation(p, "prometheus.io/scrape", "true"),
            "prometheus.io/port",
            &port.to_string(),
        );
        p = with_annotation(p, "prometheus.io/path", path);
        p["status"]["podIP"] = json!("127.0.0.1");
        p
    };
    let scraped = annotated(pod("shop", "checkout-a", &uid(1), "node-1"), "/metrics");
    let mut ignored = pod("shop", "checkout-b", &uid(2), "node-1");
    ignored["status"]["podIP"] = json!("127.0.0.1");
    api.set_items(PODS, vec![scraped.clone(), ignored]);
    let yaml = format!(
        "scrape_configs:\n  - job_name: pods\n    scrape_interval: 200ms\n    kubernetes_sd_configs: [{{role: pod, api_server: '{}'}}]\n{ANNOTATION_RULES}",
        api.url()
    );
    let store = Arc::new(MemStore::new());
    let manager = Manager::start(&Config::parse(&yaml).unwrap(), store.clone());
    let s = store.clone();
    wait_for(
        move || !series(&s, "app_requests_total").is_empty(),
        "a discovered pod scraped",
    )
    .await;
    let got = &series(&store, "app_requests_total")[0].labels;
    let instance = format!("127.0.0.1:{port}");
    assert_eq!(
        (got.get("instance"), got.get("job")),
        (Some(instance.as_str()), Some("pods"))
    );
    assert_eq!(
        (got.get("namespace"), got.get("pod"), got.get("app")),
        (Some("shop"), Some("checkout-a"), Some("checkout"))
    );
    let targets = manager.targets().await;
    assert_eq!(
        targets.len(),
        1,
        "one target: the annotated pod, its two containers' targets deduplicated"
    );

    api.event(PODS, "DELETED", scraped);
    let s = store.clone();
    wait_for(
        move || {
            is_stale(
                series(&s, "app_requests_total")[0]
                    .samples
                    .last()
                    .unwrap()
                    .v,
            )
        },
        "the deleted pod's series stale",
    )
    .await;
    assert!(manager.targets().await.is_empty());
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_discovered_with_their_service_and_pod() {
    let port = serve(Arc::new(Mutex::new(ok("svc_up 1\n")))).await;
    let api = FakeApi::start().await;
    let mut p = pod("shop", "checkout-a", &uid(1), "node-1");
    p["status"]["podIP"] = json!("127.0.0.1");
    p["spec"]["containers"][0]["ports"] = json!([{"name": "http", "containerPort": port}]);
    let ep = json!({"metadata": {"name": "checkout", "namespace": "shop", "uid": uid(7)},
        "subsets": [{"addresses": [{"ip": "127.0.0.1", "targetRef": {"kind": "Pod", "name": "checkout-a", "namespace": "shop"}}],
                     "ports": [{"name": "web", "port": port, "protocol": "TCP"}]}]});
    let svc = json!({"metadata": {"name": "checkout", "namespace": "shop", "uid": uid(8),
        "labels": {"tier": "front"}}, "spec": {}});
    api.set_items(PODS, vec![p]);
    api.set_items(ENDPOINTS, vec![ep.clone()]);
    api.set_items(SERVICES, vec![svc]);
    let yaml = format!(
        "scrape_configs:\n  - job_name: svc\n    scrape_interval: 200ms\n    kubernetes_sd_configs: [{{role: endpoints, api_server: '{}'}}]\n    relabel_configs:\n      - {{source_labels: [__meta_kubernetes_service_label_tier], target_label: tier}}\n      - {{source_labels: [__meta_kubernetes_pod_container_name], target_label: container}}\n      - {{source_labels: [__meta_kubernetes_endpoint_port_name], target_label: port}}\n",
        api.url()
    );
    let store = Arc::new(MemStore::new());
    let manager = Manager::start(&Config::parse(&yaml).unwrap(), store.clone());
    let s = store.clone();
    wait_for(
        move || !series(&s, "svc_up").is_empty(),
        "the endpoint scraped",
    )
    .await;
    let got = series(&store, "svc_up")[0].labels.clone();
    assert_eq!(
        (got.get("tier"), got.get("container"), got.get("port")),
        (Some("front"), Some("app"), Some("web"))
    );
    api.event(ENDPOINTS, "DELETED", ep);
    let s = store.clone();
    wait_for(
        move || is_stale(series(&s, "svc_up")[0].samples.last().unwrap().v),
        "the endpoint's series stale",
    )
    .await;
    manager.stop().await;
}

/// A reload that changes a discovered job hands its loops over: the new job's loop for
/// a pod still discovered goes on without a staleness marker, even though the new
/// discovery has to list the pods again first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_job_keeps_its_discovered_targets_series_unbroken() {
    let port = serve(Arc::new(Mutex::new(ok("app_requests_total 7\n")))).await;
    let api = FakeApi::start().await;
    let mut p = with_annotation(
        pod("shop", "checkout-a", &uid(1), "node-1"),
        "prometheus.io/scrape",
        "true",
    );
    p = with_annotation(p, "prometheus.io/port", &port.to_string());
    p["status"]["podIP"] = json!("127.0.0.1");
    api.set_items(PODS, vec![p]);
    let yaml = |interval: &str| {
        format!(
            "scrape_configs:\n  - job_name: pods\n    scrape_interval: {interval}\n    kubernetes_sd_configs: [{{role: pod, api_server: '{}'}}]\n{ANNOTATION_RULES}",
            api.url()
        )
    };
    let store = Arc::new(MemStore::new());
    let manager = Manager::start(&Config::parse(&yaml("100ms")).unwrap(), store.clone());
    let count = |s: &MemStore| {
        series(s, "app_requests_total")
            .first()
            .map_or(0, |x| x.samples.len())
    };
    let s = store.clone();
    wait_for(move || count(&s) >= 2, "the discovered pod scraped").await;

    let applied = manager.apply(&Config::parse(&yaml("150ms")).unwrap()).await;
    assert_eq!(applied.restarted, ["pods"]);
    let (s, n) = (store.clone(), count(&store));
    wait_for(move || count(&s) >= n + 3, "scraped again after the reload").await;
    let samples = &series(&store, "app_requests_total")[0].samples;
    assert!(
        !samples.iter().any(|x| is_stale(x.v)),
        "marked stale across the reload: {samples:?}"
    );
    assert_eq!(manager.targets().await.len(), 1);
    manager.stop().await;
}
