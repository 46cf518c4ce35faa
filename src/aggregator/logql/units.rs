//! The value syntaxes LogQL reads: Prometheus durations for ranges (`5m`, `1h30m`,
//! `1d`), Go durations for label filters and `unwrap duration()` (`1.5s`, `300ms`,
//! `1h2m`), and byte sizes as go-humanize reads them (`20MB`, `1.5KiB`, `300`).
//! Pure functions; `None` means "not this syntax".

/// A Prometheus duration (integer parts, units ms s m h d w y) in nanoseconds.
pub fn prom_duration(s: &str) -> Option<i64> {
    const UNITS: &[(&str, i64)] = &[
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
        ("w", 604_800_000_000_000),
        ("y", 31_536_000_000_000_000),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, mult) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total = total.checked_add(n.checked_mul(*mult)?)?;
    }
    (!s.is_empty()).then_some(total)
}

/// A Go duration (`time.ParseDuration`: signed, fractional parts, units ns us µs ms s
/// m h; a bare `0` allowed) in seconds.
pub fn go_duration_secs(s: &str) -> Option<f64> {
    const UNITS: &[(&str, f64)] = &[
        ("ns", 1e-9),
        ("us", 1e-6),
        ("µs", 1e-6),
        ("μs", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
    ];
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num = rest
            .bytes()
            .position(|b| !(b.is_ascii_digit() || b == b'.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num].parse().ok()?;
        rest = &rest[num..];
        // Longest unit first: "ms" before "m".
        let (unit, mult) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        total += n * mult;
    }
    Some(if neg { -total } else { total })
}

/// A byte size as go-humanize's `ParseBytes` reads it: a number, optional spaces and
/// an optional case-insensitive unit (`b`, `kb`=1000, `kib`=1024, ... up to `eb`/`eib`;
/// `k`, `m` ... alone are the decimal units).
pub fn bytes(s: &str) -> Option<f64> {
    let s = s.trim();
    let num = s
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(s.len());
    let n: f64 = s[..num].replace(',', "").parse().ok()?;
    let unit = s[num..].trim_start().to_ascii_lowercase();
    let mult = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        "e" | "eb" => 1e18,
        "ei" | "eib" => 1024f64.powi(6),
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prom_durations() {
        assert_eq!(prom_duration("5m"), Some(300_000_000_000));
        assert_eq!(prom_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(prom_duration("250ms"), Some(250_000_000));
        assert_eq!(prom_duration("1d"), Some(86_400_000_000_000));
        for bad in ["", "5", "1.5m", "5x", "m", "99999999999999y"] {
            assert_eq!(prom_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_secs("1m30s"), Some(90.0));
        assert_eq!(go_duration_secs("1.5s"), Some(1.5));
        assert_eq!(go_duration_secs("300ms"), Some(0.3));
        assert_eq!(go_duration_secs("-2h"), Some(-7200.0));
        assert_eq!(go_duration_secs("0"), Some(0.0));
        assert!((go_duration_secs("10us").unwrap() - 1e-5).abs() < 1e-12);
        for bad in ["", "10", "1d", "s", "1.2.3s", "abc"] {
            assert_eq!(go_duration_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes("20MB"), Some(20e6));
        assert_eq!(bytes("1KiB"), Some(1024.0));
        assert_eq!(bytes("1.5 kb"), Some(1500.0));
        assert_eq!(bytes("300"), Some(300.0));
        assert_eq!(bytes("7b"), Some(7.0));
        for bad in ["", "MB", "5 parsecs", "1x"] {
            assert_eq!(bytes(bad), None, "{bad}");
        }
    }
}
