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

/// The alert named `name` among `alerts` (Alertmanager's v2 shape).
fn alert<'a>(alerts: &'a [Value], name: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| a["labels"]["alertname"] == name)
}

fn check_labels(got: &Value, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(got["labels"][k], *v, "{k} of {got}");
    }
}

/// Every line `written` (and no other) is in the aggregator's Loki API, each with the
/// pod's stream labels and structured metadata.
fn check_lines(http: &Http, agg: &Server, logs: &[&Server], written: &[String]) {
    let mut want_lines = written.to_vec();
    want_lines.sort();
    let selector = format!(r#"{{namespace="{NAMESPACE}", pod="{POD}", container="{CONTAINER}"}}"#);
    let streams = poll("the lines in the aggregator's Loki API", logs, || {
        let s = ask::loki_streams(http, agg, &selector)?;
        let mut got = ask::lines(&s);
        got.sort();
        (got == want_lines).then_some(s).ok_or(format!(
            "{} of {} lines",
            got.len(),
            want_lines.len()
        ))
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

/// The two alerts as the Alertmanager holds them: the rules' labels, the series'
/// labels (the pod's from the agent, `app` from the fake API), expanded annotations.
fn check_alerts(alerts: &[Value]) {
    let memory = alert(alerts, "ContainerMemoryHigh").unwrap();
    let pod = [("namespace", NAMESPACE), ("pod", POD)];
    check_labels(memory, &pod);
    check_labels(memory, &[("container", CONTAINER), ("job", "agent")]);
    check_labels(memory, &[("severity", "warning")]);
    let summary = format!("{NAMESPACE}/{POD} uses 274.4MiB");
    assert_eq!(
        memory["annotations"]["summary"],
        summary.as_str(),
        "{memory}"
    );
    let errors = alert(alerts, "ErrorLines").unwrap();
    check_labels(errors, &pod);
    check_labels(errors, &[("app", APP), ("severity", "critical")]);
    let summary = format!("{POD} wrote 5 error lines");
    assert_eq!(
        errors["annotations"]["summary"],
        summary.as_str(),
        "{errors}"
    );
}

/// The four processes, started in the order their addresses are needed.
struct Running {
    am: Server,
    agg: Server,
    agent: Server,
    prom: Server,
}

impl Running {
    fn start(node: &Node, api: &str) -> Running {
        let dir = node.tree.path("peers");
        std::fs::create_dir_all(&dir).unwrap();
        let am = peers::alertmanager(&dir).expect("checked by the test");
        // The aggregator scrapes the agent, which ships to the aggregator: the agent's
        // port is chosen first.
        let agent_port = free_port();
        let agent_addr = format!("127.0.0.1:{agent_port}");
        let agg = peers::aggregator(&dir, &agent_addr, &format!("127.0.0.1:{}", am.port));
        let args = node.agent_args(api, &agg.url("/loki/api/v1/push"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let agent = Server::start_on(Path::new(AGENT), &args, "/readyz", agent_port)
            .unwrap_or_else(|log| panic!("the agent exited before it was ready:\n{log}"));
        let prom = peers::prometheus(&dir, &agent_addr).expect("checked by the test");
        Running {
            am,
            agg,
            agent,
            prom,
        }
    }
}

/// Both rules evaluated over real data are quiet: no alert here or in Alertmanager.
fn check_quiet(http: &Http, r: &Running) {
    rules_evaluated_over_data(http, &r.agg, &[&r.agent, &r.agg]);
    let alerts = ask::aggregator_alerts(http, &r.agg).unwrap();
    assert_eq!(alerts, Vec::<Value>::new());
    let alerts = ask::alertmanager_alerts(http, &r.am).unwrap();
    assert_eq!(alerts, Vec::<Value>::new());
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
    let r = Running::start(&node, &api.url());
    let (agg, logs, http) = (&r.agg, [&r.agent, &r.agg], Http::new());

    // Lines: written before and after the agent started, all in the aggregator.
    written.extend(node.log("info", 10));
    check_lines(&http, agg, &logs, &written);

    // Metrics: node and container, in both scrapers.
    check_metrics(&http, agg, &logs);
    check_metrics(&http, &r.prom, &[&r.agent, &r.prom]);

    // Alerts: quiet over real data, then both rules cross their thresholds.
    check_quiet(&http, &r);
    node.set_memory_current(300_000_000);
    node.log("error", 5);
    let alerts = poll("both alerts in the Alertmanager", &[&r.agg, &r.am], || {
        let a = ask::alertmanager_alerts(&http, &r.am)?;
        let both = alert(&a, "ContainerMemoryHigh").is_some() && alert(&a, "ErrorLines").is_some();
        both.then_some(a.clone()).ok_or(format!("{a:?}"))
    });
    check_alerts(&alerts);
}
