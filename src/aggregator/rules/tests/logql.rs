//! A `query_language: logql` group: an alert on the error lines of an app, over the
//! real log store; a push wakes the LogQL groups only.

use super::fixture;
use crate::aggregator::logstore::{LogStore, LogStoreOptions};
use crate::aggregator::model::logs::{LogAppender, LogEntry, PushStream};
use crate::aggregator::model::Labels;
use crate::aggregator::rules::group::{Group, Health, Rule, RuleContext};
use crate::aggregator::rules::run::TokioClock;
use crate::aggregator::rules::{file, AlertState, Manager};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const S: i64 = 1_000_000_000;

const RULES: &str = r#"
groups:
  - name: logs
    query_language: logql
    rules:
      - record: app:error_lines:rate1m
        expr: sum by (app) (rate({env="prod"} |= "error" [1m]))
      - alert: ErrorBurst
        expr: sum by (app) (count_over_time({env="prod"} |= "error" [1m])) > 2
        annotations: {summary: "{{ $labels.app }}: {{ $value }} error lines"}
"#;

#[test]
fn a_logql_rule_alerts_on_error_lines() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Arc::new(LogStore::open(dir.path(), LogStoreOptions::default()).expect("open"));
    // A recent whole minute, so the store's age checks pass.
    let t0 = crate::aggregator::loki::now_ns() / (60 * S) * (60 * S) - 3600 * S;
    let stream = |app: &str, errors: i64| PushStream {
        labels: Labels::from_pairs(&[("app", app), ("env", "prod")]),
        entries: (1..=6)
            .map(|i| LogEntry {
                ts: t0 + i * 5 * S,
                line: if i <= errors {
                    format!("level=error n={i}")
                } else {
                    format!("level=info n={i}")
                },
                metadata: Vec::new(),
            })
            .collect(),
    };
    logs.push(vec![stream("a", 3), stream("b", 1)])
        .expect("push");

    let f = fixture();
    let ctx = Arc::new(RuleContext {
        metrics: f.store.clone(),
        appender: f.store.clone(),
        logs: Some(logs),
        sink: f.sink.clone(),
        opts: f.ctx.opts.clone(),
    });
    let def = file::parse("logs.yml", RULES).expect("valid").remove(0);
    let mut g = Group::new("logs.yml", def, ctx, true).expect("group");
    let t = (t0 + 60 * S) / 1_000_000;
    g.eval(t);
    assert!(
        g.rules().all(|(_, s)| s.health == Health::Good),
        "{:?}",
        g.rules().map(|r| &r.1).collect::<Vec<_>>()
    );
    let rate = f.samples("app:error_lines:rate1m", &[("app", "a")]);
    assert_eq!(rate, [(t / 1000, 3.0 / 60.0)]);
    let Rule::Alerting(r) = &g.rules().nth(1).unwrap().0 else {
        panic!()
    };
    let firing: Vec<_> = r
        .active
        .values()
        .map(|a| (a.labels.to_string(), a.state))
        .collect();
    assert_eq!(
        firing,
        [(
            r#"{alertname="ErrorBurst", app="a"}"#.to_string(),
            AlertState::Firing
        )]
    );
    let sent = f.sink.take();
    assert_eq!(
        sent[0][0].annotations,
        Labels::from_pairs(&[("summary", "a: 3 error lines")])
    );
}

const GROUPS: &str = r#"
groups:
  - name: metrics
    interval: 1m
    rules:
      - record: ups
        expr: count(up) or vector(0)
  - name: logs
    interval: 1m
    query_language: logql
    rules:
      - record: lines
        expr: sum(count_over_time({app="a"} [1m]))
"#;

#[tokio::test(start_paused = true)]
async fn a_push_wakes_the_logql_groups_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("logs"), LogStoreOptions::default());
    let f = fixture();
    let ctx = Arc::new(RuleContext {
        metrics: f.store.clone(),
        appender: f.store.clone(),
        logs: Some(Arc::new(store.expect("open"))),
        sink: f.sink.clone(),
        opts: f.ctx.opts.clone(),
    });
    std::fs::write(dir.path().join("r.yml"), GROUPS).unwrap();
    let clock = Arc::new(TokioClock {
        base_ns: 1_700_000_000 * S,
        start: tokio::time::Instant::now(),
    });
    let m = Manager::new(ctx, clock, vec![format!("{}/r.yml", dir.path().display())]);
    m.reload().await.expect("load");
    tokio::time::sleep(Duration::from_secs(63)).await; // past both first slots
    let evaluations = |m: &Manager| -> BTreeMap<String, (u64, u64)> {
        let groups = m.snapshot().into_iter();
        groups
            .map(|g| (g.name, (g.evaluations, g.iterations_extra)))
            .collect()
    };
    let before = evaluations(&m);
    assert!(before.values().all(|n| n.0 > 0), "{before:?}");
    m.eval_now_reading_logs();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let after = evaluations(&m);
    assert_eq!(after["logs"].0, before["logs"].0 + 1);
    assert_eq!(after["metrics"].0, before["metrics"].0);
    // Counted as the extra evaluation it is.
    assert_eq!((after["logs"].1, after["metrics"].1), (1, 0));
    m.stop().await;
}
