//! `for` state restored after a restart from ALERTS_FOR_STATE, in the three cases
//! Prometheus distinguishes, with explicit timestamps.

use super::fixture;
use crate::aggregator::rules::group::Rule;
use crate::aggregator::rules::AlertState;

const RULE: &str =
    "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: m > 10\n    for: 30m\n";
const MIN: i64 = 60;

/// Runs a server from `start` to `down` (s) with the alert active from `start`, then a
/// restarted one evaluating at `up` and `up + 60` and restoring at `up + 60`;
/// returns the restored alert's `active_at` (s) and its state after an evaluation at
/// `probe`.
fn restart(start: i64, down: i64, up: i64, probe: i64) -> (i64, AlertState) {
    let f = fixture();
    f.put(&[("__name__", "m")], (start..=probe).step_by(30), 20.0);
    let mut before = f.group(RULE, false);
    for t in (start..=down).step_by(60) {
        before.eval(t * 1000);
    }
    let mut after = f.group(RULE, true);
    after.eval(up * 1000);
    after.eval((up + 60) * 1000);
    assert_eq!(
        f.samples("ALERTS_FOR_STATE", &[]).last().map(|s| s.0),
        Some(down),
        "nothing is written before the restore"
    );
    after.restore_for_state((up + 60) * 1000);
    let active_at = match &after.rules().next().unwrap().0 {
        Rule::Alerting(r) => r.active.values().next().unwrap().active_at / 1000,
        Rule::Recording(_) => unreachable!(),
    };
    after.eval(probe * 1000);
    let state = match &after.rules().next().unwrap().0 {
        Rule::Alerting(r) => r.active.values().next().unwrap().state,
        Rule::Recording(_) => unreachable!(),
    };
    (active_at, state)
}

#[test]
fn a_long_pending_alert_is_shifted_by_the_downtime() {
    // Active 10 min before going down, down 5 min: 20 min left, more than the grace
    // period, so active_at moves forward by the downtime (measured at the restore).
    let (start, down, up) = (1_000_020, 1_000_020 + 10 * MIN, 1_000_020 + 15 * MIN);
    let restored_at = up + 60;
    let (active_at, state) = restart(start, down, up, up + 20 * MIN);
    assert_eq!(active_at, start + (restored_at - down));
    assert_eq!(state, AlertState::Pending, "30 min pending not reached yet");
    let (_, later) = restart(start, down, up, active_at + 30 * MIN);
    assert_eq!(later, AlertState::Firing);
}

#[test]
fn an_alert_close_to_firing_gets_the_grace_period() {
    // 25 of 30 min spent: 5 min left < 10 min grace, so it fires 10 min after restore.
    let (start, down, up) = (1_000_020, 1_000_020 + 25 * MIN, 1_000_020 + 40 * MIN);
    let restored_at = up + 60;
    let (active_at, state) = restart(start, down, up, restored_at + 10 * MIN);
    assert_eq!(active_at, restored_at + 10 * MIN - 30 * MIN);
    assert_eq!(state, AlertState::Firing);
}

#[test]
fn an_alert_that_had_fired_fires_again_at_once() {
    let (start, down, up) = (1_000_020, 1_000_020 + 40 * MIN, 1_000_020 + 45 * MIN);
    let (active_at, state) = restart(start, down, up, up + 2 * MIN);
    assert_eq!(active_at, start);
    assert_eq!(state, AlertState::Firing);
}

#[test]
fn an_outage_longer_than_the_tolerance_starts_afresh() {
    let (start, down, up) = (1_000_020, 1_000_020 + 10 * MIN, 1_000_020 + 75 * MIN);
    let (active_at, _) = restart(start, down, up, up + 2 * MIN);
    assert_eq!(active_at, up, "no for-state sample within the last hour");
}
