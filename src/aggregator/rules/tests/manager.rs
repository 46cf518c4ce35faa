//! The manager on tokio's paused clock: groups run at Prometheus's evaluation
//! timestamps, an extra evaluation on demand, reloads that keep alert state, and a bad
//! file rejected with its line while the old rules keep running.

use super::fixture;
use crate::aggregator::rules::alerting::AlertState;
use crate::aggregator::rules::run::TokioClock;
use crate::aggregator::rules::schedule::eval_timestamp_ns;
use crate::aggregator::rules::snapshot::{GroupSnapshot, RuleKindSnapshot};
use crate::aggregator::rules::Manager;
use std::sync::Arc;
use std::time::Duration;

const BASE_NS: i64 = 1_700_000_000_000_000_000;
const TEN_S: i64 = 10_000_000_000;

const V1: &str = "groups:\n- name: g\n  interval: 10s\n  rules:\n  - alert: Always\n    expr: vector(1) > 0\n    for: 30s\n";
const V2: &str = "groups:\n- name: g\n  interval: 10s\n  rules:\n  - record: one\n    expr: vector(1)\n  - alert: Always\n    expr: vector(1) > 0\n    for: 30s\n";
const BAD: &str = "groups:\n- name: h\n  rules:\n  - alert: X\n    expr: sum(\n";

fn alert_of(groups: &[GroupSnapshot]) -> (AlertState, i64) {
    let rule = groups[0]
        .rules
        .iter()
        .find(|r| r.name == "Always")
        .expect("rule");
    match &rule.kind {
        RuleKindSnapshot::Alerting { alerts, .. } => (alerts[0].state, alerts[0].active_at_ms),
        RuleKindSnapshot::Recording => unreachable!(),
    }
}

async fn advance(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn groups_run_on_their_slots_reload_keeps_state_and_a_bad_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yml");
    std::fs::write(&path, V1).unwrap();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let pattern = format!("{}/*.yml", dir.path().display());
    let m = Manager::new(f.ctx.clone(), clock, vec![pattern]);
    m.reload().await.expect("load");
    advance(60).await;

    let (state, active_at) = alert_of(&m.snapshot());
    assert_eq!(state, AlertState::Firing);
    let file = path.display().to_string();
    let first_slot = eval_timestamp_ns(&file, "g", TEN_S, BASE_NS) + TEN_S;
    assert_eq!(
        active_at,
        first_slot / 1_000_000,
        "the first evaluation is at the group's next slot"
    );
    let sent = f.sink.take();
    assert_eq!(sent.len(), 1, "sent once, when it fired");

    // Every evaluation timestamp is a slot: first_slot + k * interval.
    let ts: Vec<i64> = f
        .samples("ALERTS_FOR_STATE", &[])
        .iter()
        .map(|s| s.0)
        .collect();
    assert!(!ts.is_empty());
    for (k, t) in ts.iter().enumerate() {
        // ALERTS are written from the restore on (after the second evaluation).
        assert_eq!(*t, (first_slot + (k as i64 + 2) * TEN_S) / 1_000_000_000);
    }

    // A changed group restarts, carrying the alert over by name and labels.
    std::fs::write(&path, V2).unwrap();
    m.reload().await.expect("reload");
    assert_eq!(alert_of(&m.snapshot()), (AlertState::Firing, active_at));
    advance(20).await;
    assert_eq!(alert_of(&m.snapshot()), (AlertState::Firing, active_at));
    assert!(f
        .sink
        .take()
        .iter()
        .all(|b| b.iter().all(|a| a.starts_at == sent[0][0].starts_at)));
    assert!(!f.samples("one", &[]).is_empty());

    // A bad file: refused with its line; the old rules keep running.
    std::fs::write(dir.path().join("bad.yml"), BAD).unwrap();
    let err = m.reload().await.unwrap_err().to_string();
    assert!(
        err.contains("bad.yml: 5:11: group \"h\", rule 1, \"X\": could not parse expression"),
        "{err}"
    );
    let before = f.samples("one", &[]).len();
    advance(30).await;
    assert_eq!(f.samples("one", &[]).len(), before + 3);
    assert_eq!(m.snapshot().len(), 1);

    // An extra evaluation between slots, at the current time.
    advance(3).await;
    m.eval_now();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let last = *f.samples("one", &[]).last().unwrap();
    let now_s = (BASE_NS / 1_000_000_000) + 60 + 20 + 30 + 3;
    assert_eq!(last.0, now_s);
    m.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_scrape_triggers_only_the_groups_that_read_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let text = "groups:\n- name: ups\n  interval: 1m\n  rules:\n  - record: ups\n    expr: count(up) or vector(0)\n- name: loads\n  interval: 1m\n  rules:\n  - record: loads\n    expr: count(node_load1) or vector(0)\n";
    std::fs::write(dir.path().join("r.yml"), text).unwrap();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let m = Manager::new(
        f.ctx.clone(),
        clock,
        vec![format!("{}/r.yml", dir.path().display())],
    );
    m.reload().await.expect("load");
    advance(61).await;
    advance(2).await;
    let (ups, loads) = (f.samples("ups", &[]).len(), f.samples("loads", &[]).len());
    m.eval_now_reading(&|name| name == "up");
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(f.samples("ups", &[]).len(), ups + 1);
    assert_eq!(f.samples("loads", &[]).len(), loads);
    m.stop().await;
}

#[tokio::test(start_paused = true)]
async fn new_patterns_with_a_bad_file_keep_the_old_patterns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yml"), V1).unwrap();
    std::fs::write(dir.path().join("bad.yaml"), BAD).unwrap();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let d = dir.path().display();
    let m = Manager::new(f.ctx.clone(), clock, vec![format!("{d}/*.yml")]);
    m.reload().await.expect("load");
    let err = m
        .update(vec![format!("{d}/*.yaml")], None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bad.yaml: 5:11: "), "{err}");
    m.reload().await.expect("the old patterns stay");
    assert_eq!(m.snapshot()[0].file, format!("{d}/a.yml"));
    m.update(vec![format!("{d}/none/*.yml")], None)
        .await
        .expect("no files: no rules");
    assert!(m.snapshot().is_empty());
    m.stop().await;
}

/// A reloaded configuration's options (the global evaluation interval, the external
/// labels) rebuild every group, which keeps its alerts' state; templates see the new
/// labels.
#[tokio::test(start_paused = true)]
async fn new_options_rebuild_the_groups_and_keep_their_alerts() {
    const NO_INTERVAL: &str = "groups:\n- name: g\n  rules:\n  - alert: Always\n    expr: vector(1) > 0\n    annotations:\n      where: '{{ $externalLabels.cluster }}'\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yml"), NO_INTERVAL).unwrap();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let patterns = vec![format!("{}/*.yml", dir.path().display())];
    let m = Manager::new(f.ctx.clone(), clock, patterns.clone());
    m.reload().await.expect("load");
    advance(130).await;
    let (state, active_at) = alert_of(&m.snapshot());
    assert_eq!(state, AlertState::Firing);
    assert_eq!(m.snapshot()[0].interval_ms, f.ctx.opts.default_interval_ms);

    let mut opts = f.ctx.opts.clone();
    opts.default_interval_ms = 20_000;
    opts.env.external_labels = crate::aggregator::model::Labels::from_pairs(&[("cluster", "b")]);
    m.update(patterns, Some(opts)).await.expect("new options");
    advance(40).await;
    let groups = m.snapshot();
    assert_eq!(groups[0].interval_ms, 20_000, "the new global interval");
    assert_eq!(
        alert_of(&groups),
        (AlertState::Firing, active_at),
        "state carried"
    );
    let RuleKindSnapshot::Alerting { alerts, .. } = &groups[0].rules[0].kind else {
        unreachable!()
    };
    assert_eq!(alerts[0].annotations.get("where"), Some("b"));
    m.stop().await;
}
