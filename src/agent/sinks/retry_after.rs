//! The `Retry-After` response header (RFC 9110 §10.2.3): either delay-seconds or an
//! HTTP-date. Loki and Elasticsearch send it with 429 and 503; how it combines with the
//! backoff is [`super::backoff::Backoff::next_delay`]'s business.

use std::time::{Duration, SystemTime};

/// Parses a `Retry-After` value into a wait from `now`. An HTTP-date in the past means
/// no wait; a delay too large for a `Duration` saturates (the backoff caps it anyway);
/// anything else (negative, fractional, not a date) is `None`.
pub fn parse(value: &[u8], now: SystemTime) -> Option<Duration> {
    let value = std::str::from_utf8(value).ok()?.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    // IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_rejects_garbage() {
        // 2015-10-21T07:27:00Z, one minute before the dates below.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_420);
        let secs = |s| Some(Duration::from_secs(s));
        let cases: [(&[u8], Option<Duration>); 15] = [
            (b"120", secs(120)),
            (b"0", secs(0)),
            (b" 30 ", secs(30)),
            (b"99999999999999999999999", secs(u64::MAX)),
            (b"Wed, 21 Oct 2015 07:28:00 GMT", secs(60)),
            (b"Wednesday, 21-Oct-15 07:28:00 GMT", secs(60)),
            (b"Wed Oct 21 07:28:00 2015", secs(60)),
            (b"Tue, 20 Oct 2015 07:28:00 GMT", secs(0)),
            (b"", None),
            (b"-5", None),
            (b"1.5", None),
            (b"soon", None),
            (b"Wed, 32 Oct 2015 07:28:00 GMT", None),
            (b"12 s", None),
            (b"\xff\xfe", None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse(value, now),
                expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
