//! The pod cache against a fake Kubernetes API server over real HTTP: initial list from
//! the API server cache with the node's field selector, watch ADDED / MODIFIED / DELETED
//! (lines split across chunks), the grace period after a delete, the uid check on a late
//! delete, BOOKMARK, and an in-stream 410 forcing a relist.

mod common;

use common::fake_api::{wait_for, FakeApi, NAMESPACES, PODS};
use common::kube_cache::{live, start_cache, three_pods, wait_cache, GRACE};
use common::pods::{self, container_id, pod, uid, NODE};
use nodepulse::agent::kube::{Resource, Snapshot};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_list_comes_from_the_api_server_cache_with_the_node_selector() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods and 2 namespaces", |s| {
        live(s) == 3 && s.namespace("quiet").is_some()
    })
    .await;
    let s = kube.cache().snapshot();
    assert!(
        s.by_name("shop", "elsewhere").is_none(),
        "a pod of another node"
    );
    let web1 = s.by_name("shop", "web-1").expect("web-1");
    assert_eq!(&*web1.meta.uid, uid(1));
    let (p, c) = s
        .by_container_id(&container_id(&uid(2), 1))
        .expect("by container id");
    assert_eq!((&*p.meta.name, &*c.name), ("web-2", "proxy"));
    assert_eq!(
        s.namespace("shop")
            .and_then(|n| nodepulse::agent::kube::meta::lookup(&n.labels, "team")),
        Some("payments")
    );
    api.wait_watches(PODS, 1).await;
    let log = api.requests();
    let list = log
        .iter()
        .find(|r| r.resource() == Some(PODS))
        .expect("a pod request");
    assert!(!list.is_watch(), "the first pod request is the list");
    assert_eq!(list.param("fieldSelector"), Some("spec.nodeName=node-1"));
    assert_eq!(
        list.param("resourceVersion"),
        Some("0"),
        "served from the watch cache"
    );
    assert_eq!(list.param("resourceVersionMatch"), Some("NotOlderThan"));
    assert_eq!(
        list.param("limit"),
        None,
        "unpaged, or kube-rs drops resourceVersion=0"
    );
    let watch = log
        .iter()
        .find(|r| r.resource() == Some(PODS) && r.is_watch())
        .expect("watch");
    assert_eq!(watch.param("fieldSelector"), Some("spec.nodeName=node-1"));
    assert_eq!(watch.param("allowWatchBookmarks"), Some("true"));
    assert!(watch.param("resourceVersion").is_some_and(|rv| rv != "0"));
    assert!(kube.status().up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_events_split_across_chunks_are_followed() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods", |s| live(s) == 3).await;
    api.wait_watches(PODS, 1).await;
    // ADDED, as one line cut in the middle of a JSON string over two chunks.
    let added = serde_json::json!({"type": "ADDED", "object": with_rv(pod("shop", "web-4", &uid(4), NODE), "500")});
    let line = format!("{added}\n");
    let (a, b) = line.split_at(line.len() / 2);
    api.raw(PODS, a.as_bytes());
    api.raw(PODS, b.as_bytes());
    wait_cache(&kube, "web-4 added", |s| {
        s.by_name("shop", "web-4").is_some()
    })
    .await;
    // MODIFIED: a label changes.
    api.event(
        PODS,
        "MODIFIED",
        pods::with_label(pod("shop", "web-1", &uid(1), NODE), "app", "checkout-v2"),
    );
    wait_cache(&kube, "web-1 relabelled", |s| {
        s.by_uid(&uid(1)).is_some_and(|p| {
            nodepulse::agent::kube::meta::lookup(&p.meta.labels, "app") == Some("checkout-v2")
        })
    })
    .await;
    // DELETED: kept as a tombstone, by uid and by name.
    api.event(PODS, "DELETED", pod("shop", "web-2", &uid(2), NODE));
    wait_cache(&kube, "web-2 deleted", |s| {
        s.by_uid(&uid(2)).is_some_and(|p| p.deleted)
    })
    .await;
    let s = kube.cache().snapshot();
    assert!(s.by_name("shop", "web-2").is_some_and(|p| p.deleted));
    assert_eq!(live(&s), 3);
    // A pod of another node on the stream is filtered by the server's selector.
    api.event(
        PODS,
        "ADDED",
        pod("shop", "elsewhere-2", &uid(98), "node-2"),
    );
    api.event(PODS, "ADDED", pod("shop", "web-5", &uid(5), NODE));
    wait_cache(&kube, "web-5", |s| s.by_name("shop", "web-5").is_some()).await;
    assert!(kube
        .cache()
        .snapshot()
        .by_name("shop", "elsewhere-2")
        .is_none());
    assert_eq!(api.count(PODS, false), 1, "no relist");
}

fn with_rv(mut v: serde_json::Value, rv: &str) -> serde_json::Value {
    v["kind"] = "Pod".into();
    v["apiVersion"] = "v1".into();
    v["metadata"]["resourceVersion"] = rv.into();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pod_stays_for_the_grace_period_then_goes() {
    let grace = Duration::from_millis(300);
    let api = three_pods().await;
    let kube = start_cache(&api, grace).await;
    wait_cache(&kube, "3 pods", |s| live(s) == 3).await;
    api.wait_watches(PODS, 1).await;
    let deleted_at = Instant::now();
    api.event(PODS, "DELETED", pod("shop", "web-3", &uid(3), NODE));
    wait_cache(&kube, "tombstone", |s| {
        s.by_uid(&uid(3)).is_some_and(|p| p.deleted)
    })
    .await;
    wait_cache(&kube, "tombstone swept", |s| s.by_uid(&uid(3)).is_none()).await;
    assert!(
        deleted_at.elapsed() >= grace,
        "swept before the grace period"
    );
    let s = kube.cache().snapshot();
    assert!(s.by_name("shop", "web-3").is_none());
    assert_eq!(live(&s), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_delete_and_relist_never_remove_a_recreated_pod() {
    let api = FakeApi::start().await;
    api.set_items(PODS, vec![pod("db", "pg-0", "uid-a", NODE)]);
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "pg-0 (A)", |s| live(s) == 1).await;
    api.wait_watches(PODS, 1).await;
    api.event(PODS, "DELETED", pod("db", "pg-0", "uid-a", NODE));
    api.event(PODS, "ADDED", pod("db", "pg-0", "uid-b", NODE));
    // A stale DELETED of A, after B exists.
    api.event(PODS, "DELETED", pod("db", "pg-0", "uid-a", NODE));
    api.event(PODS, "ADDED", pod("db", "marker", "uid-m", NODE));
    wait_cache(&kube, "events applied", |s| s.by_uid("uid-m").is_some()).await;
    let check = |s: &Snapshot| {
        let b = s.by_name("db", "pg-0").expect("pg-0 by name");
        assert_eq!((&*b.meta.uid, b.deleted), ("uid-b", false));
        assert!(
            s.by_uid("uid-a")
                .expect("A's last lines are still enriched")
                .deleted
        );
    };
    check(&kube.cache().snapshot());
    // A relist (410) whose list has B (A is long gone): B stays, A stays a tombstone.
    api.expire(PODS);
    wait_for(|| api.count(PODS, false) == 2, "relist").await;
    wait_cache(&kube, "relisted", |_| {
        kube.status().relists(Resource::Pods) == 2
    })
    .await;
    api.wait_watches(PODS, 2).await;
    check(&kube.cache().snapshot());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmark_moves_the_resource_version_without_a_change() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    // Both lists published (pods and namespaces publish separately) and both watches
    // open, so nothing but the bookmark can move the generation from here on.
    wait_cache(&kube, "3 pods and 2 namespaces", |s| {
        live(s) == 3 && s.namespace("quiet").is_some()
    })
    .await;
    api.wait_watches(PODS, 1).await;
    api.wait_watches(NAMESPACES, 1).await;
    let generation = kube.cache().generation();
    let rv = api.bookmark(PODS);
    api.close_watches(PODS); // as at timeoutSeconds: re-watch from the last RV
    api.wait_watches(PODS, 2).await;
    let log = api.requests();
    let rewatch = log
        .iter()
        .filter(|r| r.resource() == Some(PODS) && r.is_watch())
        .nth(1)
        .expect("second watch");
    assert_eq!(rewatch.param("resourceVersion"), Some(rv.as_str()));
    assert_eq!(
        kube.cache().generation(),
        generation,
        "a bookmark publishes nothing"
    );
    assert_eq!(
        api.count(PODS, false),
        1,
        "stream end re-watches, no relist"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_410_forces_a_relist_that_tombstones_missing_pods() {
    let api = three_pods().await;
    let kube = start_cache(&api, GRACE).await;
    wait_cache(&kube, "3 pods", |s| live(s) == 3).await;
    api.wait_watches(PODS, 1).await;
    // While "disconnected", web-1 went and web-7 came; then the watch expires.
    let items = [2, 3].map(|i| pod("shop", &format!("web-{i}"), &uid(i), NODE));
    api.set_items(
        PODS,
        items
            .into_iter()
            .chain([pod("shop", "web-7", &uid(7), NODE)])
            .collect(),
    );
    api.expire(PODS);
    wait_cache(&kube, "relist applied", |s| {
        s.by_name("shop", "web-7").is_some()
    })
    .await;
    let s = kube.cache().snapshot();
    assert!(s.by_uid(&uid(1)).expect("web-1 tombstone").deleted);
    assert_eq!(live(&s), 3);
    assert_eq!(api.count(PODS, false), 2);
    assert_eq!(kube.status().relists(Resource::Pods), 2);
    assert!(
        kube.status().watch_errors(Resource::Pods) >= 1,
        "the 410 is counted"
    );
}
