//! Request parameters as Prometheus's API reads them: the form (URL query and, for a
//! form POST, the body, body first as Go's `Request.ParseForm`), timestamps (`parseTime`:
//! unix seconds with decimals or RFC 3339), durations (`parseDuration`: seconds with
//! decimals or `1h30m`), and `match[]` selectors. Pure functions over strings.

use crate::aggregator::model::METRIC_NAME;
use crate::civil::{days_from_civil, days_in_month};
use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr};

/// The decoded form: every `name=value` pair in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// From a URL-encoded form body (if any) and the URL's query string.
    pub fn parse(body: Option<&[u8]>, query: Option<&str>) -> Params {
        let body = body.unwrap_or_default();
        let query = query.unwrap_or_default().as_bytes();
        let pairs = form_urlencoded::parse(body)
            .chain(form_urlencoded::parse(query))
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        Params(pairs)
    }

    /// The first value of `name`, "" when absent (as `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name` (`match[]`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The form of a GET or a form POST (other bodies are ignored, as Go's `ParseForm`).
pub fn form(query: Option<String>, headers: &HeaderMap, body: &Bytes) -> Params {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    Params::parse(is_form.then_some(&body[..]), query.as_deref())
}

/// `parseTime`: milliseconds since the epoch from unix seconds (the fraction rounded to
/// milliseconds) or RFC 3339.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        return seconds_to_ms(f).ok_or_else(|| invalid_time(s));
    }
    rfc3339_ms(s).ok_or_else(|| invalid_time(s))
}

/// `parseTimeParam`: the time parameter `name`, or `default` when absent or empty.
pub fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, String> {
    match p.get(name) {
        "" => Ok(default),
        s => parse_time(s)
            .map_err(|e| invalid_param(name, &format!("Invalid time value for '{name}': {e}"))),
    }
}

fn invalid_time(s: &str) -> String {
    format!("cannot parse {s:?} to a valid timestamp")
}

/// Go's error wrapping in the API: `invalid parameter "time": <cause>`.
pub fn invalid_param(name: &str, cause: &str) -> String {
    format!("invalid parameter {name:?}: {cause}")
}

fn seconds_to_ms(f: f64) -> Option<i64> {
    // Beyond ±2^53 ms a float holds no millisecond precision; Go's int64 conversion of
    // such values is undefined behaviour, so refuse them.
    if !f.is_finite() || f.abs() > 9.0e12 {
        return None;
    }
    let whole = f.trunc();
    let frac = ((f - whole) * 1000.0).round();
    Some(whole as i64 * 1000 + frac as i64)
}

/// `parseDuration`: milliseconds from seconds with decimals or a Prometheus duration.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ms = f * 1000.0;
        if !ms.is_finite() || ms.abs() >= 9.2e15 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ms.trunc() as i64);
    }
    prometheus_duration_ms(s).ok_or_else(|| format!("cannot parse {s:?} to a valid duration"))
}

/// `model.ParseDuration`: `0`, or units y w d h m s ms, each at most once, in this order.
pub fn prometheus_duration_ms(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    if s == "0" {
        return Some(0);
    }
    let (mut rest, mut next_unit, mut total) = (s, 0, 0i64);
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let i = next_unit + UNITS[next_unit..].iter().position(|(u, _)| *u == unit)?;
        total = total.checked_add(n.checked_mul(UNITS[i].1)?)?;
        rest = &rest[unit_len..];
        next_unit = i + 1;
    }
    (!s.is_empty()).then_some(total)
}

/// RFC 3339 (`2015-07-01T20:10:51.781Z`, `...+02:00`) to milliseconds; the fraction
/// is truncated to milliseconds, as `timestamp.FromTime`.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let (secs, nanos) = rfc3339(s)?;
    Some(secs * 1000 + nanos / 1_000_000)
}

/// RFC 3339 to seconds since the epoch and the nanoseconds (0..1e9) within the second
/// (digits past the ninth are ignored, as Go's parser). Shared with the Loki API, whose
/// times are nanoseconds.
pub fn rfc3339(s: &str) -> Option<(i64, i64)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let (nanos, zone) = fraction(&s[19..])?;
    let offset = zone_offset_s(zone)?;
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset, nanos))
}

/// `.123456789` (optional) as nanoseconds, and what follows it.
fn fraction(s: &str) -> Option<(i64, &str)> {
    let Some(rest) = s.strip_prefix('.') else {
        return Some((0, s));
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let ns_digits = &rest[..digits.min(9)];
    let ns = ns_digits.parse::<i64>().ok()? * 10i64.pow(9 - ns_digits.len() as u32);
    Some((ns, &rest[digits..]))
}

fn zone_offset_s(z: &str) -> Option<i64> {
    if z == "Z" || z == "z" {
        return Some(0);
    }
    let b = z.as_bytes();
    if b.len() != 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
        return None;
    }
    let h: i64 = z[1..3].parse().ok()?;
    let m: i64 = z[4..6].parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    let sign = if b[0] == b'-' { -1 } else { 1 };
    Some(sign * (h * 3600 + m * 60))
}

/// `parseMatchersParam`: each `match[]` a series selector; every set must have one
/// matcher that does not match the empty string. A selector with `or` yields a set per
/// alternative.
pub fn matcher_sets(selectors: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    const EMPTY: &str = "match[] must contain at least one non-empty matcher";
    let mut sets = Vec::new();
    for s in selectors {
        // promql-parser refuses an all-empty selector itself, in its own words.
        let parsed = parser::parse(s).map_err(|e| {
            if e.contains("at least one non-empty matcher") {
                EMPTY.to_string()
            } else {
                e
            }
        })?;
        let Expr::VectorSelector(vs) = parsed else {
            return Err(format!("{s:?} is not a series selector"));
        };
        let mut base = vs.matchers.matchers;
        if let Some(name) = vs.name {
            base.push(Matcher::new(MatchOp::Equal, METRIC_NAME, &name));
        }
        if vs.matchers.or_matchers.is_empty() {
            sets.push(base);
            continue;
        }
        for alt in vs.matchers.or_matchers {
            sets.push(base.iter().cloned().chain(alt).collect());
        }
    }
    if sets.iter().any(|set| set.iter().all(|m| m.is_match(""))) {
        return Err(EMPTY.into());
    }
    Ok(sets)
}

#[cfg(test)]
mod tests;
