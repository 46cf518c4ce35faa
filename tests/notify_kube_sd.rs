//! Alertmanagers found by Kubernetes discovery, through the fake API server (real HTTP,
//! real-shaped list/watch JSON): an `alertmanagers` entry with `kubernetes_sd_configs`
//! (role pod) and `relabel_configs` that keep the pods labelled as Alertmanagers on
//! their `web` port, as kube-prometheus points Prometheus at its Alertmanagers. Alerts
//! go to every Alertmanager pod found, not to other pods; a deleted pod gets no more,
//! a new one gets the next; a reload that keeps the entry keeps what was found, one
//! that changes it discovers again.

mod common;
mod notify_support;

use common::fake_api::{FakeApi, PODS};
use common::pods::{pod, uid, with_label};
use common::receivers::Receiver;
use nodepulse::aggregator::config::{AggregatorConfig, FileConfig, Flags};
use nodepulse::aggregator::notify::{Notifier, NotifyConfig};
use notify_support::{alert, fast_retries, metric, start, wait_until};
use serde_json::{json, Value};

/// Alertmanager pods, on their port named `port`.
fn config(api: &str, port: &str) -> NotifyConfig {
    let keep = format!(
        "    relabel_configs:
    - {{source_labels: [__meta_kubernetes_pod_label_app], regex: alertmanager, action: keep}}
    - {{source_labels: [__meta_kubernetes_pod_container_port_name], regex: {port}, action: keep}}
"
    );
    let yaml = format!(
        "alerting:\n  alertmanagers:\n  - kubernetes_sd_configs: [{{role: pod, api_server: '{api}'}}]\n{keep}"
    );
    let file = FileConfig::parse(&yaml).unwrap();
    let config = AggregatorConfig::merge(Flags::default(), file).unwrap();
    NotifyConfig {
        retry: fast_retries(2),
        ..config.alerting.notify
    }
}

/// A pod on 127.0.0.1 whose container serves `port` under the port name `name`.
fn pod_on(n: u32, app: &str, name: &str, port: u16) -> Value {
    let mut p = with_label(
        pod("monitoring", &format!("{app}-{n}"), &uid(n), "node-1"),
        "app",
        app,
    );
    p["status"]["podIP"] = json!("127.0.0.1");
    p["spec"]["containers"][0]["ports"] = json!([{"name": name, "containerPort": port}]);
    p
}

fn names(am: &Receiver) -> Vec<String> {
    let received = am.script.received();
    let alerts = received
        .iter()
        .filter_map(|r| r.json.as_ref()?.as_array().cloned());
    alerts
        .flatten()
        .map(|a| a["labels"]["alertname"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The destinations' URLs, as the metrics list them.
fn urls(n: &Notifier) -> Vec<String> {
    (n.metrics().iter())
        .filter(|f| f.0 == "nodepulse_notifications_sent_total")
        .flat_map(|f| f.3.iter().map(|r| r.labels[0].1.clone()))
        .collect()
}

fn discovered(n: &Notifier) -> f64 {
    let families = n.metrics();
    let family = families
        .iter()
        .find(|f| f.0 == "nodepulse_notifications_alertmanagers_discovered");
    family.map_or(0.0, |f| f.3[0].value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_go_to_the_alertmanager_pods_discovery_finds() {
    let (am0, am1, other, later) = (
        Receiver::json().await,
        Receiver::json().await,
        Receiver::json().await,
        Receiver::json().await,
    );
    let api = FakeApi::start().await;
    let first = pod_on(1, "alertmanager", "web", am0.addr.port());
    let second = pod_on(2, "alertmanager", "web", am1.addr.port());
    let metrics_port = pod_on(3, "alertmanager", "metrics", other.addr.port());
    let not_am = pod_on(4, "grafana", "web", other.addr.port());
    api.set_items(PODS, vec![first.clone(), second, metrics_port, not_am]);
    let n = start(config(&api.url(), "web"));
    wait_until("two Alertmanagers discovered", || discovered(&n) == 2.0).await;
    let (active, dropped) = n.alertmanagers();
    let other_url = format!("http://127.0.0.1:{}/api/v2/alerts", other.addr.port());
    assert_eq!(active.len(), 2, "{active:?}");
    // The relabelling dropped the other two pods' ports (and the helper pods' port-less
    // containers, listed by address only).
    let count = |url: &String| dropped.iter().filter(|d| *d == url).count();
    assert_eq!(count(&other_url), 2, "{dropped:?}");
    assert!(active.iter().all(|a| count(a) == 0), "{dropped:?}");

    n.send(vec![alert("ToBoth", &[], None)]);
    wait_until("the alert at both", || {
        names(&am0) == ["ToBoth"] && names(&am1) == ["ToBoth"]
    })
    .await;
    let url0 = format!("http://127.0.0.1:{}/api/v2/alerts", am0.addr.port());
    assert_eq!(metric(&n, "nodepulse_notifications_sent_total", &url0), 1.0);

    api.event(PODS, "DELETED", first);
    api.event(
        PODS,
        "ADDED",
        pod_on(5, "alertmanager", "web", later.addr.port()),
    );
    wait_until("the deleted pod gone, the new one found", || {
        let urls = urls(&n);
        !urls.contains(&url0) && urls.len() == 2
    })
    .await;
    n.apply(&config(&api.url(), "web")).await.unwrap();
    assert_eq!(
        discovered(&n),
        2.0,
        "a reload keeping the entry keeps what it found"
    );
    n.send(vec![alert("AfterChange", &[], None)]);
    wait_until(
        "the next alert at the new pod and the one still there",
        || names(&later) == ["AfterChange"] && names(&am1) == ["ToBoth", "AfterChange"],
    )
    .await;
    assert_eq!(names(&am0), ["ToBoth"], "nothing more to the deleted pod");
    assert!(
        other.script.received().is_empty(),
        "nothing to the other pods"
    );

    n.apply(&config(&api.url(), "metrics")).await.unwrap();
    let other_url = format!("http://127.0.0.1:{}/api/v2/alerts", other.addr.port());
    wait_until("a changed entry's discovery started again", || {
        discovered(&n) == 1.0 && urls(&n) == [other_url.clone()]
    })
    .await;
    n.send(vec![alert("Changed", &[], None)]);
    wait_until("the alert at the newly kept pod", || {
        names(&other) == ["Changed"]
    })
    .await;
    assert_eq!(
        names(&later),
        ["AfterChange"],
        "nothing more to the pods no longer kept"
    );
    n.stop().await;
}

/// Alerts sent while discovery has found no Alertmanager are dropped and counted (a
/// row of `nodepulse_notifications_dropped_total` without a destination), as
/// Prometheus counts alerts it had nowhere to send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_with_no_alertmanager_found_are_counted_as_dropped() {
    let api = FakeApi::start().await;
    api.set_items(PODS, vec![pod_on(1, "grafana", "web", 9)]);
    let n = start(config(&api.url(), "web"));
    n.send(vec![
        alert("Nowhere", &[], None),
        alert("Neither", &[], None),
    ]);
    let families = n.metrics();
    let dropped = families
        .iter()
        .find(|f| f.0 == "nodepulse_notifications_dropped_total");
    let row = dropped.and_then(|f| f.3.iter().find(|r| r.labels.is_empty()));
    assert_eq!(row.map(|r| r.value), Some(2.0));
    n.stop().await;
}
