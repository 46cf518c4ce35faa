//! Alertmanager's API v2 request body: the JSON array of `PostableAlert`s Prometheus
//! POSTs to `/api/v2/alerts` (prometheus/prometheus `notifier/util.go`,
//! `alertsToOpenAPIAlerts`): `annotations`, `endsAt`, `startsAt`, `generatorURL`,
//! `labels`, with go-openapi's millisecond times. An alert without an end sends no
//! `endsAt`, so Alertmanager applies its `resolve_timeout`.

use super::alert::{rfc3339_millis, Alert};
use crate::aggregator::model::Labels;
use crate::aggregator::scrape::relabel::{self, RelabelConfig};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::sync::Arc;

/// The path Prometheus appends to an Alertmanager's URL and `path_prefix`.
pub const API_V2_PATH: &str = "/api/v2/alerts";

/// Labels as a JSON object, names in order (Go sorts a map's keys when encoding).
pub(super) struct LabelSet<'a>(pub &'a Labels);

impl Serialize for LabelSet<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Postable<'a> {
    annotations: LabelSet<'a>,
    #[serde(rename = "endsAt", skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    labels: LabelSet<'a>,
}

/// The body of one `POST /api/v2/alerts` for `alerts`.
pub fn body(alerts: &[Arc<Alert>]) -> Vec<u8> {
    let postable: Vec<Postable> = alerts
        .iter()
        .map(|a| Postable {
            annotations: LabelSet(&a.annotations),
            ends_at: a.ends_at.map(rfc3339_millis),
            starts_at: rfc3339_millis(a.starts_at),
            generator_url: &a.generator_url,
            labels: LabelSet(&a.labels),
        })
        .collect();
    // Strings and maps of strings only: encoding cannot fail.
    serde_json::to_vec(&postable).unwrap_or_default()
}

/// An Alertmanager's URL as Prometheus builds it from a target: `scheme://target`,
/// then `path_prefix` (without its trailing `/`), then [`API_V2_PATH`].
pub fn url(scheme: &str, target: &str, path_prefix: &str) -> String {
    format!("{scheme}://{target}{}", alerts_path(path_prefix))
}

/// `path_prefix` (without its trailing `/`, with a leading one), then [`API_V2_PATH`]:
/// Prometheus's `__alerts_path__`.
pub fn alerts_path(path_prefix: &str) -> String {
    let prefix = path_prefix.trim_end_matches('/');
    let slash = if prefix.is_empty() || prefix.starts_with('/') {
        ""
    } else {
        "/"
    };
    format!("{slash}{prefix}{API_V2_PATH}")
}

/// An Alertmanager's URL from its labels (a static target's `__address__`, or a
/// discovered label set), as Prometheus builds it: `__scheme__` and `__alerts_path__`
/// from the entry, then the entry's `relabel_configs`, then `scheme://address` and the
/// path. `Ok(None)` when a rule drops it; an error when what is left is no
/// `host:port` address or no URL (a static target's refuses the configuration, a
/// discovered one is skipped).
pub fn relabelled(
    mut labels: Vec<(String, String)>,
    scheme: &str,
    path_prefix: &str,
    rules: &[RelabelConfig],
) -> Result<Option<String>, String> {
    labels.push(("__scheme__".into(), scheme.into()));
    labels.push(("__alerts_path__".into(), alerts_path(path_prefix)));
    let Some(out) = relabel::process(labels, rules) else {
        return Ok(None);
    };
    let get = |name: &str| {
        let found = out.iter().find(|(n, _)| n == name);
        found.map_or(String::new(), |(_, v)| v.clone())
    };
    let (address, scheme, path) = (
        get("__address__"),
        get("__scheme__"),
        get("__alerts_path__"),
    );
    if address.is_empty() || address.contains('/') {
        return Err(format!("target {address:?} is not host:port"));
    }
    let url = format!("{scheme}://{address}{path}");
    reqwest::Url::parse(&url).map_err(|e| format!("target {address:?}: {e}"))?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::notify::alert::from_millis;

    fn alert(ends_at: Option<i64>) -> Arc<Alert> {
        Arc::new(Alert {
            labels: Labels::from_pairs(&[("severity", "page"), ("alertname", "Down")]),
            annotations: Labels::from_pairs(&[("summary", "it is \"down\"")]),
            starts_at: from_millis(1_700_000_000_000),
            ends_at: ends_at.map(from_millis),
            generator_url: "http://agg:9201/graph?g0.expr=up".into(),
        })
    }

    #[test]
    fn the_body_prometheus_sends() {
        let text = String::from_utf8(body(&[alert(Some(1_700_000_060_500))])).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"[{"annotations":{"summary":"it is \"down\""},"#,
                r#""endsAt":"2023-11-14T22:14:20.500Z","startsAt":"2023-11-14T22:13:20.000Z","#,
                r#""generatorURL":"http://agg:9201/graph?g0.expr=up","#,
                r#""labels":{"alertname":"Down","severity":"page"}}]"#
            )
        );
    }

    #[test]
    fn an_open_alert_sends_no_end() {
        let v: serde_json::Value = serde_json::from_slice(&body(&[alert(None)])).unwrap();
        assert!(v[0].get("endsAt").is_none());
        assert_eq!(body(&[]), b"[]");
    }

    #[test]
    fn urls_as_prometheus_builds_them() {
        let cases = [
            ("http", "am:9093", "/", "http://am:9093/api/v2/alerts"),
            ("http", "am:9093", "", "http://am:9093/api/v2/alerts"),
            ("https", "am", "/am/", "https://am/am/api/v2/alerts"),
            ("http", "am:1", "prefix", "http://am:1/prefix/api/v2/alerts"),
        ];
        for (scheme, target, prefix, want) in cases {
            assert_eq!(url(scheme, target, prefix), want, "{prefix:?}");
        }
    }
}
