//! The rule manager as the HTTP API sees it ([`RuleSource`]): its snapshot as the
//! rules and alerts endpoints' views, and `/-/reload`.

use super::alerting::AlertState;
use super::group::Health;
use super::manager::Manager;
use super::snapshot::{AlertSnapshot, GroupSnapshot, RuleKindSnapshot, RuleSnapshot};
use crate::aggregator::http::rules::{
    AlertView, GroupView, ReloadFuture, RuleKind, RuleSource, RuleView,
};
use crate::aggregator::model::Labels;
use crate::aggregator::notify::alert::from_millis;
use std::collections::BTreeMap;
use std::time::Duration;

impl RuleSource for Manager {
    fn groups(&self) -> Vec<GroupView> {
        self.snapshot().into_iter().map(group).collect()
    }

    fn reload(&self) -> ReloadFuture<'_> {
        Box::pin(async move { Manager::reload(self).await.map_err(|e| e.to_string()) })
    }
}

fn group(g: GroupSnapshot) -> GroupView {
    GroupView {
        name: g.name,
        file: g.file,
        interval: ms(g.interval_ms),
        limit: g.limit as u64,
        evaluation_time: g.evaluation_time,
        last_evaluation: g.last_evaluation,
        rules: g.rules.into_iter().map(rule).collect(),
    }
}

fn rule(r: RuleSnapshot) -> RuleView {
    let last_error = match r.health {
        Health::Unknown => None,
        Health::Good => Some(None),
        Health::Bad => Some(Some(r.last_error.unwrap_or_default())),
    };
    let kind = match r.kind {
        RuleKindSnapshot::Recording => RuleKind::Recording,
        RuleKindSnapshot::Alerting {
            duration_ms,
            keep_firing_for_ms,
            annotations,
            alerts,
            ..
        } => RuleKind::Alerting {
            duration: ms(duration_ms),
            keep_firing_for: ms(keep_firing_for_ms),
            annotations: labels(&annotations),
            alerts: alerts.into_iter().map(alert).collect(),
        },
    };
    RuleView {
        name: r.name,
        query: r.query,
        labels: labels(&r.labels),
        last_error,
        evaluation_time: r.evaluation_time,
        last_evaluation: r.last_evaluation,
        kind,
    }
}

fn alert(a: AlertSnapshot) -> AlertView {
    AlertView {
        labels: a.labels,
        annotations: a.annotations,
        firing: a.state == AlertState::Firing,
        active_at: from_millis(a.active_at_ms),
        keep_firing_since: a.keep_firing_since_ms.map(from_millis),
        value: a.value,
    }
}

fn labels(m: &BTreeMap<String, String>) -> Labels {
    let pairs: Vec<(&str, &str)> = m.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    Labels::from_pairs(&pairs)
}

fn ms(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
