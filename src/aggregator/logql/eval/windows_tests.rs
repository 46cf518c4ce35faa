//! Window bounds and each aggregation against values worked out by hand.

use super::*;

const S: i64 = 1_000_000_000;

fn steps(start: i64, end: i64, step: i64) -> Steps {
    Steps {
        start: start * S,
        end: end * S,
        step: step * S,
    }
}

fn win(range: i64, offset: i64) -> Window {
    Window {
        range: range * S,
        offset: offset * S,
    }
}

fn at(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    points.iter().map(|&(t, v)| (t * S, v)).collect()
}

#[test]
fn steps_include_the_end_and_nothing_past_it() {
    assert_eq!(
        steps(0, 10, 5).iter().collect::<Vec<_>>(),
        [0, 5 * S, 10 * S]
    );
    assert_eq!(steps(0, 9, 5).len(), 2);
    assert!(steps(10, 0, 5).is_empty());
}

#[test]
fn the_lower_bound_is_excluded_and_the_upper_included() {
    // Loki's engine test: a 30 s window at t = 60 holds (30, 60].
    let s = at(&[(30, 1.0), (31, 1.0), (60, 1.0), (61, 1.0)]);
    let got = over_steps(RangeOp::Count, &s, steps(60, 60, 1), win(30, 0));
    assert_eq!(got, [Some(2.0)]);
}

#[test]
fn empty_windows_are_none_and_offset_moves_the_window_back() {
    let s = at(&[(10, 1.0), (20, 1.0)]);
    let got = over_steps(RangeOp::Count, &s, steps(0, 40, 10), win(10, 0));
    assert_eq!(got, [None, Some(1.0), Some(1.0), None, None]);
    let got = over_steps(RangeOp::Count, &s, steps(0, 40, 10), win(10, 10));
    assert_eq!(got, [None, None, Some(1.0), Some(1.0), None]);
}

#[test]
fn overlapping_windows_when_the_step_is_shorter_than_the_range() {
    let s = at(&[(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 5.0)]);
    let got = over_steps(RangeOp::Sum, &s, steps(2, 5, 1), win(3, 0));
    assert_eq!(got, [Some(3.0), Some(6.0), Some(9.0), Some(12.0)]);
}

#[test]
fn each_aggregation() {
    let s = at(&[(1, 4.0), (2, 1.0), (3, 7.0), (4, 2.0)]);
    let one = |op| over_steps(op, &s, steps(4, 4, 1), win(10, 0))[0].unwrap();
    assert_eq!(one(RangeOp::Count), 4.0);
    assert_eq!(one(RangeOp::Rate), 14.0 / 10.0);
    assert_eq!(one(RangeOp::Sum), 14.0);
    assert_eq!(one(RangeOp::Avg), 3.5);
    assert_eq!(one(RangeOp::Min), 1.0);
    assert_eq!(one(RangeOp::Max), 7.0);
    assert_eq!(one(RangeOp::First), 4.0);
    assert_eq!(one(RangeOp::Last), 2.0);
    // Deviations from 3.5: 0.5, -2.5, 3.5, -1.5; squares 0.25 + 6.25 + 12.25 + 2.25 = 21.
    assert!((one(RangeOp::StdVar) - 21.0 / 4.0).abs() < 1e-12);
    assert!((one(RangeOp::StdDev) - (21.0f64 / 4.0).sqrt()).abs() < 1e-12);
    // Sorted 1 2 4 7: rank 0.5 · 3 = 1.5 → halfway between 2 and 4.
    assert_eq!(one(RangeOp::Quantile(0.5)), 3.0);
    assert_eq!(one(RangeOp::Quantile(1.0)), 7.0);
    assert_eq!(one(RangeOp::Quantile(-0.1)), f64::NEG_INFINITY);
    assert_eq!(one(RangeOp::Quantile(1.1)), f64::INFINITY);
}

#[test]
fn min_and_max_skip_a_leading_nan_as_prometheus_does() {
    let s = at(&[(1, f64::NAN), (2, 3.0), (3, 1.0)]);
    let one = |op| over_steps(op, &s, steps(3, 3, 1), win(10, 0))[0].unwrap();
    assert_eq!(one(RangeOp::Min), 1.0);
    assert_eq!(one(RangeOp::Max), 3.0);
}
