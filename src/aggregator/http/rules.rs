//! `/api/v1/rules`, `/api/v1/alerts` and `POST /-/reload` as Prometheus serves them. The
//! rule manager is behind [`RuleSource`]: it hands over a snapshot of its groups as
//! [`GroupView`]s and these handlers write Prometheus's JSON (times RFC 3339 with Go's
//! trailing zeros trimmed and Go's zero time before a first evaluation; an alert's value
//! as Go's `%e`; durations in seconds).

use super::error::json_response;
use super::params::Params;
use super::targets::object;
use super::{json, Api};
use crate::aggregator::model::Labels;
use crate::aggregator::notify::alert::{rfc3339_nanos, GO_ZERO_TIME};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The rule manager as the API sees it.
pub trait RuleSource: Send + Sync {
    /// Every loaded group, in file order.
    fn groups(&self) -> Vec<GroupView>;
    /// Re-reads the rule files; on error the old rules keep running.
    fn reload(&self) -> ReloadFuture<'_>;
}

/// What [`RuleSource::reload`] returns: done when the new rules run (or were refused).
pub type ReloadFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// One rule group.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub name: String,
    pub file: String,
    pub interval: Duration,
    pub limit: u64,
    pub evaluation_time: Duration,
    pub last_evaluation: Option<SystemTime>,
    pub rules: Vec<RuleView>,
}

/// One rule of a group.
#[derive(Debug, Clone)]
pub struct RuleView {
    pub name: String,
    /// The expression as the engine prints it.
    pub query: String,
    pub labels: Labels,
    /// `None`: never evaluated ("unknown"); `Some(None)`: "ok"; `Some(Some(e))`: "err".
    pub last_error: Option<Option<String>>,
    pub evaluation_time: Duration,
    pub last_evaluation: Option<SystemTime>,
    pub kind: RuleKind,
}

/// What differs between recording and alerting rules.
#[derive(Debug, Clone)]
pub enum RuleKind {
    Recording,
    Alerting {
        duration: Duration,
        keep_firing_for: Duration,
        annotations: Labels,
        alerts: Vec<AlertView>,
    },
}

/// One active (pending or firing) alert.
#[derive(Debug, Clone)]
pub struct AlertView {
    pub labels: Labels,
    pub annotations: Labels,
    pub firing: bool,
    pub active_at: SystemTime,
    pub keep_firing_since: Option<SystemTime>,
    pub value: f64,
}

/// `GET /api/v1/rules[?type=alert|record]`.
pub async fn rules(State(api): State<Arc<Api>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(None, query.as_deref());
    let (alerts, records) = match params.get("type") {
        "" => (true, true),
        "alert" => (true, false),
        "record" => (false, true),
        other => {
            let msg = format!("not supported value {other:?}");
            return json_response(StatusCode::BAD_REQUEST, json::error("bad_data", &msg));
        }
    };
    let groups: Vec<Value> = source_groups(&api)
        .iter()
        .map(|g| group_json(g, alerts, records))
        .collect();
    let body = json!({"status": "success", "data": {"groups": groups}});
    json_response(StatusCode::OK, body.to_string())
}

/// `GET /api/v1/alerts`: every pending or firing alert of every rule.
pub async fn alerts(State(api): State<Arc<Api>>) -> Response {
    let alerts: Vec<Value> = source_groups(&api)
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| match &r.kind {
            RuleKind::Alerting { alerts, .. } => Some(alerts),
            RuleKind::Recording => None,
        })
        .flatten()
        .map(alert_json)
        .collect();
    let body = json!({"status": "success", "data": {"alerts": alerts}});
    json_response(StatusCode::OK, body.to_string())
}

/// `POST /-/reload`: 200 when the files loaded, 500 with the reason when not.
pub async fn reload(State(api): State<Arc<Api>>) -> Response {
    let Some(source) = api.rules.clone() else {
        return text(StatusCode::OK, String::new());
    };
    match source.reload().await {
        Ok(()) => text(StatusCode::OK, String::new()),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r
}

fn source_groups(api: &Api) -> Vec<GroupView> {
    api.rules.as_ref().map(|s| s.groups()).unwrap_or_default()
}

fn group_json(g: &GroupView, alerts: bool, records: bool) -> Value {
    let rules: Vec<Value> = g
        .rules
        .iter()
        .filter(|r| match r.kind {
            RuleKind::Alerting { .. } => alerts,
            RuleKind::Recording => records,
        })
        .map(rule_json)
        .collect();
    json!({
        "name": g.name,
        "file": g.file,
        "rules": rules,
        "interval": secs(g.interval),
        "limit": g.limit,
        "evaluationTime": secs(g.evaluation_time),
        "lastEvaluation": go_time(g.last_evaluation),
    })
}

fn rule_json(r: &RuleView) -> Value {
    let mut m = Map::new();
    if let RuleKind::Alerting {
        duration,
        keep_firing_for,
        annotations,
        alerts,
    } = &r.kind
    {
        m.insert("state".into(), rule_state(alerts).into());
        m.insert("name".into(), r.name.clone().into());
        m.insert("query".into(), r.query.clone().into());
        m.insert("duration".into(), secs(*duration));
        m.insert("keepFiringFor".into(), secs(*keep_firing_for));
        m.insert("labels".into(), object(&r.labels));
        m.insert("annotations".into(), object(annotations));
        m.insert("alerts".into(), alerts.iter().map(alert_json).collect());
    } else {
        m.insert("name".into(), r.name.clone().into());
        m.insert("query".into(), r.query.clone().into());
        if !r.labels.is_empty() {
            m.insert("labels".into(), object(&r.labels));
        }
    }
    let (health, error) = match &r.last_error {
        None => ("unknown", None),
        Some(None) => ("ok", None),
        Some(Some(e)) => ("err", Some(e)),
    };
    m.insert("health".into(), health.into());
    if let Some(e) = error {
        m.insert("lastError".into(), e.clone().into());
    }
    m.insert("evaluationTime".into(), secs(r.evaluation_time));
    m.insert("lastEvaluation".into(), go_time(r.last_evaluation).into());
    let kind = match r.kind {
        RuleKind::Alerting { .. } => "alerting",
        RuleKind::Recording => "recording",
    };
    m.insert("type".into(), kind.into());
    Value::Object(m)
}

/// A rule's state: its most advanced alert's.
fn rule_state(alerts: &[AlertView]) -> &'static str {
    if alerts.iter().any(|a| a.firing) {
        "firing"
    } else if alerts.is_empty() {
        "inactive"
    } else {
        "pending"
    }
}

fn alert_json(a: &AlertView) -> Value {
    let mut m = Map::new();
    m.insert("labels".into(), object(&a.labels));
    m.insert("annotations".into(), object(&a.annotations));
    let state = if a.firing { "firing" } else { "pending" };
    m.insert("state".into(), state.into());
    m.insert("activeAt".into(), go_time(Some(a.active_at)).into());
    if let Some(since) = a.keep_firing_since {
        m.insert("keepFiringSince".into(), go_time(Some(since)).into());
    }
    m.insert("value".into(), go_e(a.value).into());
    Value::Object(m)
}

/// Seconds as Go's JSON writes a float64: whole numbers without a fraction (`3600`).
fn secs(d: Duration) -> Value {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 && s < 1e15 {
        Value::from(s as u64)
    } else {
        Value::from(s)
    }
}

/// Go's `time.Time` in JSON (the notifier's spelling); Go's zero time when there is none.
pub fn go_time(t: Option<SystemTime>) -> String {
    t.map_or_else(|| GO_ZERO_TIME.to_owned(), rfc3339_nanos)
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: the shortest digits that round-trip,
/// an exponent of at least two digits with its sign (`1e+00`, `2.5e-07`).
pub fn go_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').expect("`{:e}` has an exponent");
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests;
