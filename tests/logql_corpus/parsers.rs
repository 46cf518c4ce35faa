//! The oracle's own field extraction, written for the corpus's lines and nothing more:
//! logfmt by hand, JSON through `serde_json` flattened as Loki documents it, nginx and
//! CoreDNS lines by splitting, Go durations and byte sizes by hand. None of it calls
//! `nodepulse::aggregator::logql`.

use crate::data::Labels;
use serde_json::Value;

/// A line on its way through the reference pipeline.
#[derive(Clone, Debug)]
pub struct Line {
    pub ts: i64,
    /// The stream's labels, untouched (parsers rename clashes against these).
    pub stream: Labels,
    pub labels: Labels,
    pub line: String,
}

impl Line {
    pub fn get(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    /// A parsed label: `name_extracted` when the stream already has `name` (Loki's
    /// docs, "Parser expression": "the label will be suffixed with _extracted").
    pub fn extract(&mut self, name: &str, value: &str) {
        let name = if self.stream.contains_key(name) {
            format!("{name}_extracted")
        } else {
            name.to_string()
        };
        self.labels.insert(name, value.to_string());
    }

    pub fn set_error(&mut self, error: &str) {
        self.labels.insert("__error__".into(), error.into());
    }

    pub fn has_error(&self) -> bool {
        self.labels.contains_key("__error__")
    }
}

/// `| logfmt`: `k=v` and `k="quoted value"` pairs (the corpus has no escapes); a
/// standalone key (`tick`) has an empty value, which Loki drops unless `--keep-empty`
/// (Loki's docs, "logfmt").
pub fn logfmt(mut l: Line) -> Line {
    let text = l.line.clone();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find(['=', ' ']).unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = &rest[key_end..];
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            (value, rest) = match after.strip_prefix('"') {
                Some(q) => q.split_once('"').unwrap_or((q, "")),
                None => after.split_once(' ').unwrap_or((after, "")),
            };
        }
        if !value.is_empty() {
            l.extract(key, value);
        }
        rest = rest.trim_start();
    }
    l
}

/// `| json`: every string, number and boolean of the object, nested keys joined by
/// `_`, arrays and nulls skipped (grafana/loki `pkg/logql/log/parser.go`,
/// `JSONParser.parseObject`), names sanitised (Loki's docs, "Parser expression": only
/// letters, digits, `_` and `:`). A line that is not a JSON object gets
/// `__error__="JSONParserErr"` (the corpus's bad lines fail at their first byte, so
/// no label is set before the error).
pub fn json(mut l: Line) -> Line {
    match serde_json::from_str::<Value>(&l.line) {
        Ok(Value::Object(map)) => {
            let mut out = Vec::new();
            flatten("", &Value::Object(map), &mut out);
            for (k, v) in out {
                l.extract(&k, &v);
            }
        }
        _ => {
            l.set_error("JSONParserErr");
            l.labels.insert("__error_details__".into(), "?".into());
        }
    }
    l
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = sanitize(k);
                let name = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}_{key}")
                };
                flatten(&name, v, out);
            }
        }
        Value::Array(_) => {}
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn sanitize(k: &str) -> String {
    k.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// An nginx line's fields: ip, ts, method, path, proto, status, bytes, agent, latency.
pub fn nginx(line: &str) -> Option<Vec<(&'static str, String)>> {
    let (ip, rest) = line.split_once(" - - [")?;
    let (ts, rest) = rest.split_once("] \"")?;
    let (request, rest) = rest.split_once("\" ")?;
    let mut req = request.split(' ');
    let (method, path, proto) = (req.next()?, req.next()?, req.next()?);
    let (status, rest) = rest.split_once(' ')?;
    let (bytes, rest) = rest.split_once(" \"-\" \"")?;
    let (agent, latency) = rest.split_once("\" ")?;
    let fields = [
        ("ip", ip),
        ("ts", ts),
        ("method", method),
        ("path", path),
        ("proto", proto),
        ("status", status),
        ("bytes", bytes),
        ("agent", agent),
        ("latency", latency),
    ];
    Some(fields.iter().map(|(n, v)| (*n, v.to_string())).collect())
}

/// A CoreDNS-like line's fields: level, qtype, name, rcode, dur.
pub fn dns(line: &str) -> Option<Vec<(&'static str, String)>> {
    let (level, rest) = line.strip_prefix('[')?.split_once("] ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [qtype, name, rcode, dur] = parts[..] else {
        return None;
    };
    let fields = [
        ("level", level),
        ("qtype", qtype),
        ("name", name),
        ("rcode", rcode),
        ("dur", dur),
    ];
    Some(fields.iter().map(|(n, v)| (*n, v.to_string())).collect())
}

/// A Go duration in seconds: `12ms`, `1.5s`, `250us`, `1m2.5s`.
pub fn go_duration(s: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 6] = [
        ("ms", 1e-3),
        ("us", 1e-6),
        ("ns", 1e-9),
        ("h", 3600.0),
        ("m", 60.0),
        ("s", 1.0),
    ];
    let mut rest = s;
    let mut total = 0.0;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let (unit, scale) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        total += n * scale;
        rest = &rest[unit.len()..];
    }
    (!s.is_empty()).then_some(total)
}

/// A byte size as go-humanize's `ParseBytes` reads it: `KB` = 1000, `KiB` = 1024.
pub fn bytes(s: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 5] = [
        ("KiB", 1024.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("B", 1.0),
        ("", 1.0),
    ];
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let n: f64 = s[..end].parse().ok()?;
    let (_, scale) = UNITS.iter().find(|(u, _)| &s[end..] == *u)?;
    Some(n * scale)
}
