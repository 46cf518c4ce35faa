//! A range aggregation's per-step values as samples the PromQL engine reads, so that
//! LogQL's vector aggregations, binary operators and functions over them run through
//! the aggregator's PromQL evaluator with Prometheus's semantics (as Loki's engine
//! mirrors them). Each step with a value gets a sample at that step; the step after a
//! run of values gets a stale marker, so PromQL's lookback never carries a value into
//! a step whose window held nothing.

use super::windows::Steps;
use crate::aggregator::model::{stale_nan, Sample};

/// Nanoseconds to the milliseconds PromQL works in (rounded down).
pub fn ns_to_ms(ns: i64) -> i64 {
    ns.div_euclid(1_000_000)
}

/// The samples of one series: `values[i]` belongs to the i-th step of `steps`.
pub fn to_samples(values: &[Option<f64>], steps: Steps) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut open = false;
    for (t, v) in steps.iter().zip(values) {
        let t = ns_to_ms(t);
        match v {
            Some(v) => {
                out.push(Sample { t, v: *v });
                open = true;
            }
            None if open => {
                out.push(Sample { t, v: stale_nan() });
                open = false;
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::model::is_stale;

    #[test]
    fn a_stale_marker_follows_each_run_of_values() {
        let steps = Steps {
            start: 0,
            end: 5_000_000_000,
            step: 1_000_000_000,
        };
        let values = [None, Some(1.0), Some(2.0), None, None, Some(3.0)];
        let got: Vec<(i64, Option<f64>)> = to_samples(&values, steps)
            .into_iter()
            .map(|s| (s.t, (!is_stale(s.v)).then_some(s.v)))
            .collect();
        assert_eq!(
            got,
            [
                (1000, Some(1.0)),
                (2000, Some(2.0)),
                (3000, None),
                (5000, Some(3.0))
            ]
        );
    }

    #[test]
    fn nanoseconds_round_down_to_milliseconds() {
        assert_eq!(ns_to_ms(1_999_999), 1);
        assert_eq!(ns_to_ms(-1), -1);
    }
}
