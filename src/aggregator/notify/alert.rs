//! [`Alert`]: one alert as the notifier sends it (Prometheus's `notifier.Alert`), with
//! what both wire formats need from it: its times in the two RFC 3339 spellings Go
//! prints (Alertmanager's API: milliseconds; the webhook: `time.Time`'s nanoseconds
//! without trailing zeros), whether it is resolved at an instant, its Alertmanager
//! fingerprint, and the external labels added under its own.

use crate::aggregator::model::Labels;
use crate::civil::civil;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An alert to notify: labels (its identity), annotations, when it started, when it
/// ended or stops being valid (`None`: open), and a link back to its expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: SystemTime,
    pub ends_at: Option<SystemTime>,
    pub generator_url: String,
}

/// `firing` or `resolved`, as Alertmanager spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

impl Alert {
    /// Alertmanager's `Alert.Resolved` at `now`: an end that is not after `now`.
    pub fn status_at(&self, now: SystemTime) -> Status {
        match self.ends_at {
            Some(end) if end <= now => Status::Resolved,
            _ => Status::Firing,
        }
    }

    /// The alert with `external` labels added where its own labels do not set them
    /// (Prometheus's notifier: an alert's label wins over an external label).
    pub fn with_external_labels(mut self, external: &[(String, String)]) -> Alert {
        if external.iter().all(|(n, _)| self.labels.get(n).is_some()) {
            return self;
        }
        let mut pairs: Vec<(String, String)> = external.to_vec();
        pairs.extend(self.labels.to_pairs()); // later pairs win in Labels::new
        self.labels = Labels::new(pairs);
        self
    }
}

/// Alertmanager's fingerprint of a label set (prometheus/common `model.LabelSet
/// .Fingerprint`): FNV-1a 64 over the sorted names and values, each followed by the
/// byte 0xff, printed as 16 hex digits.
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut h = OFFSET;
    let mut add = |bytes: &[u8]| {
        for &b in bytes.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels.iter() {
        add(name.as_bytes());
        add(value.as_bytes());
    }
    format!("{h:016x}")
}

/// Seconds since the epoch (negative before it) and the nanoseconds within that second.
fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

fn date_time(secs: i64) -> String {
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// go-openapi's `strfmt.DateTime` in UTC (`2006-01-02T15:04:05.000Z`): what
/// Prometheus puts in `startsAt` and `endsAt` of Alertmanager's API v2.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    format!("{}.{:03}Z", date_time(secs), nanos / 1_000_000)
}

/// Go's `time.Time` as JSON in UTC (RFC 3339 with up to nine fraction digits, trailing
/// zeros dropped): what Alertmanager's webhook payload carries.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    let mut s = date_time(secs);
    if nanos != 0 {
        let digits = format!(".{nanos:09}");
        s.push_str(digits.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Go's zero `time.Time` as JSON: a firing alert's `endsAt` in a webhook payload.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `ms` milliseconds after the epoch (tests, callers holding PromQL timestamps).
pub fn from_millis(ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_alertmanager() {
        // The empty set is FNV-1a's offset basis, as in prometheus/common.
        assert_eq!(fingerprint(&Labels::default()), "cbf29ce484222325");
        // What Alertmanager 0.25 put in a webhook payload for this set.
        let seen = Labels::from_pairs(&[("alertname", "A"), ("x", "1")]);
        assert_eq!(fingerprint(&seen), "6051004c729abe0e");
        let a = Labels::from_pairs(&[("alertname", "A")]);
        let b = Labels::from_pairs(&[("alertname", "A"), ("severity", "page")]);
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
        // Names and values are separated: {ab="c"} is not {a="bc"}.
        let x = Labels::from_pairs(&[("ab", "c")]);
        let y = Labels::from_pairs(&[("a", "bc")]);
        assert_ne!(fingerprint(&x), fingerprint(&y));
    }

    #[test]
    fn times_as_go_prints_them() {
        let t = from_millis(1_700_000_000_123);
        assert_eq!(rfc3339_millis(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339_nanos(t), "2023-11-14T22:13:20.123Z");
        let whole = from_millis(1_700_000_000_000);
        assert_eq!(rfc3339_millis(whole), "2023-11-14T22:13:20.000Z");
        assert_eq!(rfc3339_nanos(whole), "2023-11-14T22:13:20Z");
        let fine = whole + Duration::from_nanos(1_500);
        assert_eq!(rfc3339_nanos(fine), "2023-11-14T22:13:20.0000015Z");
        assert_eq!(rfc3339_millis(from_millis(-1)), "1969-12-31T23:59:59.999Z");
    }

    fn alert(ends_at: Option<SystemTime>) -> Alert {
        Alert {
            labels: Labels::from_pairs(&[("alertname", "A"), ("cluster", "mine")]),
            annotations: Labels::default(),
            starts_at: from_millis(0),
            ends_at,
            generator_url: String::new(),
        }
    }

    #[test]
    fn resolved_when_the_end_is_not_after_now() {
        let now = from_millis(10_000);
        assert_eq!(alert(None).status_at(now), Status::Firing);
        let later = Some(from_millis(10_001));
        assert_eq!(alert(later).status_at(now), Status::Firing);
        assert_eq!(alert(Some(now)).status_at(now), Status::Resolved);
    }

    #[test]
    fn external_labels_never_override_the_alerts_own() {
        let external = [
            ("cluster".to_owned(), "prod".to_owned()),
            ("region".to_owned(), "eu".to_owned()),
        ];
        let a = alert(None).with_external_labels(&external);
        assert_eq!(a.labels.get("cluster"), Some("mine"));
        assert_eq!(a.labels.get("region"), Some("eu"));
        assert_eq!(a.labels.len(), 3);
    }
}
