//! Functions over range vectors: rate/increase/delta (with `extrapolatedRate`'s
//! extrapolation from Prometheus's functions.go), irate/idelta, deriv, predict_linear,
//! changes, resets and the `*_over_time` family. Each maps one series' samples in the
//! window to one value (or none).

use super::stats::{kahan_inc, quantile};
use crate::aggregator::model::Sample;

/// Where the range argument's window lies: `(end - range, end]`-ish bounds (ms), the
/// range (ms), and the step time `t` (ms) for predict_linear's intercept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RangeCtx {
    pub start: i64,
    pub end: i64,
    pub range_ms: i64,
    pub t: i64,
}

/// Whether `name` is a function over a range vector that this module evaluates.
pub(crate) fn is_range_fn(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "deriv"
            | "predict_linear"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "last_over_time"
            | "present_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "quantile_over_time"
    )
}

/// The function's value over one series' samples; `param` is predict_linear's
/// duration or quantile_over_time's quantile.
pub(crate) fn apply(name: &str, s: &[Sample], c: RangeCtx, param: f64) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    match name {
        "rate" => extrapolated_rate(s, c, true, true),
        "increase" => extrapolated_rate(s, c, true, false),
        "delta" => extrapolated_rate(s, c, false, false),
        "irate" => instant_value(s, true),
        "idelta" => instant_value(s, false),
        "deriv" => (s.len() >= 2).then(|| linear_regression(s, s[0].t).0),
        "predict_linear" => (s.len() >= 2).then(|| {
            let (slope, intercept) = linear_regression(s, c.t);
            slope * param + intercept
        }),
        "changes" => Some(count_pairs(s, |a, b| a != b && !(a.is_nan() && b.is_nan()))),
        "resets" => Some(count_pairs(s, |a, b| b < a)),
        _ => over_time(name, s, param),
    }
}

fn over_time(name: &str, s: &[Sample], param: f64) -> Option<f64> {
    let vals = || s.iter().map(|p| p.v);
    Some(match name {
        "avg_over_time" => avg(s),
        "sum_over_time" => sum(vals()),
        "count_over_time" => s.len() as f64,
        "min_over_time" => vals().fold(s[0].v, |m, v| if v < m || m.is_nan() { v } else { m }),
        "max_over_time" => vals().fold(s[0].v, |m, v| if v > m || m.is_nan() { v } else { m }),
        "last_over_time" => s[s.len() - 1].v,
        "present_over_time" => 1.0,
        "stddev_over_time" => variance(s).sqrt(),
        "stdvar_over_time" => variance(s),
        "quantile_over_time" => quantile(param, vals().collect()),
        _ => return None,
    })
}

/// Prometheus's `extrapolatedRate`: the change over the window (counter resets
/// compensated for counters), extrapolated to the window's bounds when the first and
/// last samples are close enough to them, never below a counter's zero point.
fn extrapolated_rate(s: &[Sample], c: RangeCtx, counter: bool, per_second: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (first, last) = (s[0], s[s.len() - 1]);
    let mut result = last.v - first.v;
    if counter {
        let mut prev = 0.0;
        for p in s {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let mut to_start = (first.t - c.start) as f64 / 1000.0;
    let to_end = (c.end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_gap = sampled / (s.len() - 1) as f64;
    if counter && result > 0.0 && first.v >= 0.0 {
        to_start = to_start.min(sampled * (first.v / result));
    }
    let threshold = avg_gap * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_gap / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_gap / 2.0
    };
    result *= interval / sampled;
    if per_second {
        result /= c.range_ms as f64 / 1000.0;
    }
    Some(result)
}

/// irate / idelta: from the last two samples.
fn instant_value(s: &[Sample], rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (prev, last) = (s[s.len() - 2], s[s.len() - 1]);
    let mut v = if rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let gap = last.t - prev.t;
    if gap == 0 {
        return None;
    }
    if rate {
        v /= gap as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope (per second) and intercept at `intercept_t` (ms).
fn linear_regression(s: &[Sample], intercept_t: i64) -> (f64, f64) {
    let init = s[0].v;
    if s.iter().all(|p| p.v == init) {
        return if init.is_infinite() {
            (f64::NAN, f64::NAN)
        } else {
            (0.0, init)
        };
    }
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for p in s {
        let x = (p.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    let n = s.len() as f64;
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

fn count_pairs(s: &[Sample], hit: impl Fn(f64, f64) -> bool) -> f64 {
    s.windows(2).filter(|w| hit(w[0].v, w[1].v)).count() as f64
}

fn sum(vals: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for v in vals {
        (s, c) = kahan_inc(v, s, c);
    }
    if s.is_infinite() {
        s
    } else {
        s + c
    }
}

/// The mean by incremental Kahan updates, as Prometheus's avg_over_time.
fn avg(s: &[Sample]) -> f64 {
    let (mut mean, mut c, mut n) = (0.0f64, 0.0, 0.0);
    for p in s {
        n += 1.0;
        if mean.is_infinite() {
            if p.v.is_infinite() && (mean > 0.0) == (p.v > 0.0) {
                continue;
            }
            if !p.v.is_infinite() && !p.v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_inc(p.v / n - mean / n, mean, c);
    }
    if mean.is_infinite() {
        mean
    } else {
        mean + c
    }
}

/// Population variance by Welford's method with Kahan compensation.
fn variance(s: &[Sample]) -> f64 {
    let (mut n, mut mean, mut cm, mut aux, mut ca) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in s {
        n += 1.0;
        let delta = p.v - (mean + cm);
        (mean, cm) = kahan_inc(delta / n, mean, cm);
        (aux, ca) = kahan_inc(delta * (p.v - (mean + cm)), aux, ca);
    }
    (aux + ca) / n
}
