//! The enricher over a published cache: stream labels, metadata, exclusion, the
//! generation, and the `--kube.stream-labels` syntax.

use super::*;
use crate::agent::kube::cache::Snapshot;
use crate::agent::kube::meta::{AnnotationFilter, NamespaceMeta, PodMeta};

const UID: &str = "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b";

fn checkout() -> PodMeta {
    let pod = serde_json::from_str(include_str!("testdata/pod_checkout.json")).expect("pod");
    let keep = AnnotationFilter {
        keys: vec!["kubectl.kubernetes.io/restartedAt".into()],
    };
    PodMeta::from_pod(&pod, &keep).expect("meta")
}

fn shop(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> NamespaceMeta {
    let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    NamespaceMeta {
        name: "shop".into(),
        labels: pairs(labels),
        annotations: pairs(annotations),
    }
}

fn enricher(ns: NamespaceMeta) -> KubeEnricher {
    let cache = Arc::new(PodCache::default());
    cache.publish(Snapshot::from_metas([checkout()], [ns]));
    KubeEnricher {
        cache,
        stream_labels: parse_stream_labels(DEFAULT_STREAM_LABELS).unwrap(),
    }
}

#[test]
fn a_known_pod_gives_its_app_label_workload_labels_and_namespace_labels() {
    let e = enricher(shop(&[("team", "payments")], &[]));
    let got = e.enrich(UID, "app").expect("the pod is cached");
    assert!(!got.excluded);
    assert_eq!(got.labels, [("app".to_owned(), "checkout".to_owned())]);
    let has = |k: &str, v: &str| got.metadata.iter().any(|(a, b)| a == k && b == v);
    assert!(has("workload_kind", "Deployment"), "{:?}", got.metadata);
    assert!(has("workload_name", "checkout"));
    assert!(has("pod_label_app", "checkout"));
    assert!(has("pod_label_pod-template-hash", "7d9f8b6c5d"));
    assert!(has(
        "pod_annotation_kubectl.kubernetes.io/restartedAt",
        "2026-12-05T20:00:00Z"
    ));
    assert!(has("namespace_label_team", "payments"));
    assert!(e.generation() > 0);
}

#[test]
fn exclusion_by_container_pod_and_namespace_annotation() {
    let e = enricher(shop(&[], &[]));
    assert!(
        e.enrich(UID, "proxy").unwrap().excluded,
        "exclude-containers: proxy"
    );
    assert!(!e.enrich(UID, "app").unwrap().excluded);
    let e = enricher(shop(&[], &[("nodepulse.io/exclude", "true")]));
    assert!(
        e.enrich(UID, "app").unwrap().excluded,
        "the namespace is excluded"
    );
}

#[test]
fn an_unknown_pod_is_left_to_its_path() {
    let e = enricher(shop(&[], &[]));
    assert_eq!(e.enrich("no-such-uid", "app"), None);
}

#[test]
fn stream_label_specs() {
    let got =
        parse_stream_labels("app=app.kubernetes.io/name|app, tier ,app.kubernetes.io/part-of")
            .unwrap();
    let want = [
        ("app", vec!["app.kubernetes.io/name", "app"]),
        ("tier", vec!["tier"]),
        (
            "app_kubernetes_io_part_of",
            vec!["app.kubernetes.io/part-of"],
        ),
    ];
    assert_eq!(got.len(), want.len());
    for (g, (name, keys)) in got.iter().zip(want) {
        assert_eq!(g.name, name);
        assert_eq!(g.keys, keys);
    }
    assert_eq!(parse_stream_labels("").unwrap(), []);
    for bad in ["pod=app", "a=b,a=c", "1x=app", "x=", "x=a||b", "bad-name=a"] {
        assert!(parse_stream_labels(bad).is_err(), "{bad}");
    }
}
