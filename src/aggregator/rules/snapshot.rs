//! A read-only picture of the rules for `/api/v1/rules` and `/api/v1/alerts`:
//! groups → rules → health, last error, last evaluation, duration, and the alerts
//! that are pending or firing (Prometheus's `ActiveAlerts`: resolved ones left out).

use super::alerting::{AlertState, AlertingRule};
use super::group::{Group, Health, Rule};
use crate::aggregator::model::Labels;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug)]
pub struct GroupSnapshot {
    pub name: String,
    pub file: String,
    pub interval_ms: i64,
    pub limit: usize,
    pub rules: Vec<RuleSnapshot>,
    pub evaluation_time: Duration,
    pub last_evaluation: Option<SystemTime>,
    /// Evaluations due so far, and those skipped because the loop was late
    /// (`prometheus_rule_group_iterations_total` / `_missed_total`); 0 outside a manager.
    pub iterations_scheduled: u64,
    pub iterations_missed: u64,
    /// Extra evaluations (after a scrape or a push), and wake-ups dropped because the
    /// group's next tick came first (`run::extra_at`); 0 outside a manager.
    pub iterations_extra: u64,
    pub extra_dropped: u64,
    /// Rule evaluations and failures since the group started.
    pub evaluations: u64,
    pub failures: u64,
}

#[derive(Clone, Debug)]
pub struct RuleSnapshot {
    pub name: String,
    /// The expression as Prometheus prints it.
    pub query: String,
    pub labels: BTreeMap<String, String>,
    pub health: Health,
    pub last_error: Option<String>,
    pub evaluation_time: Duration,
    pub last_evaluation: Option<SystemTime>,
    pub kind: RuleKindSnapshot,
}

#[derive(Clone, Debug)]
pub enum RuleKindSnapshot {
    Recording,
    Alerting {
        duration_ms: i64,
        keep_firing_for_ms: i64,
        annotations: BTreeMap<String, String>,
        /// The rule's state: its most severe alert's.
        state: AlertState,
        alerts: Vec<AlertSnapshot>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertSnapshot {
    pub labels: Labels,
    pub annotations: Labels,
    pub state: AlertState,
    pub active_at_ms: i64,
    pub value: f64,
    pub keep_firing_since_ms: Option<i64>,
}

impl GroupSnapshot {
    pub fn of(g: &Group) -> GroupSnapshot {
        GroupSnapshot {
            name: g.name().to_string(),
            file: g.file.clone(),
            interval_ms: g.interval_ms,
            limit: g.def.limit,
            rules: g.rules().map(|(r, s)| rule(r, s)).collect(),
            evaluation_time: g.evaluation_time,
            last_evaluation: g.last_evaluation,
            iterations_scheduled: 0,
            iterations_missed: 0,
            iterations_extra: 0,
            extra_dropped: 0,
            evaluations: g.evaluations,
            failures: g.failures,
        }
    }
}

fn rule(r: &Rule, s: &super::group::RuleStatus) -> RuleSnapshot {
    let (name, query, labels, kind) = match r {
        Rule::Recording(r) => (
            &r.name,
            r.expr.text(),
            &r.labels,
            RuleKindSnapshot::Recording,
        ),
        Rule::Alerting(r) => (&r.name, r.expr.text(), &r.labels, alerting(r)),
    };
    RuleSnapshot {
        name: name.clone(),
        query,
        labels: labels.clone(),
        health: s.health,
        last_error: s.last_error.clone(),
        evaluation_time: s.evaluation_time,
        last_evaluation: s.last_evaluation,
        kind,
    }
}

fn alerting(r: &AlertingRule) -> RuleKindSnapshot {
    let alerts = r
        .active
        .values()
        .filter(|a| a.state != AlertState::Inactive)
        .map(|a| AlertSnapshot {
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            state: a.state,
            active_at_ms: a.active_at,
            value: a.value,
            keep_firing_since_ms: a.keep_firing_since,
        })
        .collect();
    RuleKindSnapshot::Alerting {
        duration_ms: r.hold_ms,
        keep_firing_for_ms: r.keep_firing_for_ms,
        annotations: r.annotations.clone(),
        state: r.state(),
        alerts,
    }
}
