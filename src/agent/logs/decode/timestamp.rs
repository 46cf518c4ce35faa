//! RFC 3339 timestamps as Go's `time.RFC3339Nano` writes them (containerd, CRI-O and
//! docker all do): `2024-01-01T00:00:00.123456789Z`, `2024-01-01T00:00:00Z`,
//! `2024-01-01T02:00:00.5+02:00`. Parsed to nanoseconds since the Unix epoch without
//! allocating; kubelet reads them with Go's `time.Parse(time.RFC3339Nano, ..)`, and we
//! accept what it accepts for the years an `i64` of nanoseconds can hold (1678–2261).

use super::DecodeError;
use crate::civil::{days_from_civil, days_in_month};

/// A log line's timestamp: the instant, and the text it was written as (sinks that
/// keep the runtime's exact text, and error messages, use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp<'a> {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub nanos: i64,
    pub text: &'a str,
}

impl<'a> Timestamp<'a> {
    pub fn parse(text: &'a [u8]) -> Result<Self, DecodeError> {
        let bad = |reason| DecodeError::BadTimestamp {
            text: super::snippet(text),
            reason,
        };
        let nanos = parse_nanos(text).map_err(bad)?;
        // Every byte was checked to be ASCII by the parser.
        let text = std::str::from_utf8(text).map_err(|_| bad("not ASCII"))?;
        Ok(Timestamp { nanos, text })
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to nanoseconds since the epoch.
pub fn parse_nanos(t: &[u8]) -> Result<i64, &'static str> {
    if t.len() < 20 {
        return Err("too short for RFC 3339");
    }
    let year = digits(t, 0, 4)?;
    let month = digits(t, 5, 2)?;
    let day = digits(t, 8, 2)?;
    let (hour, min, sec) = (digits(t, 11, 2)?, digits(t, 14, 2)?, digits(t, 17, 2)?);
    let separators_ok = t[4] == b'-'
        && t[7] == b'-'
        && matches!(t[10], b'T' | b't')
        && t[13] == b':'
        && t[16] == b':';
    if !separators_ok {
        return Err("not in YYYY-MM-DDTHH:MM:SS form");
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || min > 59 || sec > 59 {
        return Err("no such time of day");
    }
    let (frac, rest) = fraction(&t[19..])?;
    let offset = offset_seconds(rest)?;
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(frac))
        .ok_or("out of the range of i64 nanoseconds")
}

/// `n` ASCII digits at `at` as a number.
fn digits(t: &[u8], at: usize, n: usize) -> Result<i64, &'static str> {
    t[at..at + n].iter().try_fold(0i64, |acc, &b| match b {
        b'0'..=b'9' => Ok(acc * 10 + i64::from(b - b'0')),
        _ => Err("a digit was expected"),
    })
}

/// An optional `.digits` fraction as nanoseconds (digits past the ninth are ignored,
/// as Go does), and the text after it.
fn fraction(t: &[u8]) -> Result<(i64, &[u8]), &'static str> {
    let Some(rest) = t.strip_prefix(b".") else {
        return Ok((0, t));
    };
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return Err("a digit was expected after '.'");
    }
    let mut frac = digits(rest, 0, n.min(9))?;
    for _ in n..9 {
        frac *= 10;
    }
    Ok((frac, &rest[n..]))
}

/// `Z` or `±HH:MM` as seconds east of UTC; nothing may follow.
fn offset_seconds(t: &[u8]) -> Result<i64, &'static str> {
    match t {
        b"Z" | b"z" => Ok(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(t, 1, 2)?, digits(t, 4, 2)?);
            if h > 23 || m > 59 {
                return Err("no such UTC offset");
            }
            let secs = h * 3600 + m * 60;
            Ok(if *sign == b'-' { -secs } else { secs })
        }
        [] => Err("missing UTC offset (Z or ±HH:MM)"),
        _ => Err("bad UTC offset (Z or ±HH:MM expected)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_runtimes_write() {
        let cases: &[(&str, i64)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("2024-01-01T00:00:00.000000001Z", 1_704_067_200_000_000_001),
            ("2024-01-01T00:00:00Z", 1_704_067_200_000_000_000),
            // Go trims trailing zeros of the fraction.
            ("2024-01-01T00:00:00.5Z", 1_704_067_200_500_000_000),
            ("2024-01-01T02:00:00.5+02:00", 1_704_067_200_500_000_000),
            ("2023-12-31T19:00:00-05:00", 1_704_067_200_000_000_000),
            ("2016-10-06T00:17:09.669794202Z", 1_475_713_029_669_794_202),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
            // Digits past nanoseconds are ignored, as Go's parser does.
            ("2024-01-01T00:00:00.0000000019Z", 1_704_067_200_000_000_001),
            ("1969-12-31T23:59:59.999999999Z", -1),
            ("2024-01-01t00:00:00z", 1_704_067_200_000_000_000),
        ];
        for (text, want) in cases {
            assert_eq!(parse_nanos(text.as_bytes()), Ok(*want), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        let cases: &[(&str, &str)] = &[
            ("2024-01-01", "too short for RFC 3339"),
            ("2024-01-01 00:00:00Z", "not in YYYY-MM-DDTHH:MM:SS form"),
            ("2024-01-01T00:00:00", "too short for RFC 3339"),
            ("2024-01-01T00:00:00.5", "missing UTC offset (Z or ±HH:MM)"),
            ("2024-01-01T00:00:00.Z", "a digit was expected after '.'"),
            (
                "2024-01-01T00:00:00+0200",
                "bad UTC offset (Z or ±HH:MM expected)",
            ),
            (
                "2024-01-01T00:00:00ZZ",
                "bad UTC offset (Z or ±HH:MM expected)",
            ),
            ("2024-13-01T00:00:00Z", "no such date"),
            ("2023-02-29T00:00:00Z", "no such date"),
            ("2024-01-01T24:00:00Z", "no such time of day"),
            ("2024-01-01T00:00:60Z", "no such time of day"),
            ("2024-01-01T00:00:00+24:00", "no such UTC offset"),
            ("2024-0a-01T00:00:00Z", "a digit was expected"),
            (
                "9999-01-01T00:00:00Z",
                "out of the range of i64 nanoseconds",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_nanos(text.as_bytes()), Err(*want), "{text}");
        }
    }

    #[test]
    fn keeps_the_text() {
        let t = Timestamp::parse(b"2024-01-01T02:00:00+02:00").unwrap();
        assert_eq!(t.text, "2024-01-01T02:00:00+02:00");
        assert_eq!(t.nanos, 1_704_067_200_000_000_000);
    }
}
