//! The whole system end to end, every part a real process: the agent reads this
//! machine's /proc and /sys, a cgroup v2 fixture for its containers and a temp
//! `/var/log/pods` tree written by the test, and watches pods through the fake
//! Kubernetes API; it ships the lines to the aggregator's Loki push API. The aggregator
//! scrapes the agent every second and evaluates a PromQL and a LogQL rule file,
//! notifying a real Alertmanager 0.25; a real Prometheus 2.42 scrapes the agent too.
//!
//! Checked: the lines written arrive in the aggregator's Loki API with their pod's
//! labels (namespace, pod, container, and `app` from the fake API's pod); node and
//! container metrics of the fake pod answer PromQL in the aggregator and in Prometheus;
//! both rules are quiet first, then the test raises the container's memory in the
//! fixture and writes error lines, and both alerts reach the Alertmanager with their
//! labels and annotations. Missing Prometheus or Alertmanager: skipped with an install
//! hint (a failure under `CI=true`).

mod cgroup_tree;
mod common;
mod system;

use common::fake_api::{FakeApi, NAMESPACES, PODS};
use common::pods::{namespace, NODE};
use common::{free_port, peer, Http, Server, AGENT};
use serde_json::Value;
use std::path::Path;
use system::ask::{self, poll};
use system::node::{Node, APP, CONTAINER, NAMESPACE, POD};
use system::peers;

/// The labels of the alert named `name` among `alerts` (Alertmanager's v2 shape).
fn alert<'a>(alerts: &'a [Value], name: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| a["labels"]["alertname"] == name)
}

fn check_labels(got: &Value, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(got["labels"][k], *v, "{k} of {got}");
    }
}

/// Node and container metrics of the fake pod, as `server` (ours or Prometheus) has
/// them from scraping the agent.
fn check_metrics(http: &Http, server: &Server, logs: &[&Server]) {
    let what = format!("node_cpu_seconds_total in {}", server.name);
    poll(&what, logs, || {
        ask::promql(
            http,
            server,
            r#"node_cpu_seconds_total{job="agent", mode="idle"}"#,
        )
    });
    let query = format!(
        r#"container_memory_working_set_bytes{{namespace="{NAMESPACE}", pod="{POD}", container="{CONTAINER}"}}"#
    );
    let what = format!("the fake pod's working set in {}", server.name);
    let got = poll(&what, logs, || ask::promql_value(http, server, &query));
    assert_eq!(got, Node::working_set() as f64, "{}", server.name);
}

/// Waits until every rule group was evaluated after the aggregator stored the fake
/// pod's working set, so a quiet rule is quiet over real data.
fn rules_evaluated_over_data(http: &Http, agg: &Server, logs: &[&Server]) {
    let query = format!(r#"container_memory_working_set_bytes{{pod="{POD}"}}"#);
    let stored = poll("a stored working set", logs, || {
        let r = ask::promql(http, agg, &query)?;
        r[0]["value"][0].as_f64().ok_or_else(|| format!("{r:?}"))
    });
    poll("both groups evaluated after it", logs, || {
        let last = ask::last_evaluations(http, agg)?;
        let done = last.len() == 2 && last.iter().all(|t| *t > stored);
        done.then_some(()).ok_or(format!("{last:?} after {stored}"))
    });
}

fn start_agent(node: &Node, api: &str, agg: &Server, port: u16) -> Server {
    let args = node.agent_args(api, &agg.url("/loki/api/v1/push"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_on(Path::new(AGENT), &args, "/readyz", port)
        .unwrap_or_else(|log| panic!("the agent exited before it was ready:\n{log}"))
}

#[test]
fn lines_metrics_and_alerts_travel_through_the_whole_system() {
    if peer("prometheus").is_none() || peer("prometheus-alertmanager").is_none() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(FakeApi::start());
    let mut node = Node::new();
    api.set_items(PODS, vec![node.pod()]);
    api.set_items(NAMESPACES, vec![namespace(NAMESPACE, &[], &[])]);
    let mut written = node.log("info", 20);

    let dir = node.tree.path("peers");
    std::fs::create_dir_all(&dir).unwrap();
    let am = peers::alertmanager(&dir).expect("checked above");
    let agent_port = free_port();
    let agent_addr = format!("127.0.0.1:{agent_port}");
    let agg = peers::aggregator(&dir, &agent_addr, &format!("127.0.0.1:{}", am.port));
    let agent = start_agent(&node, &api.url(), &agg, agent_port);
    let prom = peers::prometheus(&dir, &agent_addr).expect("checked above");
    let logs = [&agent, &agg];
    let http = Http::new();

    // Lines: written before and after the agent started, all in the aggregator.
    written.extend(node.log("info", 10));
    let selector = format!(r#"{{namespace="{NAMESPACE}", pod="{POD}", container="{CONTAINER}"}}"#);
    let streams = poll("the lines in the aggregator's Loki API", &logs, || {
        let s = ask::loki_streams(&http, &agg, &selector)?;
        let got = ask::lines(&s);
        let all = written
            .iter()
            .all(|w| got.iter().any(|g| g.contains(w.as_str())));
        (all && got.len() == written.len())
            .then_some(s)
            .ok_or(format!("{} of {} lines", got.len(), written.len()))
    });
    // Structured metadata comes back as labels, as Loki answers without the
    // categorize-labels header: each line's lifted `message` makes it a stream of its own.
    let want = [
        ("namespace", NAMESPACE),
        ("pod", POD),
        ("container", CONTAINER),
        ("node", NODE),
        ("stream", "stdout"),
        ("app", APP),
        ("pod_label_app", APP),
        ("level", "info"),
    ];
    for s in &streams {
        for (k, v) in want {
            assert_eq!(s["stream"][k], v, "{k} of {}", s["stream"]);
        }
    }

    // Metrics: node and container, in both scrapers.
    check_metrics(&http, &agg, &logs);
    check_metrics(&http, &prom, &[&agent, &prom]);

    // Alerts: quiet over real data, then both rules cross their thresholds.
    rules_evaluated_over_data(&http, &agg, &logs);
    assert_eq!(
        ask::aggregator_alerts(&http, &agg).unwrap(),
        Vec::<Value>::new()
    );
    assert_eq!(
        ask::alertmanager_alerts(&http, &am).unwrap(),
        Vec::<Value>::new()
    );
    node.set_memory_current(300_000_000);
    node.log("error", 5);
    let alerts = poll(
        "both alerts in the Alertmanager",
        &[&agent, &agg, &am],
        || {
            let a = ask::alertmanager_alerts(&http, &am)?;
            let both =
                alert(&a, "ContainerMemoryHigh").is_some() && alert(&a, "ErrorLines").is_some();
            both.then_some(a.clone()).ok_or(format!("{a:?}"))
        },
    );
    let memory = alert(&alerts, "ContainerMemoryHigh").unwrap();
    check_labels(
        memory,
        &[
            ("namespace", NAMESPACE),
            ("pod", POD),
            ("container", CONTAINER),
        ],
    );
    check_labels(memory, &[("severity", "warning"), ("job", "agent")]);
    let summary = format!("{NAMESPACE}/{POD} uses 274.4MiB");
    assert_eq!(
        memory["annotations"]["summary"],
        summary.as_str(),
        "{memory}"
    );
    let errors = alert(&alerts, "ErrorLines").unwrap();
    check_labels(
        errors,
        &[
            ("namespace", NAMESPACE),
            ("pod", POD),
            ("app", APP),
            ("severity", "critical"),
        ],
    );
    let summary = format!("{POD} wrote 5 error lines");
    assert_eq!(
        errors["annotations"]["summary"],
        summary.as_str(),
        "{errors}"
    );
    drop(prom);
}
