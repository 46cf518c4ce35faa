//! Loki's query parameters (`pkg/loghttp/params.go`): timestamps are nanoseconds, or
//! seconds when ten digits or fewer, or float seconds (the fraction rounded to ms), or
//! RFC 3339; `start`/`end` default to the last hour (`since` widens it). Pure.

use crate::aggregator::http::params::{prometheus_duration_ms, rfc3339, Params};

/// Loki's `defaultSince`.
pub const DEFAULT_SINCE_NS: i64 = 3600 * 1_000_000_000;

/// `parseTimestamp`: nanoseconds since the epoch.
pub fn parse_timestamp(value: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {value:?} as a timestamp");
    if value.contains('.') {
        if let Ok(f) = value.parse::<f64>() {
            return float_seconds(f).ok_or_else(bad);
        }
    }
    match value.parse::<i64>() {
        Ok(n) if value.len() <= 10 => n.checked_mul(1_000_000_000).ok_or_else(bad),
        Ok(n) => Ok(n),
        Err(_) => {
            let (s, ns) = rfc3339(value).ok_or_else(bad)?;
            s.checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(ns))
                .ok_or_else(bad)
        }
    }
}

fn float_seconds(f: f64) -> Option<i64> {
    if !f.is_finite() || f.abs() > 9.2e9 {
        return None;
    }
    let whole = f.trunc();
    let ms = ((f - whole) * 1000.0).round() as i64;
    Some(whole as i64 * 1_000_000_000 + ms * 1_000_000)
}

/// `bounds`: `(start, end)` in ns, end defaulting to `now` and start to an hour (or
/// `since`) before the end.
pub fn bounds(p: &Params, now: i64) -> Result<(i64, i64), String> {
    let end = match p.get("end") {
        "" => now,
        v => parse_timestamp(v).map_err(|e| format!("invalid end: {e}"))?,
    };
    let since = match p.get("since") {
        "" => DEFAULT_SINCE_NS,
        v => prometheus_duration_ms(v)
            .and_then(|ms| ms.checked_mul(1_000_000))
            .ok_or_else(|| format!("invalid since: cannot parse {v:?} as a duration"))?,
    };
    let start = match p.get("start") {
        "" => end.saturating_sub(since),
        v => parse_timestamp(v).map_err(|e| format!("invalid start: {e}"))?,
    };
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_loki_reads_them() {
        let cases: &[(&str, i64)] = &[
            ("1700000000", 1_700_000_000_000_000_000),
            ("1700000000000000000", 1_700_000_000_000_000_000),
            ("1700000000.5", 1_700_000_000_500_000_000),
            ("1700000000.1234", 1_700_000_000_123_000_000),
            ("2023-11-14T22:13:20.000000001Z", 1_700_000_000_000_000_001),
            ("2023-11-15T00:13:20+02:00", 1_700_000_000_000_000_000),
            ("0", 0),
        ];
        for (v, want) in cases {
            assert_eq!(parse_timestamp(v), Ok(*want), "{v}");
        }
        for bad in [
            "",
            "x",
            "1e400.0",
            "99999999999.0e99",
            "2023-13-01T00:00:00Z",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_bounds_are_the_last_hour() {
        let now = 1_700_000_000_000_000_000;
        let p = Params::parse(None, Some(""));
        assert_eq!(bounds(&p, now), Ok((now - DEFAULT_SINCE_NS, now)));
        let p = Params::parse(None, Some("since=5m&end=1700000000"));
        assert_eq!(bounds(&p, 0), Ok((now - 300_000_000_000, now)));
        let p = Params::parse(None, Some("start=1&end=2"));
        assert_eq!(bounds(&p, now), Ok((1_000_000_000, 2_000_000_000)));
        let p = Params::parse(None, Some("start=yesterday"));
        assert!(bounds(&p, now).unwrap_err().contains("invalid start"));
    }
}
