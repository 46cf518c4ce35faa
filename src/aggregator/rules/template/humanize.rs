//! Prometheus's formatting functions for alert templates, with its exact outputs
//! (prometheus/prometheus `template/template.go`): `humanize` (SI prefixes, four
//! significant digits), `humanize1024`, `humanizeDuration`, `humanizeTimestamp`
//! (millisecond precision, Go's time format), the host name helpers, and Go's
//! one-to-one case mappings (`toUpper`, `toLower`, `title`).

use super::fmt::fmt_g;
use crate::civil::go_time;

/// `%.4g` of a number.
fn g4(v: f64) -> String {
    fmt_g(v, Some(4), false)
}

/// `humanize`: `1.235M`, `-1.2m`, `0`.
pub(super) fn si(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return g4(v);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", g4(v))
}

/// `humanize1024`: `1Mi`, `-2ki`; at most 1 in size unchanged.
pub(super) fn iec(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return g4(v);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// `humanizeDuration`: `1d 1h 1m 1s`, `-1m 15s`, `59.99s`, `1.5ms`.
pub(super) fn duration(mut v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let whole = go_int64(v);
        let (secs, mins) = (whole % 60, (whole / 60) % 60);
        let (hours, days) = ((whole / 3600) % 24, whole / 86_400);
        return match () {
            _ if days != 0 => format!("{sign}{days}d {hours}h {mins}m {secs}s"),
            _ if hours != 0 => format!("{sign}{hours}h {mins}m {secs}s"),
            _ if mins != 0 => format!("{sign}{mins}m {secs}s"),
            _ => format!("{sign}{}s", g4(v)),
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// 2^63: the first float64 out of int64's range.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Go's `int64(v)` on amd64: out of range gives the minimum (Rust saturates).
fn go_int64(v: f64) -> i64 {
    if !(-TWO_POW_63..TWO_POW_63).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Prometheus's `floatToTime`: seconds to nanoseconds, cut to milliseconds (its
/// `model.Time`); `None` for NaN and infinities.
fn float_to_ns(v: f64) -> Result<Option<i64>, String> {
    if !v.is_finite() {
        return Ok(None);
    }
    let ns = v * 1e9;
    if !(-TWO_POW_63..TWO_POW_63).contains(&ns) {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            fmt_g(v, None, false)
        ));
    }
    Ok(Some((ns as i64) / 1_000_000 * 1_000_000))
}

/// `humanizeTimestamp`: `2015-06-23 13:19:44.128 +0000 UTC`.
pub(super) fn timestamp(v: f64) -> Result<String, String> {
    Ok(float_to_ns(v)?.map_or_else(|| g4(v), go_time))
}

/// `toTime`, printed (the only use a template can make of a time here).
pub(super) fn to_time(v: f64) -> Result<String, String> {
    float_to_ns(v)?
        .map(go_time)
        .ok_or_else(|| format!("{} cannot be represented as a time", fmt_g(v, None, false)))
}

/// Go's `strings.ToUpper`: each character's simple (one-to-one) mapping, so `ß`
/// stays `ß` where Rust's full mapping writes `SS`.
pub(super) fn upper(s: &str) -> String {
    s.chars().map(|c| one_char(c, c.to_uppercase())).collect()
}

/// Go's `strings.ToLower`, by simple mappings as [`upper`].
pub(super) fn lower(s: &str) -> String {
    s.chars().map(|c| one_char(c, c.to_lowercase())).collect()
}

/// The mapping when it is one character, else `c` unchanged.
fn one_char(c: char, mut mapped: impl Iterator<Item = char>) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

/// Go's `strings.Title`: upper-cases each letter that follows a separator (anything
/// but a letter, digit or `_` in ASCII; white space beyond it).
pub(super) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_sep = true;
    for c in s.chars() {
        if after_sep {
            out.push(one_char(c, c.to_uppercase()));
        } else {
            out.push(c);
        }
        after_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        };
    }
    out
}

/// Go's `net.SplitHostPort`.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, rest) = inner.split_once(']')?;
        let port = rest.strip_prefix(':')?;
        return (!port.contains([':', '[', ']'])).then_some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    let clean = !host.contains([':', '[', ']']) && !port.contains(['[', ']']);
    clean.then_some((host, port))
}

/// `stripPort`: `host:9100` → `host`, `[::1]:80` → `::1`; otherwise unchanged.
pub(super) fn strip_port(s: &str) -> String {
    split_host_port(s).map_or(s, |(h, _)| h).to_string()
}

/// `stripDomain`: `node1.example.com:9100` → `node1:9100`; IP addresses unchanged.
pub(super) fn strip_domain(s: &str) -> String {
    let (host, port) = split_host_port(s).unwrap_or((s, ""));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return s.to_string();
    }
    let short = host.split('.').next().unwrap_or(host);
    match (port.is_empty(), short.contains(':')) {
        (true, _) => short.to_string(),
        (false, true) => format!("[{short}]:{port}"),
        (false, false) => format!("{short}:{port}"),
    }
}

/// `pathPrefix`: the external URL's path.
pub(super) fn path_prefix(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("").to_string()
}

/// `parseDuration`: a Prometheus duration in seconds.
pub(super) fn parse_duration(s: &str) -> Result<f64, String> {
    crate::aggregator::http::params::prometheus_duration_ms(s)
        .map(|ms| ms as f64 / 1000.0)
        .ok_or_else(|| format!("not a valid duration string: {s:?}"))
}
