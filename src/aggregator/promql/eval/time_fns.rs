//! Calendar functions (day_of_month, day_of_week, days_in_month, hour, minute, month,
//! year) over Unix seconds in UTC, as Go's `time.Unix(int64(v), 0).UTC()` sees them.

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

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (Hinnant's
/// `civil_from_days`).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
