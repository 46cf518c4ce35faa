use super::*;

pub(crate) fn checkout_pod() -> Pod {
    serde_json::from_str(include_str!("testdata/pod_checkout.json")).expect("pod fixture")
}

#[test]
fn keeps_what_enrichment_and_ksm_read() {
    let filter = AnnotationFilter::default();
    let m = PodMeta::from_pod(&checkout_pod(), &filter).expect("meta");
    assert_eq!(&*m.uid, "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b");
    assert_eq!(
        (&*m.namespace, &*m.name),
        ("shop", "checkout-7d9f8b6c5d-x2x9q")
    );
    assert_eq!(lookup(&m.labels, "app"), Some("checkout"));
    // restartedAt is not kept, the nodepulse.io annotation is.
    assert_eq!(m.annotations.len(), 1);
    assert_eq!(
        lookup(&m.annotations, "nodepulse.io/exclude-containers"),
        Some("proxy")
    );
    assert_eq!(
        (&*m.workload.kind, &*m.workload.name),
        ("Deployment", "checkout")
    );
    assert_eq!(
        (&*m.node, &*m.pod_ip, &*m.host_ip),
        ("node-1", "10.244.1.23", "10.0.0.11")
    );
    assert_eq!((&*m.phase, m.ready.as_deref()), ("Running", Some("False")));
    assert_eq!(m.start_time, Some(1_796_500_862.0)); // 2026-12-05T20:01:02Z
    assert_eq!(&*m.priority_class, "high");
    let app = &m.containers[0];
    assert_eq!((&*app.name, app.init), ("app", false));
    assert_eq!(
        &*app.requests,
        &[("cpu".into(), 0.25), ("memory".into(), 268_435_456.0)]
    );
    assert_eq!(
        &*app.limits,
        &[("cpu".into(), 1.0), ("memory".into(), 536_870_912.0)]
    );
    let s = app.status.as_ref().expect("status");
    assert_eq!(s.restart_count, 5);
    assert_eq!(
        s.state,
        State::Waiting {
            reason: "CrashLoopBackOff".into()
        }
    );
    assert_eq!(s.last_terminated_reason.as_deref(), Some("OOMKilled"));
    assert_eq!(runtime_id(&s.container_id).len(), 64);
    let proxy = m.containers[1].status.as_ref().expect("status");
    assert_eq!((proxy.state.clone(), proxy.ready), (State::Running, true));
    assert_eq!(&*proxy.image, "docker.io/envoyproxy/envoy:v1.31.0");
}

#[test]
fn annotation_filter_keeps_listed_keys() {
    let filter = AnnotationFilter {
        keys: vec!["kubectl.kubernetes.io/restartedAt".into()],
    };
    let m = PodMeta::from_pod(&checkout_pod(), &filter).expect("meta");
    assert_eq!(m.annotations.len(), 2);
}

#[test]
fn sparse_pods_do_not_panic() {
    let bare: Pod = serde_json::from_str(r#"{"metadata":{"name":"a","namespace":"b","uid":"u"}}"#)
        .expect("pod");
    let m = PodMeta::from_pod(&bare, &AnnotationFilter::default()).expect("meta");
    assert!(m.containers.is_empty());
    assert_eq!((&*m.phase, m.ready.clone(), m.start_time), ("", None, None));
    assert_eq!((&*m.workload.kind, &*m.workload.name), ("Pod", "a"));
    let no_uid: Pod = serde_json::from_str(r#"{"metadata":{"name":"a"}}"#).expect("pod");
    assert!(PodMeta::from_pod(&no_uid, &AnnotationFilter::default()).is_none());
    let bad: Pod = serde_json::from_str(
        r#"{"metadata":{"name":"a","namespace":"b","uid":"u"},
            "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}}"#,
    )
    .expect("pod");
    let m = PodMeta::from_pod(&bad, &AnnotationFilter::default()).expect("meta");
    assert!(m.containers[0].requests.is_empty());
    assert!(m.containers[0].status.is_none());
}
