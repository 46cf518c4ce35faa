//! Structured fields lifted from an application's log line: level, message, trace id
//! and span id. The line itself is never rewritten: it is shipped as it is, and the
//! lifted fields travel beside it (Loki structured metadata, ECS `log.level`, ...).
//!
//! Two shapes are recognized:
//! - a JSON object (first non-space byte `{`, and the whole line parses): keys as zap,
//!   logrus, slog, pino, bunyan, Python's json loggers, ECS, Serilog CLEF and the OTel
//!   log data model write them (see `json.rs` for the list);
//! - logfmt-ish lines (logrus' and slog's text handlers): the level only, from a
//!   `level=` or `lvl=` pair among the first few `key=value` pairs, before `msg=`.
//!
//! Bounded: JSON lines longer than `max_bytes` are not parsed (counted as too long);
//! logfmt scanning stops after [`LOGFMT_MAX_PAIRS`] pairs. Fields borrow from the line
//! unless their JSON text had escapes.
//!
//! The pipeline lifts from the redacted line (see `redact.rs`), so a lifted message can
//! never carry a secret the shipped line lost.

mod json;
mod level;

pub use level::Level;

use std::borrow::Cow;

/// The default `max_bytes`: JSON lines longer than this are shipped unparsed.
pub const DEFAULT_MAX_LIFT_BYTES: usize = 64 * 1024;

/// How many leading `key=value` pairs are searched for a logfmt level.
pub const LOGFMT_MAX_PAIRS: usize = 8;

/// What was recognized in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Neither JSON nor a logfmt level: nothing lifted.
    Plain,
    Json,
    Logfmt,
    /// Looked like JSON (`{`) but did not parse, or nested past serde_json's limit.
    InvalidJson,
    /// Looked like JSON but is longer than `max_bytes`: not parsed.
    TooLong,
}

/// The lifted fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    pub level: Option<Level>,
    pub message: Option<Cow<'a, str>>,
    pub trace_id: Option<Cow<'a, str>>,
    pub span_id: Option<Cow<'a, str>>,
    /// A level key was present but its value is not a known level (it is left out).
    pub unknown_level: bool,
}

/// Counters for `/metrics` (a snapshot).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AppLogStats {
    pub lines: u64,
    pub json: u64,
    pub logfmt: u64,
    pub invalid_json: u64,
    pub too_long: u64,
    pub unknown_level: u64,
}

impl AppLogStats {
    pub fn count(&mut self, shape: Shape, fields: &Fields) {
        self.lines += 1;
        match shape {
            Shape::Plain => {}
            Shape::Json => self.json += 1,
            Shape::Logfmt => self.logfmt += 1,
            Shape::InvalidJson => self.invalid_json += 1,
            Shape::TooLong => self.too_long += 1,
        }
        self.unknown_level += u64::from(fields.unknown_level);
    }
}

/// Lifts the structured fields of one message's text.
pub fn lift(text: &str, max_bytes: usize) -> (Shape, Fields<'_>) {
    let body = text.trim_start();
    if !body.starts_with('{') {
        return match logfmt_level(body) {
            Some(value) => (Shape::Logfmt, level_fields(Level::from_name(value))),
            None => (Shape::Plain, Fields::default()),
        };
    }
    if text.len() > max_bytes {
        return (Shape::TooLong, Fields::default());
    }
    match json::parse(body) {
        Ok(raw) => (Shape::Json, from_raw(raw)),
        Err(_) => (Shape::InvalidJson, Fields::default()),
    }
}

fn level_fields<'a>(level: Option<Level>) -> Fields<'a> {
    Fields {
        level,
        unknown_level: level.is_none(),
        ..Fields::default()
    }
}

fn from_raw(raw: json::Raw<'_>) -> Fields<'_> {
    let level = raw.level.map(|v| match v {
        json::Scalar::Str(s) => Level::from_name(&s),
        json::Scalar::Num(n) => Level::from_number(n),
        json::Scalar::Other => None,
    });
    Fields {
        level: level.flatten(),
        message: raw.message,
        trace_id: raw.trace_id,
        span_id: raw.span_id,
        unknown_level: level == Some(None),
    }
}

/// The value of a `level=` or `lvl=` pair among the line's first `key=value` pairs.
/// Stops at the first token that is not a pair (not logfmt) or at `msg=` (what follows
/// is the message, whose text may contain `level=`).
fn logfmt_level(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..LOGFMT_MAX_PAIRS {
        rest = rest.trim_start_matches(' ');
        // A key is what comes before the first `=`, with no space or quote in it: found
        // without scanning a long prose line to its end.
        let end = memchr::memchr3(b'=', b' ', b'"', rest.as_bytes())?;
        if end == 0 || rest.as_bytes()[end] != b'=' {
            return None;
        }
        let (key, after) = (&rest[..end], &rest[end + 1..]);
        let (value, after) = logfmt_value(after)?;
        match key {
            "level" | "lvl" => return Some(value),
            "msg" => return None,
            _ => rest = after,
        }
    }
    None
}

/// Splits a value (bare up to a space, or quoted without escapes) from what follows.
fn logfmt_value(s: &str) -> Option<(&str, &str)> {
    match s.strip_prefix('"') {
        Some(quoted) => {
            let end = quoted.find(['"', '\\'])?;
            (quoted.as_bytes()[end] == b'"').then(|| (&quoted[..end], &quoted[end + 1..]))
        }
        None => Some(s.split_once(' ').unwrap_or((s, ""))),
    }
}

#[cfg(test)]
mod tests;
