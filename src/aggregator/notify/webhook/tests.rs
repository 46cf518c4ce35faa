use super::*;
use crate::aggregator::notify::alert::from_millis;
use serde_json::{json, Value};

fn alert(pairs: &[(&str, &str)], summary: &str, ends_at: Option<i64>) -> Arc<Alert> {
    Arc::new(Alert {
        labels: Labels::from_pairs(pairs),
        annotations: Labels::from_pairs(&[("summary", summary), ("runbook", "r")]),
        starts_at: from_millis(1_700_000_000_000),
        ends_at: ends_at.map(from_millis),
        generator_url: "http://agg/graph".into(),
    })
}

fn receiver(group_by: GroupBy) -> Receiver {
    Receiver {
        name: "team.webhook".into(),
        external_url: "http://agg:9201".into(),
        group_by,
    }
}

fn parse(n: &Notification) -> Value {
    serde_json::from_slice(&n.body).unwrap()
}

const NOW: i64 = 1_700_000_100_000;

#[test]
fn a_firing_group_as_alertmanager_posts_it() {
    let batch = [alert(
        &[("alertname", "Down"), ("job", "node")],
        "down",
        None,
    )];
    let out = receiver(GroupBy::default()).notifications(&batch, from_millis(NOW));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].group_key, r#"{}:{alertname="Down"}"#);
    assert_eq!(
        parse(&out[0]),
        json!({
            "receiver": "team\\.webhook",
            "status": "firing",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "Down", "job": "node"},
                "annotations": {"runbook": "r", "summary": "down"},
                "startsAt": "2023-11-14T22:13:20Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://agg/graph",
                "fingerprint": fingerprint(&batch[0].labels),
            }],
            "groupLabels": {"alertname": "Down"},
            "commonLabels": {"alertname": "Down", "job": "node"},
            "commonAnnotations": {"runbook": "r", "summary": "down"},
            "externalURL": "http://agg:9201",
            "version": "4",
            "groupKey": "{}:{alertname=\"Down\"}",
            "truncatedAlerts": 0,
        })
    );
    let text = String::from_utf8(out[0].body.clone()).unwrap();
    assert!(text.starts_with(r#"{"receiver":"#), "{text}");
}

#[test]
fn a_firing_alert_with_a_future_end_shows_the_zero_end() {
    let batch = [alert(&[("alertname", "A")], "s", Some(NOW + 60_000))];
    let out = receiver(GroupBy::default()).notifications(&batch, from_millis(NOW));
    let v = parse(&out[0]);
    assert_eq!(v["alerts"][0]["status"], "firing");
    assert_eq!(v["alerts"][0]["endsAt"], GO_ZERO_TIME);
}

#[test]
fn groups_split_by_group_by_and_status_is_firing_if_any_fires() {
    let batch = [
        alert(
            &[("alertname", "A"), ("pod", "p1")],
            "one",
            Some(NOW - 1_000),
        ),
        alert(&[("alertname", "B"), ("pod", "p1")], "b", None),
        alert(&[("alertname", "A"), ("pod", "p2")], "two", None),
    ];
    let out = receiver(GroupBy::default()).notifications(&batch, from_millis(NOW));
    let keys: Vec<&str> = out.iter().map(|n| n.group_key.as_str()).collect();
    assert_eq!(keys, [r#"{}:{alertname="A"}"#, r#"{}:{alertname="B"}"#]);
    let a = parse(&out[0]);
    assert_eq!(a["status"], "firing");
    assert_eq!(a["alerts"][0]["status"], "resolved");
    assert_eq!(a["alerts"][0]["endsAt"], "2023-11-14T22:14:59Z");
    assert_eq!(a["commonLabels"], json!({"alertname": "A"}));
    assert_eq!(a["commonAnnotations"], json!({"runbook": "r"}));
    assert_eq!(out[0].alerts, 2);
}

#[test]
fn all_resolved_is_resolved() {
    let batch = [alert(&[("alertname", "A")], "s", Some(NOW))];
    let out = receiver(GroupBy::default()).notifications(&batch, from_millis(NOW));
    assert_eq!(parse(&out[0])["status"], "resolved");
}

#[test]
fn group_by_several_labels_all_labels_and_missing_labels() {
    let batch = [
        alert(&[("alertname", "A"), ("pod", "p1"), ("ns", "x")], "s", None),
        alert(&[("alertname", "A"), ("pod", "p2"), ("ns", "x")], "s", None),
        alert(&[("alertname", "A")], "s", None),
    ];
    let now = from_millis(NOW);
    let by = GroupBy::Labels(vec!["ns".into(), "alertname".into()]);
    let out = receiver(by).notifications(&batch, now);
    let keys: Vec<&str> = out.iter().map(|n| n.group_key.as_str()).collect();
    assert_eq!(
        keys,
        [r#"{}:{alertname="A", ns="x"}"#, r#"{}:{alertname="A"}"#]
    );
    assert_eq!(receiver(GroupBy::All).notifications(&batch, now).len(), 3);
    let none = GroupBy::Labels(Vec::new());
    let one = receiver(none).notifications(&batch, now);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].group_key, "{}:{}");
}

#[test]
fn group_key_values_are_go_quoted() {
    let labels = Labels::from_pairs(&[("alertname", "say \"hi\"\n")]);
    assert_eq!(group_key(&labels), r#"{}:{alertname="say \"hi\"\n"}"#);
}
