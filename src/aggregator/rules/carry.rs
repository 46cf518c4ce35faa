//! State carried over a reload, as Prometheus's `Group.CopyState`: a rule of the new
//! group takes the alerts and last-written series of the old group's rule with the
//! same name and labels (duplicates matched in order); the old rules left unmatched
//! have their series marked stale at the new group's next evaluation.

use super::group::{Group, Rule};
use std::collections::HashMap;

/// A rule's identity across reloads: its name and its labels as written.
fn identity(rule: &Rule) -> String {
    let (name, labels) = match rule {
        Rule::Alerting(r) => (&r.name, &r.labels),
        Rule::Recording(r) => (&r.name, &r.labels),
    };
    format!("{name}{labels:?}")
}

/// Moves `from`'s state into `to`.
pub fn copy_state(to: &mut Group, from: &mut Group) {
    to.evaluation_time = from.evaluation_time;
    to.last_evaluation = from.last_evaluation;
    to.last_eval_ts = from.last_eval_ts;
    let mut unmatched: HashMap<String, Vec<usize>> = HashMap::new();
    for (fi, (rule, _)) in from.rules.iter().enumerate() {
        unmatched.entry(identity(rule)).or_default().push(fi);
    }
    for (i, (rule, _)) in to.rules.iter_mut().enumerate() {
        let Some(list) = unmatched.get_mut(&identity(rule)).filter(|l| !l.is_empty()) else {
            continue;
        };
        let fi = list.remove(0);
        to.previous[i] = std::mem::take(&mut from.previous[fi]);
        if let (Rule::Alerting(new), Rule::Alerting(old)) = (rule, &mut from.rules[fi].0) {
            new.active.append(&mut old.active);
        }
    }
    to.stale_series = std::mem::take(&mut from.stale_series);
    for fi in unmatched.into_values().flatten() {
        to.stale_series.extend(from.previous[fi].drain());
    }
}
