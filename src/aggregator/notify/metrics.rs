//! The notifier's metrics under `nodepulse_notifications_*`, mirroring Prometheus's
//! `prometheus_notifications_*` (`notifier/metric.go`): per destination, alerts sent,
//! alerts affected by errors, alerts dropped, the queue's length, and the latency of
//! successful sends as a summary; the queue's capacity and the Alertmanagers known. Rows are
//! `(name, help, type, rows)` and [`text`] writes them in text format 0.0.4.

use crate::exposition::write_value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Latencies kept for the quantiles. Prometheus's summary covers the last 10 minutes;
/// a bounded count of the latest sends keeps memory fixed whatever the rate.
const LATENCY_WINDOW: usize = 256;

/// The quantiles Prometheus's latency summary reports.
const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// One sample of a family: a name suffix (`""`, `_sum`, `_count`), labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub suffix: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// `(name, help, type, rows)`.
pub type Family = (&'static str, &'static str, &'static str, Vec<Row>);

/// One destination's counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub errors: AtomicU64,
    pub dropped: AtomicU64,
    latency: Mutex<Latency>,
}

#[derive(Debug, Default)]
struct Latency {
    recent: VecDeque<f64>,
    sum: f64,
    count: u64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Relaxed);
    }

    /// Records the seconds one successful request took.
    pub fn observe(&self, seconds: f64) {
        let mut l = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        if l.recent.len() == LATENCY_WINDOW {
            l.recent.pop_front();
        }
        l.recent.push_back(seconds);
        l.sum += seconds;
        l.count += 1;
    }

    /// (quantile, value) pairs (NaN without observations, as client_golang), sum, count.
    fn summary(&self) -> (Vec<(f64, f64)>, f64, u64) {
        let l = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let mut sorted: Vec<f64> = l.recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let q = QUANTILES
            .iter()
            .map(|&q| (q, quantile(&sorted, q)))
            .collect();
        (q, l.sum, l.count)
    }
}

/// The nearest-rank quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What one destination reports: its label (`alertmanager` or `webhook`) and URL,
/// its counters, its queue's length and the alerts its queue dropped.
pub struct Snapshot<'a> {
    pub label: &'static str,
    pub url: &'a str,
    pub counters: &'a Counters,
    pub queue_length: usize,
    pub queue_dropped: u64,
}

/// Every family, one row per destination.
pub fn families(destinations: &[Snapshot], capacity: usize) -> Vec<Family> {
    let row = |d: &Snapshot, value: f64| Row {
        suffix: "",
        labels: vec![(d.label, d.url.to_owned())],
        value,
    };
    let per = |f: &dyn Fn(&Snapshot) -> f64| -> Vec<Row> {
        destinations.iter().map(|d| row(d, f(d))).collect()
    };
    let load = |c: &AtomicU64| c.load(Relaxed) as f64;
    let alertmanagers = destinations
        .iter()
        .filter(|d| d.label == "alertmanager")
        .count();
    vec![
        ("nodepulse_notifications_sent_total", "Total number of alerts sent.", "counter",
            per(&|d| load(&d.counters.sent))),
        ("nodepulse_notifications_errors_total", "Total number of sent alerts affected by errors (each failed attempt counts).", "counter",
            per(&|d| load(&d.counters.errors))),
        ("nodepulse_notifications_dropped_total", "Total number of alerts dropped: the queue was full, or every attempt to send them failed.", "counter",
            per(&|d| load(&d.counters.dropped) + d.queue_dropped as f64)),
        ("nodepulse_notifications_queue_length", "The number of alert notifications in the queue.", "gauge",
            per(&|d| d.queue_length as f64)),
        ("nodepulse_notifications_queue_capacity", "The capacity of the alert notifications queue.", "gauge",
            single(capacity as f64)),
        ("nodepulse_notifications_latency_seconds", "Latency quantiles for sending alert notifications (the last 256 sends).", "summary",
            destinations.iter().flat_map(summary_rows).collect()),
        ("nodepulse_notifications_alertmanagers_discovered", "The number of alertmanagers discovered and active.", "gauge",
            single(alertmanagers as f64)),
    ]
}

/// Alerts dropped while Alertmanager discovery had found none: a row without a
/// destination label in `nodepulse_notifications_dropped_total`.
pub fn add_undelivered(families: &mut [Family], value: f64) {
    let dropped = families
        .iter_mut()
        .find(|f| f.0 == "nodepulse_notifications_dropped_total");
    if let Some(f) = dropped {
        f.3.extend(single(value));
    }
}

/// The one row of a family without labels.
pub fn single(value: f64) -> Vec<Row> {
    vec![Row {
        suffix: "",
        labels: Vec::new(),
        value,
    }]
}

/// Alerts the alert relabelling dropped (Prometheus counts none; every drop of ours is
/// counted).
pub fn relabel_dropped(value: f64) -> Family {
    (
        "nodepulse_notifications_relabel_dropped_total",
        "Total number of alerts dropped by alert_relabel_configs (not sent).",
        "counter",
        single(value),
    )
}

fn summary_rows(d: &Snapshot) -> Vec<Row> {
    let (quantiles, sum, count) = d.counters.summary();
    let label = (d.label, d.url.to_owned());
    let mut rows: Vec<Row> = quantiles
        .into_iter()
        .map(|(q, v)| Row {
            suffix: "",
            labels: vec![label.clone(), ("quantile", q.to_string())],
            value: v,
        })
        .collect();
    rows.push(Row {
        suffix: "_sum",
        labels: vec![label.clone()],
        value: sum,
    });
    rows.push(Row {
        suffix: "_count",
        labels: vec![label],
        value: count as f64,
    });
    rows
}

/// The families in the Prometheus text format 0.0.4.
pub fn text(families: &[Family]) -> String {
    let mut out = Vec::new();
    for (name, help, kind, rows) in families {
        out.extend_from_slice(format!("# HELP {name} {help}\n# TYPE {name} {kind}\n").as_bytes());
        for r in rows {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(r.suffix.as_bytes());
            if !r.labels.is_empty() {
                let pairs: Vec<String> = r
                    .labels
                    .iter()
                    .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
                    .collect();
                out.extend_from_slice(format!("{{{}}}", pairs.join(",")).as_bytes());
            }
            out.push(b' ');
            write_value(r.value, &mut out);
            out.push(b'\n');
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A label value escaped for the text format.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[3.0], 0.9), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn the_window_keeps_the_latest_but_sum_and_count_everything() {
        let c = Counters::default();
        for i in 0..(LATENCY_WINDOW + 10) {
            c.observe(i as f64);
        }
        let (q, sum, count) = c.summary();
        assert_eq!(count, LATENCY_WINDOW as u64 + 10);
        assert_eq!(sum, (0..LATENCY_WINDOW + 10).sum::<usize>() as f64);
        assert_eq!(q[0], (0.5, 10.0 + 127.0));
    }

    #[test]
    fn text_format_with_labels_and_summary() {
        let c = Counters::default();
        Counters::add(&c.sent, 3);
        Counters::add(&c.dropped, 1);
        c.observe(0.25);
        let snap = Snapshot {
            label: "alertmanager",
            url: "http://am:9093/api/v2/alerts",
            counters: &c,
            queue_length: 2,
            queue_dropped: 4,
        };
        let body = text(&families(&[snap], 10_000));
        let am = r#"{alertmanager="http://am:9093/api/v2/alerts"}"#;
        for line in [
            format!("nodepulse_notifications_sent_total{am} 3"),
            format!("nodepulse_notifications_dropped_total{am} 5"),
            format!("nodepulse_notifications_queue_length{am} 2"),
            "nodepulse_notifications_queue_capacity 10000".to_owned(),
            "nodepulse_notifications_alertmanagers_discovered 1".to_owned(),
            "# TYPE nodepulse_notifications_latency_seconds summary".to_owned(),
            r#"nodepulse_notifications_latency_seconds{alertmanager="http://am:9093/api/v2/alerts",quantile="0.99"} 0.25"#.to_owned(),
            format!("nodepulse_notifications_latency_seconds_count{am} 1"),
        ] {
            assert!(body.lines().any(|l| l == line), "{line} not in\n{body}");
        }
        assert_eq!(escape("a\"b\\c\nd"), r#"a\"b\\c\nd"#);
    }
}
