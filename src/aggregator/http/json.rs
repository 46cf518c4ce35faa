//! The API's JSON, written by hand to match Prometheus byte for byte where clients look:
//! the `{"status":...,"data":...}` envelope, the error envelope, timestamps as unix
//! seconds with the milliseconds Prometheus writes (`jsonutil.MarshalTimestamp`) and
//! values as strings in Go's `strconv.FormatFloat(v, 'f', -1, 64)` form.

use crate::aggregator::model::{Labels, Sample, Series};
use crate::aggregator::promql::{InstantSample, Value};
use std::fmt::Write;

/// A sample value as Prometheus prints it: `NaN`, `+Inf`, `-Inf`, else the shortest
/// decimal that round-trips, never in exponent form (Rust's `Display` for f64 is exactly
/// that, as Go's 'f' with precision -1).
pub fn format_value(v: f64) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

/// [`format_value`] appended to `out` (no allocation per point in a matrix).
pub fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative()) {
        // Whole numbers (counters, buckets, byte gauges) through itoa: the same digits.
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Milliseconds as seconds: `1435781451.781`, `1435781451`, `1435781451.050`.
pub fn write_timestamp(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let t = t.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(t / 1000));
    if t % 1000 != 0 {
        let _ = write!(out, ".{:03}", t % 1000);
    }
}

/// A JSON string literal. Label names and values rarely need escaping: those go
/// through as they are, the others through serde_json.
pub fn write_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("a string serializes"));
    }
}

/// `["a","b"]`.
pub fn write_strings<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

/// `{"__name__":"up","job":"a"}`.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, n);
        out.push(':');
        write_str(out, v);
    }
    out.push('}');
}

/// `[<seconds>,"<value>"]`.
fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push_str(",\"");
    write_value(out, v);
    out.push_str("\"]");
}

fn write_instant(out: &mut String, s: &InstantSample) {
    out.push_str("{\"metric\":");
    write_labels(out, &s.labels);
    out.push_str(",\"value\":");
    write_point(out, s.t, s.v);
    out.push('}');
}

fn write_series(out: &mut String, s: &Series) {
    out.push_str("{\"metric\":");
    write_labels(out, &s.labels);
    out.push_str(",\"values\":[");
    for (i, Sample { t, v }) in s.samples.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_point(out, *t, *v);
    }
    out.push_str("]}");
}

fn write_list<T>(out: &mut String, items: &[T], each: fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// A query result's `data`: `{"resultType":"vector","result":[...]}`.
pub fn query_data(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    let kind = match value {
        Value::Scalar { .. } => "scalar",
        Value::String { .. } => "string",
        Value::Vector(_) => "vector",
        Value::Matrix(_) => "matrix",
    };
    let _ = write!(out, "{{\"resultType\":\"{kind}\",\"result\":");
    match value {
        Value::Scalar { t, v } => write_point(&mut out, *t, *v),
        Value::String { t, s } => {
            out.push('[');
            write_timestamp(&mut out, *t);
            out.push(',');
            write_str(&mut out, s);
            out.push(']');
        }
        Value::Vector(v) => write_list(&mut out, v, write_instant),
        Value::Matrix(m) => write_list(&mut out, m, write_series),
    }
    out.push('}');
    out
}

/// `[{"__name__":...},...]`: the series endpoint's data.
pub fn label_sets(sets: &[Labels]) -> String {
    let mut out = String::new();
    write_list(&mut out, sets, write_labels);
    out
}

/// The success envelope around `data` (already JSON).
pub fn success(data: &str) -> String {
    format!("{{\"status\":\"success\",\"data\":{data}}}")
}

/// The error envelope.
pub fn error(error_type: &str, message: &str) -> String {
    let mut out = String::from("{\"status\":\"error\",\"errorType\":");
    write_str(&mut out, error_type);
    out.push_str(",\"error\":");
    write_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests;
