//! An alerting rule and its alerts' state machine, as Prometheus's `AlertingRule.Eval`:
//! each series of the expression is an alert (series labels without the name, plus the
//! rule's expanded labels, plus `alertname`), inactive → pending → firing once it has
//! been active for `for`; gone from the result, a firing alert keeps firing for
//! `keep_firing_for`, then resolves and is kept 15 min (so its resolution is re-sent);
//! a pending one is dropped. Once restored (see [`super::restore`]) each evaluation
//! yields the `ALERTS` and `ALERTS_FOR_STATE` samples of every active alert.

use super::query::{QuerySources, RuleExpr};
use super::template::{expand, TemplateData};
use crate::aggregator::model::{Labels, METRIC_NAME};
use std::collections::BTreeMap;

/// How long a resolved alert is kept (and re-sent): Prometheus's `resolvedRetention`.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of a rule (times in ms; `None` is Go's zero time).
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlert {
    pub state: AlertState,
    pub labels: Labels,
    pub annotations: Labels,
    pub value: f64,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

/// What templates see besides the series: the server's external labels and URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateEnv {
    pub external_labels: Labels,
    pub external_url: String,
}

#[derive(Debug)]
pub struct AlertingRule {
    pub name: String,
    pub expr: RuleExpr,
    pub hold_ms: i64,
    pub keep_firing_for_ms: i64,
    /// The rule's labels and annotations as written (templates).
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Alerts by their label set.
    pub active: BTreeMap<Labels, ActiveAlert>,
    /// Whether `for` state has been restored (until then no ALERTS samples are written).
    pub restored: bool,
}

impl AlertingRule {
    /// One evaluation at `ts`: the alerts updated, and the ALERTS / ALERTS_FOR_STATE
    /// samples (at `ts`) to append.
    pub fn eval(
        &mut self,
        src: QuerySources,
        ts: i64,
        env: &TemplateEnv,
        limit: usize,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let res = self.expr.eval(src, ts)?;
        let mut fresh: BTreeMap<Labels, ActiveAlert> = BTreeMap::new();
        for (series, value) in res {
            let a = self.new_alert(&series, value, ts, env);
            if fresh.insert(a.labels.clone(), a).is_some() {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
        }
        for (key, a) in &fresh {
            match self.active.get_mut(key) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations.clone();
                }
                _ => {
                    self.active.insert(key.clone(), a.clone());
                }
            }
        }
        let mut out = Vec::new();
        let mut active_pending = 0;
        let keys: Vec<Labels> = self.active.keys().cloned().collect();
        for key in keys {
            if !self.step(&key, fresh.contains_key(&key), ts) {
                continue;
            }
            active_pending += 1;
            if self.restored {
                let a = &self.active[&key];
                out.push((self.sample_labels(a, "ALERTS", Some(a.state)), 1.0));
                let for_state = a.active_at.div_euclid(1000) as f64;
                out.push((self.sample_labels(a, "ALERTS_FOR_STATE", None), for_state));
            }
        }
        if limit > 0 && active_pending > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {active_pending} alerts"
            ));
        }
        Ok(out)
    }

    /// Moves the alert at `key` on at `ts`; false when it is not active or pending now.
    fn step(&mut self, key: &Labels, in_result: bool, ts: i64) -> bool {
        let Some(a) = self.active.get_mut(key) else {
            return false;
        };
        if !in_result {
            let mut keep_firing = false;
            if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                let since = *a.keep_firing_since.get_or_insert(ts);
                keep_firing = ts - since < self.keep_firing_for_ms;
            }
            let expired = a
                .resolved_at
                .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS);
            let drop = a.state == AlertState::Pending || expired;
            if a.state != AlertState::Inactive && !keep_firing {
                a.state = AlertState::Inactive;
                a.resolved_at = Some(ts);
            }
            if drop {
                self.active.remove(key);
                return false;
            }
            if !keep_firing {
                return false;
            }
        } else {
            a.keep_firing_since = None;
        }
        if a.state == AlertState::Pending && ts - a.active_at >= self.hold_ms {
            a.state = AlertState::Firing;
            a.fired_at = Some(ts);
        }
        true
    }

    fn new_alert(&self, series: &Labels, value: f64, ts: i64, env: &TemplateEnv) -> ActiveAlert {
        let data = TemplateData {
            labels: series,
            value,
            external_labels: &env.external_labels,
            external_url: &env.external_url,
        };
        let run = |text: &str| {
            expand(text, &data).unwrap_or_else(|e| {
                tracing::warn!(alert = %self.name, error = %e, "Expanding alert template failed.");
                format!("<error expanding template: {e}>")
            })
        };
        let mut pairs: Vec<(String, String)> = series
            .iter()
            .filter(|(n, _)| *n != METRIC_NAME)
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        pairs.extend(self.labels.iter().map(|(n, v)| (n.clone(), run(v))));
        pairs.push(("alertname".into(), self.name.clone()));
        let annotations = self
            .annotations
            .iter()
            .map(|(n, v)| (n.clone(), run(v)))
            .collect();
        ActiveAlert {
            state: AlertState::Pending,
            labels: Labels::new(pairs),
            annotations: Labels::new(annotations),
            value,
            active_at: ts,
            fired_at: None,
            resolved_at: None,
            last_sent_at: None,
            valid_until: None,
            keep_firing_since: None,
        }
    }

    /// The rule's labels as written, overlaid with the alert's, named `metric`, with
    /// `alertstate` when given (Prometheus's `sample` / `forStateSample`).
    pub fn sample_labels(
        &self,
        a: &ActiveAlert,
        metric: &str,
        state: Option<AlertState>,
    ) -> Labels {
        let mut pairs: Vec<(String, String)> = self
            .labels
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        pairs.extend(a.labels.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        pairs.push((METRIC_NAME.into(), metric.into()));
        pairs.push(("alertname".into(), self.name.clone()));
        if let Some(s) = state {
            pairs.push(("alertstate".into(), s.as_str().into()));
        }
        Labels::new(pairs)
    }

    /// The rule's state for the API: its most severe alert's, or inactive.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }
}
