//! Literals, instant and range selectors, lookback, staleness, offset, `@`, subqueries.

use super::*;

fn two_series() -> MemStore {
    store(&[
        (
            &[("__name__", "up"), ("job", "a")],
            &[(0, 1.0), (60, 2.0), (120, 3.0)],
        ),
        (
            &[("__name__", "up"), ("job", "b")],
            &[(0, 10.0), (30, 20.0)],
        ),
        (&[("__name__", "down"), ("job", "a")], &[(0, 5.0)]),
    ])
}

#[test]
fn number_literal_is_a_scalar() {
    let s = MemStore::new();
    assert_eq!(scalar(&s, "42", 10), 42.0);
    assert_eq!(scalar(&s, "-1.5e3", 10), -1500.0);
    assert!(scalar(&s, "NaN", 10).is_nan());
}

#[test]
fn selector_takes_latest_sample_within_lookback() {
    let s = two_series();
    let r = vector(&s, "up", 90);
    assert_eq!(
        r,
        vec![
            (r#"{__name__="up", job="a"}"#.into(), 2.0),
            (r#"{__name__="up", job="b"}"#.into(), 20.0),
        ]
    );
    // job=b's last sample (30 s) is exactly 5 m old at 330 s: still seen; gone at 331 s.
    assert_eq!(vector(&s, r#"up{job="b"}"#, 330).len(), 1);
    assert_eq!(vector(&s, r#"up{job="b"}"#, 331).len(), 0);
}

#[test]
fn all_matcher_kinds() {
    let s = two_series();
    assert_eq!(vector(&s, r#"up{job!="a"}"#, 60).len(), 1);
    assert_eq!(vector(&s, r#"up{job=~"a|b"}"#, 60).len(), 2);
    assert_eq!(vector(&s, r#"up{job!~"b"}"#, 60)[0].1, 2.0);
    assert_eq!(vector(&s, r#"{__name__=~"up|down",job="a"}"#, 60).len(), 2);
    assert_eq!(vector(&s, r#"up{job=""}"#, 60).len(), 0);
}

#[test]
fn stale_marker_ends_the_series() {
    let s = store(&[(&[("__name__", "m")], &[(0, 1.0), (60, stale()), (120, 3.0)])]);
    assert_eq!(vector(&s, "m", 30), vec![("{__name__=\"m\"}".into(), 1.0)]);
    assert!(vector(&s, "m", 60).is_empty());
    assert!(vector(&s, "m", 90).is_empty());
    assert_eq!(vector(&s, "m", 120)[0].1, 3.0);
}

#[test]
fn range_query_gathers_steps_into_series() {
    let s = two_series();
    let m = matrix(&s, "up", 0, 120, 60);
    assert_eq!(m.len(), 2);
    let pts: Vec<(i64, f64)> = m[0].samples.iter().map(|p| (p.t, p.v)).collect();
    assert_eq!(pts, vec![(0, 1.0), (60_000, 2.0), (120_000, 3.0)]);
    let pts: Vec<(i64, f64)> = m[1].samples.iter().map(|p| (p.t, p.v)).collect();
    assert_eq!(pts, vec![(0, 10.0), (60_000, 20.0), (120_000, 20.0)]);
}

#[test]
fn range_query_of_scalar_is_one_unlabelled_series() {
    let s = MemStore::new();
    let m = matrix(&s, "7", 0, 20, 10);
    assert_eq!(m.len(), 1);
    assert!(m[0].labels.is_empty());
    assert_eq!(m[0].samples.len(), 3);
}

#[test]
fn parse_errors_are_bad_data() {
    let s = MemStore::new();
    let err = instant_query(&s, "up{", 0, &QueryOptions::default()).unwrap_err();
    assert!(
        matches!(err, crate::aggregator::promql::QueryError::BadData(_)),
        "{err:?}"
    );
    let err = range_query(&s, "up", 0, 10, 0, &QueryOptions::default()).unwrap_err();
    assert!(
        matches!(err, crate::aggregator::promql::QueryError::BadData(_)),
        "{err:?}"
    );
}
