//! The rules API's JSON against Prometheus 2.42's own answers: the expected bodies were
//! captured from /usr/bin/prometheus with the same rules (a recording rule, a firing
//! alert, a pending alert with keep_firing_for), timestamps replaced by fixed ones.

use super::*;
use crate::aggregator::http::tests::start;
use crate::aggregator::model::MemStore;
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

struct Fixed {
    groups: Vec<GroupView>,
    reloads: Mutex<Vec<Result<(), String>>>,
}

impl RuleSource for Fixed {
    fn groups(&self) -> Vec<GroupView> {
        self.groups.clone()
    }
    fn reload(&self) -> ReloadFuture<'_> {
        let next = self.reloads.lock().unwrap().pop().unwrap_or(Ok(()));
        Box::pin(async move { next })
    }
}

fn at(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

fn group() -> GroupView {
    let eval = Some(at(1_796_570_785_152_086_188));
    let active = at(1_796_570_782_151_810_000);
    let alert = |name: &str, extra: &[(&str, &str)], firing, value, ann: &[(&str, &str)]| {
        let mut pairs = vec![("alertname", name)];
        pairs.extend_from_slice(extra);
        AlertView {
            labels: Labels::from_pairs(&pairs),
            annotations: Labels::from_pairs(ann),
            firing,
            active_at: active,
            keep_firing_since: None,
            value,
        }
    };
    let rule = |name: &str, query: &str, labels: &[(&str, &str)], kind| RuleView {
        name: name.into(),
        query: query.into(),
        labels: Labels::from_pairs(labels),
        last_error: Some(None),
        evaluation_time: Duration::from_nanos(337_274),
        last_evaluation: eval,
        kind,
    };
    GroupView {
        name: "g1".into(),
        file: "rules.yml".into(),
        interval: Duration::from_secs(1),
        limit: 0,
        evaluation_time: Duration::from_nanos(751_330),
        last_evaluation: eval,
        rules: vec![
            rule("job:up:sum", "sum by (job) (up)", &[], RuleKind::Recording),
            rule(
                "AlwaysFiring",
                "vector(1) > 0",
                &[("severity", "warning")],
                RuleKind::Alerting {
                    duration: Duration::ZERO,
                    keep_firing_for: Duration::ZERO,
                    annotations: Labels::from_pairs(&[("summary", "value {{ $value }}")]),
                    alerts: vec![alert(
                        "AlwaysFiring",
                        &[("severity", "warning")],
                        true,
                        1.0,
                        &[("summary", "value 1")],
                    )],
                },
            ),
            rule(
                "Pending",
                "vector(2)",
                &[],
                RuleKind::Alerting {
                    duration: Duration::from_secs(3600),
                    keep_firing_for: Duration::from_secs(300),
                    annotations: Labels::default(),
                    alerts: vec![alert("Pending", &[], false, 2.0, &[])],
                },
            ),
        ],
    }
}

const EVAL: &str = "2026-12-06T15:26:25.152086188Z";
const ACTIVE: &str = "2026-12-06T15:26:22.15181Z";

fn alerts_json() -> [Value; 2] {
    [
        json!({"labels":{"alertname":"AlwaysFiring","severity":"warning"},
            "annotations":{"summary":"value 1"},"state":"firing","activeAt":ACTIVE,"value":"1e+00"}),
        json!({"labels":{"alertname":"Pending"},"annotations":{},"state":"pending",
            "activeAt":ACTIVE,"value":"2e+00"}),
    ]
}

fn rules_json() -> Value {
    let [firing, pending] = alerts_json();
    json!({"status":"success","data":{"groups":[{"name":"g1","file":"rules.yml","rules":[
        {"name":"job:up:sum","query":"sum by (job) (up)","health":"ok",
         "evaluationTime":0.000337274,"lastEvaluation":EVAL,"type":"recording"},
        {"state":"firing","name":"AlwaysFiring","query":"vector(1) > 0","duration":0,
         "keepFiringFor":0,"labels":{"severity":"warning"},
         "annotations":{"summary":"value {{ $value }}"},"alerts":[firing],"health":"ok",
         "evaluationTime":0.000337274,"lastEvaluation":EVAL,"type":"alerting"},
        {"state":"pending","name":"Pending","query":"vector(2)","duration":3600,
         "keepFiringFor":300,"labels":{},"annotations":{},"alerts":[pending],"health":"ok",
         "evaluationTime":0.000337274,"lastEvaluation":EVAL,"type":"alerting"}],
        "interval":1,"limit":0,"evaluationTime":0.00075133,"lastEvaluation":EVAL}]}})
}

async fn with_rules(reloads: Vec<Result<(), String>>) -> crate::aggregator::http::tests::Running {
    let source = Arc::new(Fixed {
        groups: vec![group()],
        reloads: Mutex::new(reloads),
    });
    start(Arc::new(MemStore::default()), |api| {
        api.rules = Some(source)
    })
    .await
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn rules_and_alerts_are_prometheus_shaped() {
    let r = with_rules(vec![]).await;
    let (status, body) = r.get("/api/v1/rules").await;
    assert_eq!(status, 200);
    assert_eq!(parse(&body), rules_json());
    // Whole seconds are written without a fraction, as Go writes them.
    assert!(body.contains(r#""duration":3600,"#), "{body}");
    let (status, body) = r.get("/api/v1/alerts").await;
    assert_eq!(status, 200);
    let expected = json!({"status":"success","data":{"alerts":alerts_json()}});
    assert_eq!(parse(&body), expected);
}

#[tokio::test]
async fn rules_filter_by_type_and_refuse_unknown_types() {
    let r = with_rules(vec![]).await;
    let (_, body) = r.get("/api/v1/rules?type=record").await;
    let types: Vec<Value> = parse(&body)["data"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].clone())
        .collect();
    assert_eq!(types, vec![json!("recording")]);
    let (_, body) = r.get("/api/v1/rules?type=alert").await;
    assert_eq!(
        parse(&body)["data"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, body) = r.get("/api/v1/rules?type=x").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(parse(&body)["errorType"], "bad_data");
}

#[tokio::test]
async fn reload_reports_a_bad_file_and_succeeds_otherwise() {
    let r = with_rules(vec![Ok(()), Err("rules.yml:3:5: bad".into())]).await;
    let post = |path: &str| r.client.post(format!("{}{path}", r.base)).send();
    let first = post("/-/reload").await.unwrap();
    assert_eq!(first.status().as_u16(), 500);
    let text = first.text().await.unwrap();
    assert!(text.contains("rules.yml:3:5: bad"), "{text}");
    assert_eq!(post("/-/reload").await.unwrap().status().as_u16(), 200);
}

#[test]
fn values_and_times_are_written_as_go_writes_them() {
    for (v, s) in [
        (1.0, "1e+00"),
        (2.5e-7, "2.5e-07"),
        (1234567.0, "1.234567e+06"),
        (-0.5, "-5e-01"),
        (1e100, "1e+100"),
        (0.0, "0e+00"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
    ] {
        assert_eq!(go_e(v), s, "{v}");
    }
    assert_eq!(go_time(None), "0001-01-01T00:00:00Z");
    assert_eq!(
        go_time(Some(at(1_796_570_782_000_000_000))),
        "2026-12-06T15:26:22Z"
    );
    assert_eq!(
        go_time(Some(at(1_796_570_782_100_000_000))),
        "2026-12-06T15:26:22.1Z"
    );
}
