//! Sending alerts: the [`AlertSink`] the notifier implements, the [`Alert`] as sent,
//! and Prometheus's rules for when: a firing alert is sent at once, then again once a
//! resend delay has passed since the last send; a resolved one as soon as it resolves
//! and then on the same cadence while it is kept (15 min); a pending one never.
//! `ends_at` is the resolution time, or for a firing alert `valid_until`: the send
//! time plus 4 × max(resend delay, group interval) (two missed evaluations or sends
//! tolerated), as Prometheus computes it.

use super::alerting::{ActiveAlert, AlertState};
use crate::aggregator::model::Labels;

/// An alert as handed to the notifier (Alertmanager's fields; times in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    /// When it started firing.
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: String,
}

/// Where a group's alerts go (the notifier's queue). Called during an evaluation, with
/// the group locked: it must not block (queue and return).
pub trait AlertSink: Send + Sync {
    fn send(&self, alerts: Vec<Alert>);
}

/// Prometheus's `needsSending`.
pub fn needs_sending(a: &ActiveAlert, ts: i64, resend_delay_ms: i64) -> bool {
    if a.state == AlertState::Pending {
        return false;
    }
    let last = a.last_sent_at;
    if a.resolved_at.is_some_and(|r| last.is_none_or(|l| r > l)) {
        return true;
    }
    last.is_none_or(|l| l + resend_delay_ms < ts)
}

/// Marks each alert that needs sending at `ts` as sent and returns them as sent.
pub fn due<'a>(
    alerts: impl Iterator<Item = &'a mut ActiveAlert>,
    ts: i64,
    resend_delay_ms: i64,
    interval_ms: i64,
    generator_url: &str,
) -> Vec<Alert> {
    let mut out = Vec::new();
    for a in alerts {
        if !needs_sending(a, ts, resend_delay_ms) {
            continue;
        }
        a.last_sent_at = Some(ts);
        a.valid_until = Some(ts + 4 * resend_delay_ms.max(interval_ms));
        out.push(Alert {
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.fired_at.unwrap_or(0),
            ends_at: a.resolved_at.or(a.valid_until).unwrap_or(ts),
            generator_url: generator_url.to_string(),
        });
    }
    out
}

/// `externalURL + /graph?g0.expr=<expr>&g0.tab=1`, as Prometheus links a rule.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    format!(
        "{external_url}/graph?g0.expr={}&g0.tab=1",
        super::template::urlquery(expr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_url_escapes_as_go_does() {
        assert_eq!(
            generator_url("http://p:9090", r#"up{job="a b"} == 0"#),
            "http://p:9090/graph?g0.expr=up%7Bjob%3D%22a+b%22%7D+%3D%3D+0&g0.tab=1"
        );
    }
}
