//! UTC calendar time from Unix nanoseconds: the `@timestamp` text (RFC 3339 with
//! nanoseconds) and the date a `logs-%Y.%m.%d` index name is built from.
//!
//! The calendar arithmetic is the crate's one copy ([`crate::civil`]); no date library.

use std::fmt;

/// A UTC instant split into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl Civil {
    /// Splits Unix time in nanoseconds (negative is before 1970) into UTC fields.
    pub fn from_unix_nanos(nanos: i64) -> Civil {
        let secs = nanos.div_euclid(1_000_000_000);
        let sub = nanos.rem_euclid(1_000_000_000) as u32;
        let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let (year, month, day) = crate::civil::civil(days);
        Civil {
            year,
            month: month as u32,
            day: day as u32,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            nanos: sub,
        }
    }
}

/// RFC 3339 with nine fractional digits and `Z`, as Elasticsearch's `date_nanos` and
/// `strict_date_optional_time_nanos` read it (`2024-05-01T12:00:00.123456789Z`).
impl fmt::Display for Civil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.nanos
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01T00:00:00.000000000Z"),
            (1, "1970-01-01T00:00:00.000000001Z"),
            (-1, "1969-12-31T23:59:59.999999999Z"),
            // 2000-02-29, a leap day in a year divisible by 400.
            (951_782_400_000_000_000, "2000-02-29T00:00:00.000000000Z"),
            (1_714_564_800_123_456_789, "2024-05-01T12:00:00.123456789Z"),
            (1_735_689_599_999_999_999, "2024-12-31T23:59:59.999999999Z"),
            (4_102_444_800_000_000_000, "2100-01-01T00:00:00.000000000Z"),
        ];
        for &(nanos, want) in cases {
            assert_eq!(Civil::from_unix_nanos(nanos).to_string(), want, "{nanos}");
        }
    }
}
