//! Restoring `for` state after a restart, as Prometheus's `RestoreForState`: for each
//! alert found active after the first evaluations, the last `ALERTS_FOR_STATE` sample
//! within the outage tolerance (default 1 h) gives when it became active and when the
//! server went down. An alert that had already fired stays as it is; one that had
//! less than the grace period (default 10 min) left pending fires a grace period from
//! now; otherwise its `active_at` moves forward by the time the server was down. Rules
//! whose `for` is shorter than the grace period are not restored (they just wait).

use super::alerting::AlertingRule;
use crate::aggregator::model::{is_stale, Querier};
use promql_parser::label::{MatchOp, Matcher};

/// Restore settings (Prometheus's `--rules.alert.*` flags).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestoreOptions {
    pub outage_tolerance_ms: i64,
    pub for_grace_period_ms: i64,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
        }
    }
}

/// Restores `rule`'s alerts' `active_at` at `ts` (ms) and marks it restored.
pub fn restore_for_state(rule: &mut AlertingRule, q: &dyn Querier, ts: i64, opts: RestoreOptions) {
    if rule.hold_ms < opts.for_grace_period_ms {
        rule.restored = true;
        return;
    }
    let mint = ts - opts.outage_tolerance_ms;
    let keys: Vec<_> = rule.active.keys().cloned().collect();
    for key in keys {
        let labels = rule.sample_labels(&rule.active[&key], "ALERTS_FOR_STATE", None);
        let matchers: Vec<Matcher> = labels
            .iter()
            .map(|(n, v)| Matcher::new(MatchOp::Equal, n, v))
            .collect();
        let series = match q.select(&matchers, mint, ts) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(alert = %rule.name, error = %e, "Failed to restore 'for' state.");
                continue;
            }
        };
        // The series with exactly these labels (others may carry more).
        let Some(last) = series
            .iter()
            .find(|s| s.labels.len() == labels.len())
            .and_then(|s| s.samples.last())
        else {
            continue;
        };
        if is_stale(last.v) {
            continue;
        }
        let a = rule.active.get_mut(&key).expect("key from the map");
        a.active_at = restored_active_at(last.t, last.v, rule.hold_ms, ts, opts);
    }
    rule.restored = true;
}

/// The new `active_at` (ms) from the last for-state sample at `t_ms` (value: active
/// since, in seconds), at restore time `ts`.
fn restored_active_at(t_ms: i64, v: f64, hold_ms: i64, ts: i64, opts: RestoreOptions) -> i64 {
    let down_at = t_ms.div_euclid(1000) * 1000;
    let active_at = (v as i64) * 1000;
    let remaining = hold_ms - (down_at - active_at);
    if remaining <= 0 {
        active_at
    } else if remaining < opts.for_grace_period_ms {
        ts + opts.for_grace_period_ms - hold_ms
    } else {
        active_at + (ts - down_at)
    }
}
