//! `rate_counter(... | unwrap x [range])`: the unwrapped values read as a counter, Loki's
//! way (grafana/loki `pkg/logql/range_vector.go`, `extrapolatedRate` with `isCounter` and
//! `isRate`). Loki adapted Prometheus's extrapolation but measures the window from the
//! samples themselves: it starts `range` before the first sample and ends at the last,
//! with sample times in nanoseconds and the range in milliseconds. That mix is kept
//! here on purpose, so the numbers equal Loki's: in effect the counter's increase
//! between the first and last sample (resets added back) ÷ the range in seconds, the
//! extrapolation adding a part in about 10⁶.

/// The window's `(ts ns, value)` samples in time order; 0 with fewer than two, as Loki.
pub fn rate_counter(window: &[(i64, f64)], range_ns: i64) -> f64 {
    let (Some(&(t0, v0)), Some(&(tn, vn))) = (window.first(), window.last()) else {
        return 0.0;
    };
    if window.len() < 2 {
        return 0.0;
    }
    let range_ms = range_ns / 1_000_000;
    let (range_start, range_end) = (t0 - range_ms, tn);
    let mut increase = vn - v0;
    let mut last = 0.0;
    for &(_, v) in window {
        if v < last {
            increase += last;
        }
        last = v;
    }
    let mut to_start = (t0 - range_start) as f64 / 1000.0;
    let to_end = (range_end - tn) as f64 / 1000.0;
    let sampled = (tn - t0) as f64 / 1000.0;
    let average = sampled / (window.len() - 1) as f64;
    if increase > 0.0 && v0 >= 0.0 {
        // A counter is not negative: extrapolate no further back than its zero.
        to_start = to_start.min(sampled * (v0 / increase));
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    increase * (interval / sampled) / (range_ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::rate_counter;

    const S: i64 = 1_000_000_000;

    #[test]
    fn fewer_than_two_samples_is_zero() {
        assert_eq!(rate_counter(&[], 60 * S), 0.0);
        assert_eq!(rate_counter(&[(S, 5.0)], 60 * S), 0.0);
    }

    #[test]
    fn the_increase_over_the_range_with_resets_added_back() {
        // 10 → 40 over 30 s, in a 60 s range: 30 / 60 s, within Loki's 10⁻⁶.
        let w = [(0, 10.0), (10 * S, 20.0), (20 * S, 30.0), (30 * S, 40.0)];
        let r = rate_counter(&w, 60 * S);
        assert!((r - 0.5).abs() < 1e-5, "{r}");
        // A reset to 5 after 30: the increase is 20 + 30 + 5 = 55 (not 5 − 10).
        let w = [(0, 10.0), (10 * S, 30.0), (20 * S, 5.0)];
        let r = rate_counter(&w, 60 * S);
        assert!((r - 25.0 / 60.0).abs() < 1e-5, "{r}");
    }

    #[test]
    fn the_same_number_as_lokis_formula() {
        // Loki: rangeStart = t0 − 60000 (ms from ns), so durationToStart = 60 (the
        // range's seconds); sampledInterval = 2e7 (µs); threshold 1.1e7 > 60, so it
        // adds 60 at the start and 0 at the end: 30 × (2e7 + 60) / 2e7 / 60.
        let w = [(0, 0.0), (10 * S, 15.0), (20 * S, 30.0)];
        let want = 30.0 * ((2e7 + 0.0) / 2e7) / 60.0;
        // durationToZero = sampled × 0/30 = 0 < 60: the start adds 0.
        assert_eq!(rate_counter(&w, 60 * S), want);
        let w = [(0, 30.0), (10 * S, 45.0), (20 * S, 60.0)];
        assert_eq!(rate_counter(&w, 60 * S), 30.0 * ((2e7 + 60.0) / 2e7) / 60.0);
    }
}
