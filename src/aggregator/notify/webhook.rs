//! Alertmanager's webhook payload, version 4 (prometheus/alertmanager
//! `notify/webhook`, `template.Data`), so that receivers written for Alertmanager work
//! unchanged. A batch is split into groups by `group_by` (Alertmanager's route
//! grouping, `...` for every label); each group is one POST whose `groupKey` is the root
//! route's (`{}:{alertname="X"}`). As Alertmanager does when it flushes a group, a
//! firing alert's `endsAt` is Go's zero time.

use super::alert::{fingerprint, rfc3339_nanos, Alert, Status, GO_ZERO_TIME};
use super::alertmanager::LabelSet;
use crate::aggregator::logql::ast::quote;
use crate::aggregator::model::Labels;
use serde::Serialize;
use std::sync::Arc;
use std::time::SystemTime;

/// Which labels make a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by: ['...']`: every label (one group per alert).
    All,
    /// These labels (an alert without one of them groups as if it were absent).
    Labels(Vec<String>),
}

impl Default for GroupBy {
    /// Alertmanager's usual `group_by: [alertname]`.
    fn default() -> Self {
        GroupBy::Labels(vec!["alertname".into()])
    }
}

impl GroupBy {
    /// The labels of `alert` that name its group.
    fn labels_of(&self, alert: &Alert) -> Labels {
        match self {
            GroupBy::All => alert.labels.clone(),
            GroupBy::Labels(names) => alert.labels.filtered(|n| names.iter().any(|g| g == n)),
        }
    }
}

/// One webhook POST: its group key (for logs) and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub group_key: String,
    pub alerts: usize,
    pub body: Vec<u8>,
}

/// What every payload of one webhook shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    pub name: String,
    pub external_url: String,
    pub group_by: GroupBy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    receiver: String,
    status: &'static str,
    alerts: Vec<AlertData<'a>>,
    group_labels: LabelSet<'a>,
    common_labels: LabelSet<'a>,
    common_annotations: LabelSet<'a>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    group_key: String,
    truncated_alerts: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertData<'a> {
    status: &'static str,
    labels: LabelSet<'a>,
    annotations: LabelSet<'a>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

impl Receiver {
    /// The notifications for `batch` at `now`: one per group, groups in order of first
    /// appearance, alerts in batch order.
    pub fn notifications(&self, batch: &[Arc<Alert>], now: SystemTime) -> Vec<Notification> {
        let mut groups: Vec<(Labels, Vec<&Alert>)> = Vec::new();
        for alert in batch {
            let key = self.group_by.labels_of(alert);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(alert),
                None => groups.push((key, vec![alert])),
            }
        }
        groups
            .iter()
            .map(|(labels, members)| self.notification(labels, members, now))
            .collect()
    }

    fn notification(&self, group: &Labels, alerts: &[&Alert], now: SystemTime) -> Notification {
        let common_labels = common(alerts.iter().map(|a| &a.labels));
        let common_annotations = common(alerts.iter().map(|a| &a.annotations));
        let firing = alerts.iter().any(|a| a.status_at(now) == Status::Firing);
        let group_key = group_key(group);
        let payload = Payload {
            receiver: quote_meta(&self.name),
            status: if firing { "firing" } else { "resolved" },
            alerts: alerts.iter().map(|a| alert_data(a, now)).collect(),
            group_labels: LabelSet(group),
            common_labels: LabelSet(&common_labels),
            common_annotations: LabelSet(&common_annotations),
            external_url: &self.external_url,
            version: "4",
            group_key: group_key.clone(),
            truncated_alerts: 0,
        };
        Notification {
            group_key,
            alerts: alerts.len(),
            body: serde_json::to_vec(&payload).unwrap_or_default(),
        }
    }
}

fn alert_data<'a>(a: &'a Alert, now: SystemTime) -> AlertData<'a> {
    let status = a.status_at(now);
    let ends_at = match (status, a.ends_at) {
        (Status::Resolved, Some(end)) => rfc3339_nanos(end),
        _ => GO_ZERO_TIME.to_owned(),
    };
    AlertData {
        status: status.as_str(),
        labels: LabelSet(&a.labels),
        annotations: LabelSet(&a.annotations),
        starts_at: rfc3339_nanos(a.starts_at),
        ends_at,
        generator_url: &a.generator_url,
        fingerprint: fingerprint(&a.labels),
    }
}

/// The pairs every set shares (Alertmanager's `commonLabels`).
fn common<'a>(mut sets: impl Iterator<Item = &'a Labels>) -> Labels {
    let Some(first) = sets.next() else {
        return Labels::default();
    };
    let rest: Vec<&Labels> = sets.collect();
    first.filtered(|n| {
        let v = first.get(n);
        rest.iter().all(|s| s.get(n) == v)
    })
}

/// The root route's group key: `{}:` and the group's labels as prometheus/common's
/// `LabelSet.String()` prints them (`{a="1", b="2"}`).
fn group_key(group: &Labels) -> String {
    let pairs: Vec<String> = group
        .iter()
        .map(|(n, v)| format!("{n}={}", quote(v)))
        .collect();
    format!("{{}}:{{{}}}", pairs.join(", "))
}

/// Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver's name.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
