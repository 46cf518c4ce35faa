//! The pod cache when things go wrong or stay quiet, against the fake API server: the
//! API server down at start, HTTP errors on the watch, exclusion annotations, namespace
//! label changes, and a request log with only lists and watches (no per-pod GET).

mod common;

use common::fake_api::{wait_for, FakeApi, NAMESPACES, PODS};
use common::kube_cache::{live, start_cache, three_pods, wait_cache, GRACE};
use common::pods::{self, namespace, pod, uid, NODE};
use nodepulse::agent::config::KubeApi;
use nodepulse::agent::kube::{
    client, exclude, FixedBackoff, Kube, KubeSettings, Resource, Snapshot,
};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_down_at_start_then_up() {
    let port = common::free_port(); // nothing listens there yet: connection refused
    let url = KubeApi::Url(format!("http://127.0.0.1:{port}"));
    let client = client::client(&url, None)
        .await
        .expect("client")
        .expect("a client");
    let mut settings = KubeSettings::new(NODE);
    settings.backoff = Arc::new(|| Box::new(FixedBackoff(Duration::from_millis(50))));
    let kube = Kube::start(client, settings);
    wait_for(
        || kube.status().watch_errors(Resource::Pods) >= 2,
        "failed lists",
    )
    .await;
    assert!(!kube.status().up());
    assert_eq!(
        kube.status().relists(Resource::Pods),
        0,
        "no list completed"
    );
    assert_eq!(live(&kube.cache().snapshot()), 0);
    let mut families = Vec::new();
    kube.metrics().collect(&mut families);
    let up = families
        .iter()
        .find(|f| f.name == "nodepulse_kube_api_up")
        .expect("api_up");
    assert_eq!(up.samples[0].value, 0.0);
    let api = FakeApi::start_on(port).await;
    api.set_items(PODS, vec![pod("shop", "web-1", &uid(1), NODE)]);
    wait_cache(&kube, "pods once up", |s| live(s) == 1).await;
    assert!(kube.status().up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusion_annotations_reach_the_helpers() {
    let api = three_pods().await;
    let excluded = pods::with_annotation(
        pod("shop", "noisy", &uid(10), NODE),
        exclude::EXCLUDE,
        "true",
    );
    let sidecar = pod("shop", "web-9", &uid(9), NODE); // the fixture excludes "proxy"
    let quiet = pod("quiet", "q", &uid(11), NODE);
    api.set_items(PODS, vec![excluded, sidecar, quiet]);
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods", |s| {
        live(s) == 3 && s.namespace("quiet").is_some()
    })
    .await;
    let s = kube.cache().snapshot();
    let get = |ns: &str, name: &str| s.by_name(ns, name).expect(name).meta.clone();
    let (noisy, web9, q) = (
        get("shop", "noisy"),
        get("shop", "web-9"),
        get("quiet", "q"),
    );
    assert!(exclude::pod_excluded(&noisy, s.namespace("shop")));
    assert!(!exclude::pod_excluded(&web9, s.namespace("shop")));
    assert!(exclude::container_excluded(
        &web9,
        s.namespace("shop"),
        "proxy"
    ));
    assert!(!exclude::container_excluded(
        &web9,
        s.namespace("shop"),
        "app"
    ));
    assert!(
        exclude::pod_excluded(&q, s.namespace("quiet")),
        "namespace annotation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_is_one_list_and_one_watch_per_resource() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods", |s| live(s) == 3).await;
    api.wait_watches(PODS, 1).await;
    api.wait_watches(NAMESPACES, 1).await;
    for i in 20..40 {
        api.event(
            PODS,
            "ADDED",
            pod("shop", &format!("churn-{i}"), &uid(i), NODE),
        );
    }
    api.event(PODS, "DELETED", pod("shop", "churn-20", &uid(20), NODE));
    wait_cache(&kube, "churn applied", |s| live(s) == 22).await;
    let log = api.requests();
    assert!(
        log.iter()
            .all(|r| r.method == "GET" && r.resource().is_some()),
        "only list/watch: {log:?}"
    );
    assert_eq!(
        (api.count(PODS, false), api.count(PODS, true)),
        (1, 1),
        "{log:?}"
    );
    assert_eq!(
        (api.count(NAMESPACES, false), api.count(NAMESPACES, true)),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_on_watch_are_retried_from_the_same_version_without_relist() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods", |s| live(s) == 3).await;
    api.wait_watches(PODS, 1).await;
    api.fail_watches(500, 3);
    api.close_watches(PODS);
    // Three failed re-watches, then one that holds.
    wait_for(|| api.count(PODS, true) >= 5, "re-watches").await;
    let log = api.requests();
    let rvs: Vec<_> = log
        .iter()
        .filter(|r| r.resource() == Some(PODS) && r.is_watch())
        .map(|r| r.param("resourceVersion").map(str::to_owned))
        .collect();
    assert!(
        rvs.windows(2).all(|w| w[0] == w[1]),
        "same resourceVersion: {rvs:?}"
    );
    assert_eq!(api.count(PODS, false), 1, "no relist");
    assert!(kube.status().watch_errors(Resource::Pods) >= 3);
    assert!(kube.status().up(), "an error status is an answer");
    // The cache still follows the stream afterwards.
    api.wait_watches(PODS, 5).await;
    api.event(PODS, "DELETED", pod("shop", "web-1", &uid(1), NODE));
    wait_cache(&kube, "web-1 deleted", |s| {
        s.by_uid(&uid(1)).is_some_and(|p| p.deleted)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_label_changes_reach_the_cache() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "namespaces", |s| s.namespace("shop").is_some()).await;
    api.wait_watches(NAMESPACES, 1).await;
    let team = |s: &Snapshot| {
        let ns = s.namespace("shop")?;
        nodepulse::agent::kube::meta::lookup(&ns.labels, "team").map(str::to_owned)
    };
    api.event(
        NAMESPACES,
        "MODIFIED",
        namespace("shop", &[("team", "checkout")], &[]),
    );
    wait_cache(&kube, "relabelled namespace", |s| {
        team(s).as_deref() == Some("checkout")
    })
    .await;
}
