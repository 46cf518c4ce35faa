//! The oracle's evaluation: plain loops over the raw lines. A log query keeps the lines
//! in `[start, end)`, newest first (or oldest first) across all streams, the first
//! `limit`, grouped by their labels. A range aggregation at step `t` reads the samples
//! in `(t − range, t]` (grafana/loki `pkg/logql/range_vector.go`,
//! `batchRangeVectorIterator.load`: "the lower bound of the range is not inclusive").
//! What works above those series is in `vectors.rs`.

use crate::data::{Labels, Stream};
use crate::expect::Expected;
use crate::parsers::Line;
use std::collections::BTreeMap;

/// Per series, per step time: the value.
pub type Series = BTreeMap<Labels, BTreeMap<i64, f64>>;

pub struct Data {
    pub streams: Vec<Stream>,
}

impl Data {
    /// Every line of the streams whose labels pass `sel`, in time order.
    pub fn select(&self, sel: impl Fn(&Labels) -> bool) -> Vec<Line> {
        let mut out: Vec<Line> = self
            .streams
            .iter()
            .filter(|s| sel(&s.labels))
            .flat_map(|s| {
                s.entries.iter().map(|(ts, line)| Line {
                    ts: *ts,
                    stream: s.labels.clone(),
                    labels: s.labels.clone(),
                    line: line.clone(),
                })
            })
            .collect();
        out.sort_by_key(|l| l.ts);
        out
    }
}

/// `name="value"` on a stream's labels.
pub fn is(labels: &Labels, name: &str, value: &str) -> bool {
    labels.get(name).is_some_and(|v| v == value)
}

/// A log query's answer over `[start, end)`.
pub fn streams(lines: Vec<Line>, start: i64, end: i64, backward: bool, limit: usize) -> Expected {
    let mut kept: Vec<Line> = lines
        .into_iter()
        .filter(|l| start <= l.ts && l.ts < end)
        .collect();
    kept.sort_by_key(|l| if backward { -l.ts } else { l.ts });
    kept.truncate(limit);
    let mut groups: BTreeMap<Labels, Vec<(i64, String)>> = BTreeMap::new();
    for l in kept {
        groups.entry(l.labels).or_default().push((l.ts, l.line));
    }
    Expected::Streams(groups.into_iter().collect())
}

/// Query steps `start, start + step, ..., ≤ end`.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Steps {
    pub fn times(self) -> Vec<i64> {
        (0..)
            .map(|i| self.start + i * self.step)
            .take_while(|t| *t <= self.end)
            .collect()
    }
}

/// The arithmetic of one window's values.
#[derive(Clone, Copy, Debug)]
pub enum Over {
    Count,
    /// Sum ÷ range seconds (`rate`, `bytes_rate`, `rate` of an unwrap).
    Rate,
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    /// The population standard deviation.
    StdDev,
    /// Prometheus's `quantile`: rank φ·(n − 1), linear between neighbours.
    Quantile(f64),
}

/// A range aggregation over samples `(labels, ts, value)`: per series, per step.
pub fn over_time(samples: &[(Labels, i64, f64)], op: Over, range: i64, steps: Steps) -> Series {
    per_window(samples, range, steps, |w| {
        let values: Vec<f64> = w.iter().map(|p| p.1).collect();
        window_value(op, &values, range)
    })
}

/// `f` of each series' non-empty window `(t − range, t]` at each step.
fn per_window(
    samples: &[(Labels, i64, f64)],
    range: i64,
    steps: Steps,
    f: impl Fn(&[(i64, f64)]) -> f64,
) -> Series {
    let mut by_series: BTreeMap<&Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for (l, ts, v) in samples {
        by_series.entry(l).or_default().push((*ts, *v));
    }
    let mut out = Series::new();
    for (labels, points) in by_series {
        for t in steps.times() {
            let window: Vec<(i64, f64)> = points
                .iter()
                .copied()
                .filter(|(ts, _)| t - range < *ts && *ts <= t)
                .collect();
            if !window.is_empty() {
                out.entry(labels.clone()).or_default().insert(t, f(&window));
            }
        }
    }
    out
}

fn window_value(op: Over, w: &[f64], range: i64) -> f64 {
    let sum: f64 = w.iter().sum();
    match op {
        Over::Count => w.len() as f64,
        Over::Rate => sum / (range as f64 / 1e9),
        Over::Sum => sum,
        Over::Avg => sum / w.len() as f64,
        Over::Min => w.iter().cloned().fold(f64::INFINITY, f64::min),
        Over::Max => w.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        Over::First => w[0],
        Over::Last => w[w.len() - 1],
        Over::StdDev => {
            let mean = sum / w.len() as f64;
            let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / w.len() as f64;
            var.sqrt()
        }
        Over::Quantile(phi) => {
            let mut s = w.to_vec();
            s.sort_by(f64::total_cmp);
            let rank = phi * (s.len() - 1) as f64;
            let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
            s[lo] + (s[hi] - s[lo]) * (rank - rank.floor())
        }
    }
}

/// One sample of 1 per line (`count_over_time`, `rate`).
pub fn ones(lines: &[Line]) -> Vec<(Labels, i64, f64)> {
    lines
        .iter()
        .map(|l| (l.labels.clone(), l.ts, 1.0))
        .collect()
}

/// One sample of the line's length in bytes per line (`bytes_*`).
pub fn line_bytes(lines: &[Line]) -> Vec<(Labels, i64, f64)> {
    lines
        .iter()
        .map(|l| (l.labels.clone(), l.ts, l.line.len() as f64))
        .collect()
}

/// `| unwrap conv(name)`: the label's value converted; the label leaves the series.
/// `Err` holds the labels of a line whose value did not convert (Loki's
/// `SampleExtractionErr`).
pub fn unwrap(
    lines: &[Line],
    name: &str,
    conv: impl Fn(&str) -> Option<f64>,
) -> Result<Vec<(Labels, i64, f64)>, Labels> {
    lines
        .iter()
        .map(|l| {
            let mut labels = l.labels.clone();
            let raw = labels.remove(name).unwrap_or_default();
            conv(&raw).map(|v| (labels.clone(), l.ts, v)).ok_or(labels)
        })
        .collect()
}

/// `| unwrap ... | __error__=""`: the samples that converted.
pub fn unwrap_ok(
    lines: &[Line],
    name: &str,
    conv: impl Fn(&str) -> Option<f64>,
) -> Vec<(Labels, i64, f64)> {
    lines
        .iter()
        .filter_map(|l| unwrap(std::slice::from_ref(l), name, &conv).ok())
        .flatten()
        .collect()
}

/// The labels a `by (..)` / `without (..)` grouping keeps.
pub fn group(labels: &Labels, names: &[&str], without: bool) -> Labels {
    labels
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()) != without)
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// Relabels every sample (a range aggregation's own `by`/`without`, or `keep`).
pub fn regroup(
    samples: Vec<(Labels, i64, f64)>,
    names: &[&str],
    without: bool,
) -> Vec<(Labels, i64, f64)> {
    samples
        .into_iter()
        .map(|(l, t, v)| (group(&l, names, without), t, v))
        .collect()
}

/// `rate_counter`, per series and step over `(t − range, t]`: Loki's
/// `extrapolatedRate(samples, selRange, isCounter, isRate)` (pkg/logql/range_vector.go),
/// written out here from its definition: the window starts `range` before its first
/// sample and ends at its last, with sample times in ns and the range in ms (Loki's own
/// mix, so the number is Loki's); fewer than two samples give 0.
pub fn rate_counter(samples: &[(Labels, i64, f64)], range: i64, steps: Steps) -> Series {
    per_window(samples, range, steps, |w| loki_extrapolated_rate(w, range))
}

fn loki_extrapolated_rate(w: &[(i64, f64)], range_ns: i64) -> f64 {
    if w.len() < 2 {
        return 0.0;
    }
    let (first, last) = (w[0], w[w.len() - 1]);
    let range_start = first.0 - range_ns / 1_000_000;
    let range_end = last.0;
    let mut result = last.1 - first.1;
    let mut previous = 0.0;
    for &(_, v) in w {
        if v < previous {
            result += previous;
        }
        previous = v;
    }
    let mut duration_to_start = (first.0 - range_start) as f64 / 1000.0;
    let duration_to_end = (range_end - last.0) as f64 / 1000.0;
    let sampled_interval = (last.0 - first.0) as f64 / 1000.0;
    let average_between = sampled_interval / (w.len() - 1) as f64;
    if result > 0.0 && first.1 >= 0.0 {
        let duration_to_zero = sampled_interval * (first.1 / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    let threshold = average_between * 1.1;
    let mut extrapolate_to = sampled_interval;
    if duration_to_start < threshold {
        extrapolate_to += duration_to_start;
    } else {
        extrapolate_to += average_between / 2.0;
    }
    if duration_to_end < threshold {
        extrapolate_to += duration_to_end;
    } else {
        extrapolate_to += average_between / 2.0;
    }
    result * (extrapolate_to / sampled_interval) / (range_ns as f64 / 1e9)
}
