//! Byte sizes and durations as users write them: a size is plain bytes (`1048576`) or a
//! number with a binary unit (`512KiB`, `64MiB`, `1GiB`); a duration is humantime's
//! (`1s`, `250ms`, `1m30s`). In the YAML file a size may be a number or a string, so
//! [`SizeValue`] keeps what was written and the settings stage parses it, naming the key.

use serde::Deserialize;

/// A size as written in the config file: `max_bytes: 1048576` or `max_bytes: 64MiB`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    Bytes(u64),
    Text(String),
}

impl SizeValue {
    /// The number of bytes, or why the text is not a size.
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            SizeValue::Bytes(n) => Ok(*n),
            SizeValue::Text(s) => parse_size(s),
        }
    }
}

impl From<String> for SizeValue {
    fn from(s: String) -> Self {
        SizeValue::Text(s)
    }
}

/// Binary units only: `MB` is ambiguous (10^6 or 2^20 depending on who wrote it), and a
/// buffer limit off by 5% is a surprise; the message says what is accepted.
const UNITS: [(&str, u64); 4] = [
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// Parses `1048576`, `512KiB`, `64MiB`, `1GiB`, `1TiB` (a space before the unit is
/// allowed; the number is a whole number).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let unit = unit.trim_start();
    let bad = || {
        format!("{text:?} is not a size: write bytes (1048576) or a whole number with KiB, MiB, GiB or TiB (64MiB)")
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let multiplier = match unit {
        "" | "B" => 1,
        u => UNITS
            .iter()
            .find(|(name, _)| *name == u)
            .map(|&(_, m)| m)
            .ok_or_else(bad)?,
    };
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Parses a humantime duration (`1s`, `250ms`, `1m30s`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration (e.g. 1s, 250ms): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes_in_bytes_and_binary_units() {
        let cases = [
            ("1048576", 1_048_576),
            ("0", 0),
            ("512KiB", 512 * 1024),
            ("64MiB", 64 << 20),
            ("64 MiB", 64 << 20),
            ("1GiB", 1 << 30),
            ("2TiB", 2 << 40),
            ("10B", 10),
            (" 7 ", 7),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_sizes_say_what_is_accepted() {
        for text in [
            "", "MiB", "64MB", "64mib", "1.5GiB", "-1", "64 MiB x", "0x10",
        ] {
            let err = parse_size(text).unwrap_err();
            assert!(err.contains("is not a size"), "{text}: {err}");
        }
        let err = parse_size("99999999999TiB").unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn file_sizes_may_be_numbers_or_strings() {
        let n: SizeValue = serde_norway::from_str("1024").unwrap();
        assert_eq!(n.bytes(), Ok(1024));
        let s: SizeValue = serde_norway::from_str("64MiB").unwrap();
        assert_eq!(s.bytes(), Ok(64 << 20));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon")
            .unwrap_err()
            .contains("not a duration"));
    }
}
