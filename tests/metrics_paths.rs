//! `/metrics` and its three parts, through the real binary on a node with pods (fake
//! API server) and containers (a cgroup tree in a temp dir): `/metrics/node`,
//! `/metrics/cadvisor` and `/metrics/kube-state` hold only their exporter's families,
//! are disjoint, and together hold exactly the families of `/metrics`, in either format.

mod cgroup_tree;
mod common;

use cgroup_tree::node::big_node;
use common::fake_api::{FakeApi, NAMESPACES, PODS};
use common::pods::{namespace, node_full_of_pods, NODE};
use common::{parse_body, spawn_agent, Server};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const PARTS: [&str; 3] = ["/metrics/node", "/metrics/cadvisor", "/metrics/kube-state"];

fn families(agent: &Server, path: &str, accept: &str) -> BTreeSet<String> {
    let resp = common::get(&agent.url(path), &[("accept", accept)]);
    assert_eq!(resp.status, 200, "GET {path}");
    let body = resp.text();
    if accept.contains("openmetrics") {
        assert_eq!(body.matches("# EOF").count(), 1, "{path}: one # EOF");
        assert!(body.ends_with("# EOF\n"), "{path}");
    }
    parse_body(&body).types.into_keys().collect()
}

/// Waits until the pod cache has the node's pods, so every part has its families.
fn wait_for_pods(agent: &Server, pods: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let want = format!("nodepulse_kube_cache_pods {pods}");
    while !common::get(&agent.url("/metrics/node"), &[])
        .text()
        .contains(&want)
    {
        assert!(Instant::now() < deadline, "{}", agent.log_tail(20));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_three_parts_are_disjoint_and_make_the_whole() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let api = rt.block_on(FakeApi::start());
    api.set_items(PODS, node_full_of_pods(5));
    api.set_items(NAMESPACES, vec![namespace("ns-0", &[], &[])]);
    let tree = big_node(5, 3);
    let args = [
        format!("--kube.api={}", api.url()),
        format!("--node-name={NODE}"),
        format!("--path.sysfs={}", tree.path("sys").display()),
        format!("--path.procfs={}", tree.path("proc").display()),
    ];
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_for_pods(&agent, 5);
    for accept in ["text/plain", common::PROMETHEUS_ACCEPT] {
        let all = families(&agent, "/metrics", accept);
        let parts: Vec<BTreeSet<String>> =
            PARTS.iter().map(|p| families(&agent, p, accept)).collect();
        let [node, cadvisor, kube] = [&parts[0], &parts[1], &parts[2]];
        assert!(node.contains("nodepulse_kube_api_up"), "{node:?}");
        assert!(node.iter().any(|f| f.starts_with("node_")), "{node:?}");
        assert!(cadvisor.contains("container_memory_working_set_bytes"));
        assert!(kube.contains("kube_pod_info"));
        let own = |f: &&String| {
            ["node_", "process_", "nodepulse_"]
                .iter()
                .any(|p| f.starts_with(p))
        };
        let foreign: Vec<_> = node.iter().filter(|f| !own(f)).collect();
        assert!(foreign.is_empty(), "{foreign:?}");
        let ours =
            |f: &&String| f.starts_with("container_") || f.starts_with("nodepulse_containers_");
        let foreign: Vec<_> = cadvisor.iter().filter(|f| !ours(f)).collect();
        assert!(foreign.is_empty(), "{foreign:?}");
        assert!(kube.iter().all(|f| f.starts_with("kube_")));
        let union: BTreeSet<String> = parts.iter().flatten().cloned().collect();
        assert_eq!(
            union.len(),
            parts.iter().map(BTreeSet::len).sum::<usize>(),
            "disjoint"
        );
        assert_eq!(union, all, "{accept}: the parts make /metrics");
    }
}
