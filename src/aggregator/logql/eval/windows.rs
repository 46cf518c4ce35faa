//! Range aggregations over one series' samples, for every step of a query: Loki's
//! windows `(t - offset - range, t - offset]` (the lower bound excluded, as Loki's range
//! vector iterator does), and the `*_over_time` arithmetic as Loki and Prometheus do it.
//! The samples are what a log pipeline extracted: 1 per line (`count_over_time`,
//! `rate`), the line's bytes (`bytes_*`), or an unwrapped label's value.

/// Which aggregation of a window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeOp {
    /// Samples in the window (`count_over_time`; with line samples of 1).
    Count,
    /// Sum of the values ÷ the range in seconds (`rate`, `bytes_rate`, `rate` of an unwrap).
    Rate,
    /// Sum of the values (`bytes_over_time`, `sum_over_time`).
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    StdVar,
    StdDev,
    /// `quantile_over_time(φ, ...)`, interpolated as Prometheus's `quantile`.
    Quantile(f64),
    /// `rate_counter`: the values as a counter ([`super::rate_counter`]).
    RateCounter,
}

/// The evaluation steps `start, start + step, ..., ≤ end` (ns; `step > 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Steps {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Steps {
    pub fn iter(self) -> impl Iterator<Item = i64> {
        let n = if self.end < self.start {
            0
        } else {
            (self.end - self.start) / self.step + 1
        };
        (0..n).map(move |i| self.start + i * self.step)
    }

    pub fn len(self) -> usize {
        self.iter().size_hint().0
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The window of one query: its length and how far back it is moved (ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub range: i64,
    pub offset: i64,
}

/// `op` over each step's window of `samples` (`(ts ns, value)` in time order): one
/// value per step, `None` where the window holds no sample.
pub fn over_steps(
    op: RangeOp,
    samples: &[(i64, f64)],
    steps: Steps,
    w: Window,
) -> Vec<Option<f64>> {
    let mut lo = 0;
    let mut hi = 0;
    let mut values = Vec::with_capacity(steps.len());
    let mut buf = Vec::new();
    for t in steps.iter() {
        let (from, to) = (t - w.offset - w.range, t - w.offset);
        while lo < samples.len() && samples[lo].0 <= from {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < samples.len() && samples[hi].0 <= to {
            hi += 1;
        }
        let window = &samples[lo..hi];
        values.push((!window.is_empty()).then(|| aggregate(op, window, w.range, &mut buf)));
    }
    values
}

/// `op` over one non-empty window.
fn aggregate(op: RangeOp, window: &[(i64, f64)], range: i64, buf: &mut Vec<f64>) -> f64 {
    let values = window.iter().map(|&(_, v)| v);
    match op {
        RangeOp::Count => window.len() as f64,
        RangeOp::Rate => values.sum::<f64>() / (range as f64 / 1e9),
        RangeOp::Sum => values.sum(),
        RangeOp::Avg => avg(values),
        RangeOp::Min => values.fold(f64::NAN, |m, v| if v < m || m.is_nan() { v } else { m }),
        RangeOp::Max => values.fold(f64::NAN, |m, v| if v > m || m.is_nan() { v } else { m }),
        RangeOp::First => window[0].1,
        RangeOp::Last => window[window.len() - 1].1,
        RangeOp::StdVar => stdvar(values),
        RangeOp::StdDev => stdvar(values).sqrt(),
        RangeOp::RateCounter => super::rate_counter::rate_counter(window, range),
        RangeOp::Quantile(phi) => {
            buf.clear();
            buf.extend(values);
            quantile(phi, buf)
        }
    }
}

/// The mean, kept incrementally (no overflow of a running sum of huge values).
fn avg(values: impl Iterator<Item = f64>) -> f64 {
    let (mut mean, mut count) = (0.0, 0.0);
    for v in values {
        count += 1.0;
        mean += v / count - mean / count;
    }
    mean
}

/// The population variance, by Welford's method (as Prometheus's `stdvar_over_time`).
fn stdvar(values: impl Iterator<Item = f64>) -> f64 {
    let (mut aux, mut count, mut mean) = (0.0, 0.0, 0.0);
    for v in values {
        count += 1.0;
        let delta = v - mean;
        mean += delta / count;
        aux += delta * (v - mean);
    }
    aux / count
}

/// Prometheus's `quantile`: rank φ·(n − 1) between the sorted values, linearly
/// interpolated; −∞ below φ = 0, +∞ above φ = 1, NaN for a NaN φ.
pub fn quantile(phi: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(f64::total_cmp);
    let rank = phi * (values.len() - 1) as f64;
    let lower = rank.floor() as usize;
    let upper = (lower + 1).min(values.len() - 1);
    let weight = rank - rank.floor();
    values[lower] * (1.0 - weight) + values[upper] * weight
}

#[cfg(test)]
#[path = "windows_tests.rs"]
mod tests;
