//! A dashboard run against the aggregator's APIs as Grafana runs it: its variables
//! resolved in order through the label-values endpoints, then every panel query through
//! `/api/v1/query_range` or `/loki/api/v1/query_range`.

use super::common::Server;
use super::model::{self, Dashboard, Lang, Variable};
use serde_json::Value;

/// GET `path` with `params` on the aggregator: the JSON body, after checking 200 and
/// `status: success`; an error names the request.
fn get(server: &Server, path: &str, params: &[(&str, String)]) -> Result<Value, String> {
    let resp = reqwest::blocking::Client::new()
        .get(server.url(path))
        .query(params)
        .send()
        .map_err(|e| format!("{path} {params:?}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    let v: Value =
        serde_json::from_str(&text).map_err(|_| format!("{path} {params:?}: {status} {text}"))?;
    if status != 200 || v["status"] != "success" {
        return Err(format!("{path} {params:?}: {status} {text}"));
    }
    Ok(v)
}

/// The first value of one label-values variable, given the values resolved before it.
fn first_value(
    server: &Server,
    d: &Dashboard,
    (selector, label): (&Option<String>, &str),
    before: &[(String, String)],
    range: &[(&str, String)],
) -> Result<String, String> {
    let mut params = range.to_vec();
    if let Some(s) = selector {
        let key = match d.lang {
            Lang::PromQL => "match[]",
            Lang::LogQL => "query",
        };
        params.push((key, model::substitute(s, before)));
    }
    let path = match d.lang {
        Lang::PromQL => format!("/api/v1/label/{label}/values"),
        Lang::LogQL => format!("/loki/api/v1/label/{label}/values"),
    };
    let body = get(server, &path, &params)?;
    let first = body["data"][0].as_str();
    Ok(first
        .ok_or_else(|| format!("no values: {body}"))?
        .to_string())
}

/// Resolves `d`'s variables in order, as Grafana does: each takes the first value its
/// label-values request answers; a text box its default.
fn resolve(
    server: &Server,
    d: &Dashboard,
    range: &[(&str, String)],
) -> Result<Vec<(String, String)>, String> {
    let mut values: Vec<(String, String)> = Vec::new();
    for v in &d.variables {
        let value = match v {
            Variable::Text { default, .. } => default.clone(),
            Variable::LabelValues {
                name,
                selector,
                label,
            } => first_value(server, d, (selector, label), &values, range)
                .map_err(|e| format!("{} ${name}: {e}", d.file))?,
        };
        values.push((v.name().to_string(), value));
    }
    Ok(values)
}

/// The query_range path and time parameters of `d`'s language for `[start_ms, end_ms]`.
fn range_of(d: &Dashboard, start_ms: i64, end_ms: i64) -> (&'static str, Vec<(&str, String)>) {
    match d.lang {
        Lang::PromQL => {
            let s = |ms: i64| (ms as f64 / 1e3).to_string();
            let range = vec![("start", s(start_ms)), ("end", s(end_ms))];
            ("/api/v1/query_range", range)
        }
        Lang::LogQL => {
            let ns = |ms: i64| (i128::from(ms) * 1_000_000).to_string();
            let range = vec![("start", ns(start_ms)), ("end", ns(end_ms))];
            ("/loki/api/v1/query_range", range)
        }
    }
}

/// Runs every panel query of `d` over `[start_ms, end_ms]`, variables resolved: what
/// failed (an error, or no data), one line each.
pub fn run_panels(server: &Server, d: &Dashboard, start_ms: i64, end_ms: i64) -> Vec<String> {
    let (path, range) = range_of(d, start_ms, end_ms);
    let values = match resolve(server, d, &range) {
        Ok(values) => values,
        Err(e) => return vec![e],
    };
    let mut failures = Vec::new();
    for (title, q) in &d.queries {
        let q = model::substitute(q, &values);
        let mut params = range.clone();
        params.push(("query", q.clone()));
        params.push(("step", "30".to_string()));
        params.push(("limit", "100".to_string()));
        match get(server, path, &params) {
            Ok(v)
                if v["data"]["result"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()) => {}
            Ok(v) => failures.push(format!("{} {title}: {q}: no data: {v}", d.file)),
            Err(e) => failures.push(format!("{} {title}: {e}", d.file)),
        }
    }
    failures
}
