//! Managers on tokio's paused clock across a restart (the second restores `for` state
//! from what the first wrote) and across a reload that removes a group (its series go
//! stale two intervals later).

use super::fixture;
use crate::aggregator::rules::alerting::AlertState;
use crate::aggregator::rules::run::TokioClock;
use crate::aggregator::rules::schedule::eval_timestamp_ns;
use crate::aggregator::rules::snapshot::RuleKindSnapshot;
use crate::aggregator::rules::Manager;
use std::sync::Arc;
use std::time::Duration;

const BASE_NS: i64 = 1_700_000_000_000_000_000;
const MIN_NS: i64 = 60_000_000_000;
const SLOW: &str = "groups:\n- name: g\n  interval: 1m\n  rules:\n  - alert: Slow\n    expr: vector(1) > 0\n    for: 30m\n";

fn active(m: &Manager) -> (AlertState, i64) {
    let groups = m.snapshot();
    match &groups[0].rules[0].kind {
        RuleKindSnapshot::Alerting { alerts, .. } => (alerts[0].state, alerts[0].active_at_ms),
        RuleKindSnapshot::Recording => unreachable!(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_manager_restores_for_state_from_alerts_for_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.yml");
    std::fs::write(&path, SLOW).unwrap();
    let file = path.display().to_string();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let patterns = vec![file.clone()];

    let first = Manager::new(f.ctx.clone(), clock.clone(), patterns.clone());
    first.reload().await.unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
    let (state, began) = active(&first);
    assert_eq!(state, AlertState::Pending);
    first.stop().await;

    // Down for five minutes; the new server's first evaluation starts the alert afresh
    // and the restore after its second moves active_at back by what was pending.
    tokio::time::sleep(Duration::from_secs(300)).await;
    let second = Manager::new(f.ctx.clone(), clock, patterns);
    second.reload().await.unwrap();
    tokio::time::sleep(Duration::from_secs(180)).await;
    let slot1 = eval_timestamp_ns(&file, "g", MIN_NS, BASE_NS + 15 * MIN_NS) + MIN_NS;
    let restore_ms = (slot1 + MIN_NS) / 1_000_000;
    let written = f.samples("ALERTS_FOR_STATE", &[]);
    let (down_s, since_s) = written
        .iter()
        .rev()
        .find(|s| s.0 * 1000 < restore_ms - 60_000)
        .copied()
        .unwrap();
    assert_eq!(
        since_s as i64,
        began / 1000,
        "ALERTS_FOR_STATE holds when it became active"
    );
    let (state, active_at) = active(&second);
    assert_eq!(state, AlertState::Pending);
    // The restore runs at the clock's time just after the second slot: tokio's timers
    // wake on whole milliseconds, so up to 1 ms after it.
    let shift = active_at - (since_s as i64 * 1000 + (restore_ms - down_s * 1000));
    assert!((0..=1).contains(&shift), "{shift}");
    assert!(active_at < slot1 / 1_000_000, "earlier than a fresh start");
    second.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_removed_groups_series_go_stale_two_intervals_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yml");
    let group = |name: &str, record: &str| {
        format!("groups:\n- name: {name}\n  interval: 10s\n  rules:\n  - record: {record}\n    expr: vector(1)\n")
    };
    std::fs::write(&path, group("g", "old_one")).unwrap();
    let f = fixture();
    let clock = Arc::new(TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    });
    let m = Manager::new(f.ctx.clone(), clock, vec![path.display().to_string()]);
    m.reload().await.unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    std::fs::write(&path, group("h", "new_one")).unwrap();
    m.reload().await.unwrap();
    let at_reload = BASE_NS / 1_000_000_000 + 30;
    tokio::time::sleep(Duration::from_secs(19)).await;
    assert!(
        f.samples("old_one", &[]).iter().all(|s| !s.1.is_nan()),
        "not before two intervals"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let last = *f.samples("old_one", &[]).last().unwrap();
    assert!(last.1.is_nan() && last.0 == at_reload + 20, "{last:?}");
    assert!(!f.samples("new_one", &[]).is_empty());
    m.stop().await;
}

/// Tokio's clock plus a jump the test sets (a suspended VM, a stalled process).
struct JumpClock {
    inner: TokioClock,
    jump_ns: std::sync::atomic::AtomicI64,
}

impl crate::aggregator::rules::run::Clock for JumpClock {
    fn now_ns(&self) -> i64 {
        self.inner.now_ns() + self.jump_ns.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[tokio::test(start_paused = true)]
async fn a_late_tick_counts_the_missed_iterations_and_stays_on_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yml");
    let text =
        "groups:\n- name: g\n  interval: 10s\n  rules:\n  - record: one\n    expr: vector(1)\n";
    std::fs::write(&path, text).unwrap();
    let f = fixture();
    let inner = TokioClock {
        base_ns: BASE_NS,
        start: tokio::time::Instant::now(),
    };
    let clock = Arc::new(JumpClock {
        inner,
        jump_ns: Default::default(),
    });
    let m = Manager::new(
        f.ctx.clone(),
        clock.clone(),
        vec![path.display().to_string()],
    );
    m.reload().await.unwrap();
    tokio::time::sleep(Duration::from_secs(25)).await;
    let before = f.samples("one", &[]).len();
    clock
        .jump_ns
        .store(35_000_000_000, std::sync::atomic::Ordering::Relaxed);
    // Until just after the next tick (the one after it comes 5 s later).
    let now = BASE_NS + 25_000_000_000;
    let next =
        eval_timestamp_ns(&path.display().to_string(), "g", 10_000_000_000, now) + 10_000_000_000;
    tokio::time::sleep(Duration::from_nanos((next - now) as u64 + 1_000_000)).await;
    let ts: Vec<i64> = f.samples("one", &[]).iter().map(|s| s.0).collect();
    assert_eq!(ts.len(), before + 1);
    let gap = ts[before] - ts[before - 1];
    assert_eq!(gap, 40, "three slots skipped: {ts:?}");
    let g = &m.snapshot()[0];
    assert_eq!(g.iterations_missed, 3);
    assert_eq!(g.iterations_scheduled, before as u64 + 1 + 3);
    m.stop().await;
}
