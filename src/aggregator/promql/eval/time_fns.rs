//! Calendar functions (day_of_month, day_of_week, days_in_month, hour, minute, month,
//! year) over Unix seconds in UTC, as Go's `time.Unix(int64(v), 0).UTC()` sees them.

use crate::civil::{civil, days_from_civil, days_in_month};

/// Whether `name` is a calendar function.
pub(crate) fn is_time_fn(name: &str) -> bool {
    matches!(
        name,
        "day_of_month"
            | "day_of_week"
            | "day_of_year"
            | "days_in_month"
            | "hour"
            | "minute"
            | "month"
            | "year"
    )
}

/// The calendar function `name` at `secs` seconds since the epoch.
pub(crate) fn apply(name: &str, secs: f64) -> f64 {
    // Go converts with int64(v): truncation, NaN and out-of-range to i64::MIN.
    let s = if secs.is_nan() { i64::MIN } else { secs as i64 };
    let days = s.div_euclid(86_400);
    let sod = s.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let v = match name {
        "day_of_month" => d,
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => days - days_from_civil(y, 1, 1) + 1,
        "days_in_month" => days_in_month(y, m),
        "hour" => sod / 3600,
        "minute" => sod % 3600 / 60,
        "month" => m,
        _ => y,
    };
    v as f64
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn known_dates() {
        // 2024-02-29T13:45:10Z is a Thursday, day 60 of a leap year.
        let t = 1_709_214_310.0;
        assert_eq!(apply("year", t), 2024.0);
        assert_eq!(apply("month", t), 2.0);
        assert_eq!(apply("day_of_month", t), 29.0);
        assert_eq!(apply("day_of_week", t), 4.0);
        assert_eq!(apply("day_of_year", t), 60.0);
        assert_eq!(apply("days_in_month", t), 29.0);
        assert_eq!(apply("hour", t), 13.0);
        assert_eq!(apply("minute", t), 45.0);
        assert_eq!(apply("year", 0.0), 1970.0);
        assert_eq!(apply("day_of_week", 0.0), 4.0);
        // Before the epoch: 1969-12-31T23:59:59Z.
        assert_eq!(apply("day_of_month", -1.0), 31.0);
        assert_eq!(apply("hour", -1.0), 23.0);
    }
}
