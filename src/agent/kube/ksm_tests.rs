use super::*;
use crate::agent::kube::meta::tests_support::checkout_pod;
use crate::agent::kube::meta::{AnnotationFilter, NamespaceMeta};
use crate::agent::kube::tracked::Tracked;
use crate::exposition::{encode, normalize, Format};
use std::time::{Duration, Instant};

fn text(pods: &Tracked<PodMeta>) -> String {
    let snapshot = Snapshot::build(pods, &Tracked::<NamespaceMeta>::new(Duration::ZERO));
    let mut families = Vec::new();
    collect(&snapshot, &mut families);
    let (families, dropped) = normalize(families);
    assert_eq!(dropped.duplicate_series, 0);
    let mut body = Vec::new();
    encode(&families, Format::Text, &mut body);
    String::from_utf8(body).expect("utf-8")
}

fn checkout() -> Tracked<PodMeta> {
    let mut pods = Tracked::new(Duration::from_secs(60));
    let mut pod = checkout_pod();
    pod.spec.as_mut().expect("spec").containers[1]
        .resources
        .as_mut()
        .expect("resources")
        .limits = Some(
        [
            ("nvidia.com/gpu", "1"),
            ("ephemeral-storage", "1Gi"),
            ("pods", "3"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity(v.into()),
            )
        })
        .collect(),
    );
    let meta = PodMeta::from_pod(&pod, &AnnotationFilter::default()).expect("meta");
    pods.apply(&meta.uid.clone(), meta);
    pods
}

const POD: &str = r#"namespace="shop",pod="checkout-7d9f8b6c5d-x2x9q",uid="3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b""#;

#[test]
fn checkout_pod_series_match_kube_state_metrics() {
    let body = text(&checkout());
    let expected = [
        "# HELP kube_pod_info Information about pod.\n# TYPE kube_pod_info gauge\n".to_owned(),
        format!(
            r#"kube_pod_info{{{POD},host_ip="10.0.0.11",pod_ip="10.244.1.23",node="node-1",created_by_kind="ReplicaSet",created_by_name="checkout-7d9f8b6c5d",priority_class="high",host_network="false"}} 1"#
        ),
        format!(
            r#"kube_pod_owner{{{POD},owner_kind="ReplicaSet",owner_name="checkout-7d9f8b6c5d",owner_is_controller="true"}} 1"#
        ),
        format!("kube_pod_start_time{{{POD}}} 1796500862"),
        format!(r#"kube_pod_status_phase{{{POD},phase="Pending"}} 0"#),
        format!(r#"kube_pod_status_phase{{{POD},phase="Running"}} 1"#),
        format!(r#"kube_pod_status_ready{{{POD},condition="false"}} 1"#),
        format!(r#"kube_pod_status_ready{{{POD},condition="true"}} 0"#),
        "# TYPE kube_pod_container_status_restarts_total counter".to_owned(),
        format!(r#"kube_pod_container_status_restarts_total{{{POD},container="app"}} 5"#),
        format!(
            r#"kube_pod_container_status_waiting_reason{{{POD},container="app",reason="CrashLoopBackOff"}} 1"#
        ),
        format!(
            r#"kube_pod_container_status_last_terminated_reason{{{POD},container="app",reason="OOMKilled"}} 1"#
        ),
        format!(r#"kube_pod_container_status_running{{{POD},container="proxy"}} 1"#),
        format!(r#"kube_pod_container_status_ready{{{POD},container="app"}} 0"#),
        format!(
            r#"kube_pod_container_info{{{POD},container="proxy",image_spec="envoyproxy/envoy:v1.31.0",image="docker.io/envoyproxy/envoy:v1.31.0",image_id="docker.io/envoyproxy/envoy@sha256:aa11bb22cc33dd44ee55ff6677889900aabbccddeeff00112233445566778899",container_id="containerd://1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"}} 1"#
        ),
        format!(
            r#"kube_pod_container_resource_requests{{{POD},container="app",node="node-1",resource="cpu",unit="core"}} 0.25"#
        ),
        format!(
            r#"kube_pod_container_resource_requests{{{POD},container="app",node="node-1",resource="memory",unit="byte"}} 268435456"#
        ),
        format!(
            r#"kube_pod_container_resource_limits{{{POD},container="app",node="node-1",resource="memory",unit="byte"}} 536870912"#
        ),
        format!(
            r#"kube_pod_container_resource_limits{{{POD},container="proxy",node="node-1",resource="nvidia_com_gpu",unit="integer"}} 1"#
        ),
        format!(
            r#"kube_pod_container_resource_limits{{{POD},container="proxy",node="node-1",resource="ephemeral_storage",unit="byte"}} 1073741824"#
        ),
    ];
    for line in expected {
        assert!(body.contains(&line), "missing {line}\nin\n{body}");
    }
    // Only the waiting container has a waiting_reason; "pods" is no KSM resource.
    assert_eq!(
        body.matches("kube_pod_container_status_waiting_reason{")
            .count(),
        1
    );
    assert!(!body.contains(r#"resource="pods""#));
    assert_eq!(body.matches("kube_pod_status_phase{").count(), 5);
}

#[test]
fn deleted_pods_and_ownerless_pods() {
    let mut pods = checkout();
    pods.delete(
        "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b",
        PodMeta::from_pod(&checkout_pod(), &AnnotationFilter::default()).expect("meta"),
        Instant::now(),
    );
    assert!(!text(&pods).contains("kube_pod_info"));
    let bare: k8s_openapi::api::core::v1::Pod = serde_json::from_str(
        r#"{"metadata":{"name":"static","namespace":"kube-system","uid":"u1"},"spec":{"containers":[{"name":"c"}],"hostNetwork":true}}"#,
    )
    .expect("pod");
    let meta = PodMeta::from_pod(&bare, &AnnotationFilter::default()).expect("meta");
    pods.apply("u1", meta);
    let body = text(&pods);
    let pod = r#"namespace="kube-system",pod="static",uid="u1""#;
    assert!(body.contains(&format!(r#"kube_pod_owner{{{pod},owner_kind="<none>",owner_name="<none>",owner_is_controller="<none>"}} 1"#)), "{body}");
    assert!(body.contains(r#"created_by_kind="<none>",created_by_name="<none>",priority_class="",host_network="true"}"#));
    // No phase, no Ready condition, no start time, no status: none of their series.
    for absent in [
        "kube_pod_status_phase",
        "kube_pod_status_ready",
        "kube_pod_start_time",
        "kube_pod_container_info",
    ] {
        assert!(!body.contains(absent), "{absent} in {body}");
    }
}
