use super::*;
use crate::agent::kube::meta::tests_support::checkout_pod;
use crate::agent::kube::meta::AnnotationFilter;
use std::time::{Duration, Instant};

fn meta(uid: &str, name: &str) -> PodMeta {
    let mut pod = checkout_pod();
    pod.metadata.uid = Some(uid.into());
    pod.metadata.name = Some(name.into());
    PodMeta::from_pod(&pod, &AnnotationFilter::default()).expect("meta")
}

#[test]
fn lookups_by_uid_name_and_container_id() {
    let mut pods = Tracked::new(Duration::from_secs(60));
    pods.apply("u1", meta("u1", "web-0"));
    let cache = PodCache::default();
    let g0 = cache.generation();
    cache.publish(Snapshot::build(&pods, &Tracked::new(Duration::ZERO)));
    assert_ne!(cache.generation(), g0);
    let s = cache.snapshot();
    assert_eq!(&*s.by_uid("u1").expect("uid").meta.name, "web-0");
    assert_eq!(&*s.by_name("shop", "web-0").expect("name").meta.uid, "u1");
    assert!(s.by_name("shop", "web-1").is_none());
    let id = "8d3f0a2b4c6e8f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a";
    let (pod, c) = s.by_container_id(id).expect("by id");
    assert_eq!((&*pod.meta.uid, &*c.name), ("u1", "app"));
    let full = format!("containerd://{id}");
    assert_eq!(&*s.by_container_id(&full).expect("by ref").1.name, "app");
}

#[test]
fn name_prefers_the_live_pod_over_a_tombstone() {
    let now = Instant::now();
    let mut pods = Tracked::new(Duration::from_secs(60));
    pods.apply("old", meta("old", "web-0"));
    pods.delete("old", meta("old", "web-0"), now);
    let s = Snapshot::build(&pods, &Tracked::new(Duration::ZERO));
    let p = s.by_name("shop", "web-0").expect("tombstone by name");
    assert!(p.deleted);
    pods.apply("new", meta("new", "web-0"));
    pods.delete("old", meta("old", "web-0"), now); // a late delete
    let s = Snapshot::build(&pods, &Tracked::new(Duration::ZERO));
    let p = s.by_name("shop", "web-0").expect("live by name");
    assert_eq!((&*p.meta.uid, p.deleted), ("new", false));
    assert!(s.by_uid("old").expect("old by uid").deleted);
    assert_eq!(s.live_pods().count(), 1);
    assert_eq!(s.pods().count(), 2);
}
