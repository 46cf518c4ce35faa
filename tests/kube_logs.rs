//! Log enrichment from the pod cache, end to end: the agent binary tails a temp
//! `/var/log/pods` tree, watches pods through the fake Kubernetes API server and ships to
//! a Loki receiver. A pod's lines carry its `app` stream label and its labels, workload
//! and namespace labels as structured metadata; a deleted pod's last lines are still
//! enriched within the grace period; excluded pods and containers ship nothing, and
//! their lines are counted.

mod common;

use common::fake_api::{FakeApi, NAMESPACES, PODS};
use common::logs::Dirs;
use common::pods::{namespace, pod, uid, with_annotation, with_label, NODE};
use common::receivers::Receiver;
use common::{get, spawn_agent, Server};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// One shipped line: its stream labels (rendered), text and structured metadata.
#[derive(Debug)]
struct Shipped {
    labels: String,
    line: String,
    metadata: Vec<(String, String)>,
}

fn shipped(receiver: &Receiver) -> Vec<Shipped> {
    let mut out = Vec::new();
    for r in receiver.script.received() {
        for s in r.push.into_iter().flat_map(|p| p.streams) {
            for e in s.entries {
                let metadata = e.structured_metadata.into_iter();
                out.push(Shipped {
                    labels: s.labels.clone(),
                    line: e.line,
                    metadata: metadata.map(|p| (p.name, p.value)).collect(),
                });
            }
        }
    }
    out
}

/// Appends CRI lines `<tag> <i>` for `range` to `<pods>/<pod_dir>/<container>/0.log`.
fn write(pods: &Path, pod_dir: &str, container: &str, tag: &str, range: std::ops::Range<u32>) {
    let dir = pods.join(pod_dir).join(container);
    fs::create_dir_all(&dir).unwrap();
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("0.log"))
        .unwrap();
    for i in range {
        writeln!(f, "2026-12-05T20:00:00.{i:09}Z stdout F {tag} {i}").unwrap();
    }
}

fn wait_until(what: &str, agent: &Server, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out: {what}\n{}",
            agent.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metric(agent: &Server, name: &str) -> f64 {
    let body = get(&agent.url("/metrics"), &[]).text();
    let line = body.lines().find(|l| l.starts_with(&format!("{name} ")));
    line.and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn lines_are_enriched_from_the_pod_cache_and_excluded_pods_ship_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(FakeApi::start());
    let mut receiver = rt.block_on(Receiver::loki());
    let (web, quiet) = (uid(1), uid(2));
    let mut web_pod = with_annotation(
        with_label(
            pod("shop", "web-7d9f8b6c5d-abcde", &web, NODE),
            "app",
            "web",
        ),
        "nodepulse.io/exclude-containers",
        "proxy",
    );
    web_pod["metadata"]["ownerReferences"][0]["name"] = "web-7d9f8b6c5d".into();
    let quiet_pod = with_annotation(
        pod("shop", "quiet-7d9f8b6c5d-fghij", &quiet, NODE),
        "nodepulse.io/exclude",
        "true",
    );
    api.set_items(PODS, vec![web_pod.clone(), quiet_pod]);
    api.set_items(
        NAMESPACES,
        vec![namespace("shop", &[("team", "payments")], &[])],
    );

    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let web_dir = format!("shop_web-7d9f8b6c5d-abcde_{web}");
    let quiet_dir = format!("shop_quiet-7d9f8b6c5d-fghij_{quiet}");
    // Written before the agent starts: shipped only once the pods are listed.
    write(&d.pods, &web_dir, "app", "web", 0..50);
    write(&d.pods, &web_dir, "proxy", "proxy", 0..30);
    write(&d.pods, &quiet_dir, "app", "quiet", 0..20);
    let args = [
        format!("--sink.loki.url={}/loki/api/v1/push", receiver.url()),
        format!("--logs.pods-dir={}", d.pods.display()),
        format!("--logs.containers-dir={}", d.containers.display()),
        format!("--data-dir={}", d.data.display()),
        format!("--kube.api={}", api.url()),
        format!("--node-name={NODE}"),
        "--logs.start-at=beginning".to_owned(),
    ];
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let count = |tag: &str| {
        let prefix = format!("{tag} ");
        shipped(&receiver)
            .iter()
            .filter(|s| s.line.starts_with(&prefix))
            .count()
    };
    wait_until("50 web lines", &agent, || count("web") == 50);
    wait_until("50 excluded lines counted", &agent, || {
        metric(&agent, "nodepulse_log_excluded_messages_total") == 50.0
    });
    assert_eq!(count("proxy"), 0, "an excluded container ships nothing");
    assert_eq!(count("quiet"), 0, "an excluded pod ships nothing");
    for s in shipped(&receiver) {
        assert!(s.labels.contains(r#"app="web""#), "{s:?}");
        assert!(s.labels.contains(r#"namespace="shop""#), "{s:?}");
        let has = |k: &str, v: &str| s.metadata.iter().any(|(a, b)| a == k && b == v);
        assert!(has("pod_label_app", "web"), "{s:?}");
        assert!(has("workload_kind", "Deployment"), "{s:?}");
        assert!(has("workload_name", "web"), "{s:?}");
        assert!(has("namespace_label_team", "payments"), "{s:?}");
    }

    // Deleted: its last lines (written after the delete) are still enriched.
    api.event(PODS, "DELETED", web_pod);
    wait_until("the delete seen (no kube_pod_info of web)", &agent, || {
        let body = get(&agent.url("/metrics"), &[]).text();
        body.contains("kube_pod_info{") && !body.contains(r#"pod="web-7d9f8b6c5d-abcde""#)
    });
    assert_eq!(
        metric(&agent, "nodepulse_kube_cache_pods"),
        2.0,
        "kept for its grace"
    );
    write(&d.pods, &web_dir, "app", "web", 50..60);
    wait_until("60 web lines", &agent, || count("web") == 60);
    let last = shipped(&receiver);
    let last = last.iter().filter(|s| s.line.starts_with("web "));
    assert!(last.into_iter().all(|s| s.labels.contains(r#"app="web""#)));
    rt.block_on(receiver.stop());
}
