//! The notifier over real sockets, against local receivers (tests/common/receivers.rs):
//! a webhook that fails 3 times then succeeds gets the notification once; a 4xx is not
//! retried; batches of 64 to an Alertmanager endpoint; webhook groups; the bearer token;
//! per-request timeouts; a full queue drops the oldest and counts them; a hung
//! destination does not hold the others up; stopping sends what is still queued.

mod common;
mod notify_support;

use common::receivers::{Receiver, Reply};
use nodepulse::aggregator::notify::alert::fingerprint;
use nodepulse::aggregator::notify::{
    Credentials, GroupBy, NotifyConfig, Receiver as Hook, Target, Webhook,
};
use notify_support::{alert, fast_retries, metric, start, wait_until, Silent};
use serde_json::Value;
use std::time::Duration;

fn webhook(url: String, group_by: GroupBy) -> Webhook {
    Webhook {
        target: Target::new(url),
        receiver: Hook {
            name: "ops".into(),
            external_url: "http://aggregator:9201".into(),
            group_by,
        },
    }
}

fn config(alertmanagers: Vec<Target>, webhooks: Vec<Webhook>) -> NotifyConfig {
    NotifyConfig {
        alertmanagers,
        webhooks,
        retry: fast_retries(5),
        ..NotifyConfig::default()
    }
}

fn ok_bodies(r: &Receiver) -> Vec<Value> {
    let received = r.script.received();
    received
        .into_iter()
        .filter(|x| x.status < 300)
        .map(|x| x.json.unwrap())
        .collect()
}

#[tokio::test]
async fn a_webhook_failing_three_times_then_succeeding_gets_it_once() {
    let hook = Receiver::json().await;
    // 429 (with a Retry-After, capped by the policy) and 5xx are worth retrying.
    hook.script.push(Reply::Status(503, None));
    hook.script.push(Reply::Status(429, Some("1")));
    hook.script.push(Reply::Status(500, None));
    let url = format!("{}/alerts", hook.url());
    let n = start(config(
        vec![],
        vec![webhook(url.clone(), GroupBy::default())],
    ));
    n.send(vec![alert("First", &[("pod", "a")], None)]);
    wait_until("the first notification", || ok_bodies(&hook).len() == 1).await;
    // A second one behind it in the same queue: once it is in, nothing of the first
    // can still be on its way.
    n.send(vec![alert("Second", &[], None)]);
    wait_until("the second notification", || ok_bodies(&hook).len() == 2).await;
    let received = hook.script.received();
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 500, 200, 200]);
    let firsts = ok_bodies(&hook)
        .iter()
        .filter(|b| b["groupKey"] == r#"{}:{alertname="First"}"#)
        .count();
    assert_eq!(firsts, 1, "the first notification arrived once");
    // The three failures sent the same payload as the success.
    assert_eq!(received[0].json, received[3].json);
    let body = &ok_bodies(&hook)[0];
    assert_eq!(body["version"], "4");
    assert_eq!(body["receiver"], "ops");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["alerts"][0]["labels"]["pod"], "a");
    assert_eq!(body["alerts"][0]["annotations"]["summary"], "First fired");
    // counted once the answer is back, which can be after the receiver has the body
    wait_until("2 counted as sent", || {
        metric(&n, "nodepulse_notifications_sent_total", &url) == 2.0
    })
    .await;
    assert_eq!(
        metric(&n, "nodepulse_notifications_errors_total", &url),
        3.0
    );
    assert_eq!(
        metric(&n, "nodepulse_notifications_dropped_total", &url),
        0.0
    );
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_the_alerts_are_counted_dropped() {
    let hook = Receiver::json().await;
    hook.script.push(Reply::Status(400, None));
    let url = hook.url();
    let n = start(config(
        vec![],
        vec![webhook(url.clone(), GroupBy::default())],
    ));
    n.send(vec![alert("Refused", &[], None)]);
    n.send(vec![alert("Next", &[], None)]);
    wait_until("the next notification", || ok_bodies(&hook).len() == 1).await;
    let statuses: Vec<u16> = hook.script.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 200]);
    assert_eq!(
        metric(&n, "nodepulse_notifications_dropped_total", &url),
        1.0
    );
    assert_eq!(
        metric(&n, "nodepulse_notifications_errors_total", &url),
        1.0
    );
}

#[tokio::test]
async fn alertmanager_requests_hold_at_most_64_alerts() {
    let am = Receiver::json().await;
    let url = format!("{}/api/v2/alerts", am.url());
    let mut c = config(vec![Target::new(url.clone())], vec![]);
    c.external_labels = vec![("cluster".into(), "east".into())];
    let n = start(c);
    let alerts = (0..150)
        .map(|i| alert("Many", &[("i", &i.to_string())], None))
        .collect();
    n.send(alerts);
    wait_until("150 alerts", || {
        ok_bodies(&am)
            .iter()
            .map(|b| b.as_array().unwrap().len())
            .sum::<usize>()
            == 150
    })
    .await;
    let sizes: Vec<usize> = ok_bodies(&am)
        .iter()
        .map(|b| b.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [64, 64, 22]);
    let first = &ok_bodies(&am)[0][0];
    assert_eq!(first["labels"]["cluster"], "east");
    assert_eq!(first["labels"]["i"], "0");
    assert!(first.get("endsAt").is_none());
    assert!(first["startsAt"].as_str().unwrap().ends_with('Z'));
    // counted once the answer is back, which can be after the receiver has the body
    wait_until("150 counted as sent", || {
        metric(&n, "nodepulse_notifications_sent_total", &url) == 150.0
    })
    .await;
}

#[tokio::test]
async fn webhook_groups_and_bearer_token() {
    let hook = Receiver::json().await;
    let mut w = webhook(hook.url(), GroupBy::default());
    w.target.authorization = Some(Credentials::inline("Bearer", "t0ken"));
    let n = start(config(vec![], vec![w]));
    n.send(vec![
        alert("A", &[("pod", "1")], None),
        alert("B", &[("pod", "1")], None),
        alert("A", &[("pod", "2")], None),
    ]);
    wait_until("two groups", || ok_bodies(&hook).len() == 2).await;
    let bodies = ok_bodies(&hook);
    let a = bodies
        .iter()
        .find(|b| b["groupLabels"]["alertname"] == "A")
        .unwrap();
    assert_eq!(a["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(a["commonLabels"], serde_json::json!({"alertname": "A"}));
    let first = &a["alerts"][0];
    let labels =
        nodepulse::aggregator::model::Labels::from_pairs(&[("alertname", "A"), ("pod", "1")]);
    assert_eq!(first["fingerprint"], fingerprint(&labels));
    let headers = &hook.script.received()[0].headers;
    assert_eq!(headers["authorization"], "Bearer t0ken");
    assert!(headers["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("nodepulse/"));
}

#[tokio::test]
async fn a_request_that_times_out_is_retried_then_dropped() {
    let silent = Silent::start().await;
    let mut w = webhook(silent.url.clone(), GroupBy::default());
    w.target.timeout = Duration::from_millis(200);
    let mut c = config(vec![], vec![w]);
    c.retry = fast_retries(2);
    let n = start(c);
    n.send(vec![alert("Slow", &[], None)]);
    let url = silent.url.clone();
    wait_until("the alert dropped", || {
        metric(&n, "nodepulse_notifications_dropped_total", &url) == 1.0
    })
    .await;
    assert_eq!(
        metric(&n, "nodepulse_notifications_errors_total", &url),
        2.0
    );
    assert_eq!(metric(&n, "nodepulse_notifications_sent_total", &url), 0.0);
    assert_eq!(silent.connections(), 2, "one connection per attempt");
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_counts_them() {
    let silent = Silent::start().await;
    let mut c = config(vec![Target::new(silent.url.clone())], vec![]);
    c.queue_capacity = 5;
    let n = start(c);
    n.send(vec![alert("Stuck", &[], None)]);
    // The loop holds that one in a request that never ends: the queue is ours.
    wait_until("the request in flight", || silent.connections() == 1).await;
    let url = silent.url.clone();
    n.send(
        (0..8)
            .map(|i| alert("Queued", &[("i", &i.to_string())], None))
            .collect(),
    );
    assert_eq!(
        metric(&n, "nodepulse_notifications_dropped_total", &url),
        3.0
    );
    assert_eq!(
        metric(&n, "nodepulse_notifications_queue_length", &url),
        5.0
    );
    let text = nodepulse::aggregator::notify::metrics::text(&n.metrics());
    assert!(
        text.contains("nodepulse_notifications_queue_capacity 5\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_hung_alertmanager_does_not_hold_up_the_others() {
    let silent = Silent::start().await;
    let am = Receiver::json().await;
    let hung = Target::new(silent.url.clone());
    let n = start(config(vec![hung, Target::new(am.url())], vec![]));
    n.send(vec![alert("Both", &[], None)]);
    wait_until("the healthy one got it", || ok_bodies(&am).len() == 1).await;
    wait_until("the hung one was asked", || silent.connections() == 1).await;
    assert_eq!(
        metric(&n, "nodepulse_notifications_sent_total", &silent.url),
        0.0
    );
}

#[tokio::test]
async fn stopping_sends_what_is_still_queued() {
    let am = Receiver::json().await;
    let n = start(config(vec![Target::new(am.url())], vec![]));
    n.send(
        (0..100)
            .map(|i| alert("Late", &[("i", &i.to_string())], None))
            .collect(),
    );
    n.stop().await;
    let sent: usize = ok_bodies(&am)
        .iter()
        .map(|b| b.as_array().unwrap().len())
        .sum();
    assert_eq!(sent, 100);
}

/// A reloaded configuration (`Notifier::apply`), as Prometheus's notifier takes one: the
/// webhook kept keeps its counters, the removed one gets nothing more, the new one gets
/// what comes next, with the new external labels.
#[tokio::test]
async fn a_reload_keeps_an_unchanged_webhook_and_swaps_the_others() {
    let (kept, removed, added) = (
        Receiver::json().await,
        Receiver::json().await,
        Receiver::json().await,
    );
    let hook = |r: &Receiver| webhook(format!("{}/alerts", r.url()), GroupBy::default());
    let mut before = config(vec![], vec![hook(&kept), hook(&removed)]);
    before.external_labels = vec![("cluster".into(), "a".into())];
    let n = start(before);
    n.send(vec![alert("Before", &[], None)]);
    wait_until("the first alert at both", || {
        ok_bodies(&kept).len() == 1 && ok_bodies(&removed).len() == 1
    })
    .await;

    let mut after = config(vec![], vec![hook(&kept), hook(&added)]);
    after.external_labels = vec![("cluster".into(), "b".into())];
    n.apply(&after).await.unwrap();
    n.send(vec![alert("After", &[], None)]);
    wait_until("the second alert at the kept and the new webhook", || {
        ok_bodies(&kept).len() == 2 && ok_bodies(&added).len() == 1
    })
    .await;
    assert_eq!(
        ok_bodies(&removed).len(),
        1,
        "the removed webhook got nothing more"
    );
    let last = &ok_bodies(&added)[0]["alerts"][0]["labels"];
    assert_eq!(
        (&last["alertname"], &last["cluster"]),
        (&"After".into(), &"b".into())
    );
    let kept_url = format!("{}/alerts", kept.url());
    wait_until("the kept webhook's counter going on", || {
        metric(&n, "nodepulse_notifications_sent_total", &kept_url) == 2.0
    })
    .await;
    let removed_url = format!("{}/alerts", removed.url());
    assert_eq!(
        metric(&n, "nodepulse_notifications_sent_total", &removed_url),
        0.0
    );

    let mut bad = after.clone();
    bad.webhooks
        .push(webhook("not a url".into(), GroupBy::default()));
    assert!(
        n.apply(&bad).await.is_err(),
        "a destination that cannot be set up"
    );
    n.send(vec![alert("Refused", &[], None)]);
    wait_until("the third alert where the second went", || {
        ok_bodies(&kept).len() == 3 && ok_bodies(&added).len() == 2
    })
    .await;
    n.stop().await;
}

/// A credentials file is read for every request (as Prometheus reads it): a rotated
/// token is sent from the next notification on, with no reload.
#[tokio::test]
async fn a_rotated_credentials_file_is_sent_from_the_next_request_on() {
    use nodepulse::aggregator::http_client::{authorization, AuthorizationFile};
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first\n").unwrap();
    let hook = Receiver::json().await;
    let mut w = webhook(hook.url(), GroupBy::default());
    let mut file = AuthorizationFile {
        credentials_file: Some(token.clone()),
        ..AuthorizationFile::default()
    };
    w.target.authorization = authorization(Some(&mut file)).unwrap();
    let n = start(config(vec![], vec![w]));
    n.send(vec![alert("A", &[], None)]);
    wait_until("the first", || ok_bodies(&hook).len() == 1).await;
    std::fs::write(&token, "second").unwrap();
    n.send(vec![alert("B", &[], None)]);
    wait_until("the second", || ok_bodies(&hook).len() == 2).await;
    let sent: Vec<String> = (hook.script.received().iter())
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer first", "Bearer second"]);
}
