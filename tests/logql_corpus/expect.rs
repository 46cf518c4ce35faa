//! What a query should give, in one shape for both sides: the oracle builds it, Loki's
//! JSON answer is decoded into it, and the two are compared (series by labels, points
//! by time, values within 1e-9 relative).

use crate::data::{Labels, S};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// `streams`: each result stream's labels and `(ts ns, line)` in direction order.
    Streams(Vec<(Labels, Vec<(i64, String)>)>),
    /// `matrix`: each series' `(step ns, value)` points.
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
    /// `vector`: each series' value at the query's time.
    Vector(Vec<(Labels, f64)>),
    Scalar(f64),
    /// A refusal: the status and a part of the message.
    Error(u16, String),
}

impl Expected {
    /// Series in label order, so the comparison does not depend on result order.
    pub fn sorted(mut self) -> Self {
        match &mut self {
            Expected::Streams(s) => s.sort_by(|a, b| a.0.cmp(&b.0)),
            Expected::Matrix(m) => m.sort_by(|a, b| a.0.cmp(&b.0)),
            Expected::Vector(v) => v.sort_by(|a, b| a.0.cmp(&b.0)),
            _ => {}
        }
        self
    }

    /// Whether `got` (decoded from the server) matches this expectation.
    pub fn matches(&self, got: &Expected) -> bool {
        match (self, got) {
            (Expected::Matrix(a), Expected::Matrix(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        x.0 == y.0
                            && x.1.len() == y.1.len()
                            && x.1
                                .iter()
                                .zip(&y.1)
                                .all(|(p, q)| p.0 == q.0 && close(p.1, q.1))
                    })
            }
            (Expected::Vector(a), Expected::Vector(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && close(x.1, y.1))
            }
            (Expected::Scalar(a), Expected::Scalar(b)) => close(*a, *b),
            (Expected::Error(s, part), Expected::Error(t, body)) => {
                s == t && body.contains(part.as_str())
            }
            (a, b) => a == b,
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The server's answer: (status, body) ─▶ the same shape.
pub fn decode(status: u16, body: &str) -> Expected {
    if status != 200 {
        return Expected::Error(status, body.to_string());
    }
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Expected::Error(999, format!("not JSON ({e}): {body}")),
    };
    let data = &v["data"];
    let result = &data["result"];
    let list = || result.as_array().cloned().unwrap_or_default();
    match data["resultType"].as_str() {
        Some("streams") => Expected::Streams(list().iter().map(stream).collect()),
        Some("matrix") => Expected::Matrix(list().iter().map(series).collect()),
        Some("vector") => Expected::Vector(
            list()
                .iter()
                .map(|r| (labels(&r["metric"]), point(&r["value"]).1))
                .collect(),
        ),
        Some("scalar") => Expected::Scalar(point(result).1),
        other => Expected::Error(999, format!("resultType {other:?}: {body}")),
    }
    .sorted()
}

fn labels(v: &Value) -> Labels {
    let map = v.as_object().cloned().unwrap_or_default();
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or("?").to_string()))
        .collect()
}

fn stream(r: &Value) -> (Labels, Vec<(i64, String)>) {
    let values = r["values"].as_array().cloned().unwrap_or_default();
    let entries = values
        .iter()
        .map(|p| {
            let ts = p[0].as_str().and_then(|t| t.parse().ok()).unwrap_or(-1);
            (ts, p[1].as_str().unwrap_or("?").to_string())
        })
        .collect();
    (labels(&r["stream"]), entries)
}

fn series(r: &Value) -> (Labels, Vec<(i64, f64)>) {
    let values = r["values"].as_array().cloned().unwrap_or_default();
    (labels(&r["metric"]), values.iter().map(point).collect())
}

/// `[1767225600.5, "3"]` ─▶ (ns, value): seconds with up to millisecond precision.
fn point(p: &Value) -> (i64, f64) {
    let secs = p[0].as_f64().unwrap_or(f64::NAN);
    let ts = (secs * 1000.0).round() as i64 * (S / 1000);
    let value = p[1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    (ts, value)
}
