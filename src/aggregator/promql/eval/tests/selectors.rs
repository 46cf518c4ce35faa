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

fn gauge() -> MemStore {
    // g = t/10 every 10 s from 0 to 600 s.
    let pts: Vec<(i64, f64)> = (0..=60).map(|i| (i * 10, i as f64)).collect();
    store(&[(&[("__name__", "g")], &pts)])
}

#[test]
fn offset_and_at_move_the_reference_time() {
    let s = gauge();
    assert_eq!(vector(&s, "g offset 1m", 300)[0].1, 24.0);
    assert_eq!(vector(&s, "g offset -1m", 300)[0].1, 36.0);
    assert_eq!(vector(&s, "g @ 100", 300)[0].1, 10.0);
    assert_eq!(vector(&s, "g @ 100 offset 50s", 300)[0].1, 5.0);
    let m = matrix(&s, "g @ start()", 100, 200, 50);
    let vals: Vec<f64> = m[0].samples.iter().map(|p| p.v).collect();
    assert_eq!(vals, vec![10.0, 10.0, 10.0]);
    let m = matrix(&s, "g @ end()", 100, 200, 50);
    assert!(m[0].samples.iter().all(|p| p.v == 20.0));
}

#[test]
fn range_selector_includes_both_ends() {
    let s = gauge();
    match instant_query(&s, "g[30s]", 300_000, &QueryOptions::default()).unwrap() {
        Value::Matrix(m) => {
            let ts: Vec<i64> = m[0].samples.iter().map(|p| p.t / 1000).collect();
            assert_eq!(ts, vec![270, 280, 290, 300]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(vector(&s, "count_over_time(g[30s])", 300)[0].1, 4.0);
    assert_eq!(
        vector(&s, "count_over_time(g[30s] offset 5s)", 300)[0].1,
        3.0
    );
}

#[test]
fn subquery_steps_align_to_multiples_of_the_step() {
    let s = gauge();
    // Steps of 20 s within [245, 305]: 260, 280, 300.
    assert_eq!(vector(&s, "count_over_time(g[60s:20s])", 305)[0].1, 3.0);
    assert_eq!(vector(&s, "min_over_time(g[60s:20s])", 305)[0].1, 26.0);
    // Default step 1 m: [0, 300] holds 0, 60, ..., 300.
    assert_eq!(vector(&s, "count_over_time(g[5m:])", 300)[0].1, 6.0);
    assert_eq!(
        vector(&s, "max_over_time(g[1m:20s] offset 1m)", 300)[0].1,
        24.0
    );
    // Nested: the inner subquery is evaluated at each outer step.
    assert_eq!(
        vector(&s, "max_over_time(max_over_time(g[20s:10s])[40s:20s])", 300)[0].1,
        30.0
    );
}

#[test]
fn limits_fail_the_query() {
    let s = gauge();
    let opts = QueryOptions {
        max_samples: 3,
        ..Default::default()
    };
    let err = range_query(&s, "g", 0, 100_000, 10_000, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            crate::aggregator::promql::QueryError::TooManySamples(_)
        ),
        "{err:?}"
    );
    let opts = QueryOptions {
        timeout: std::time::Duration::ZERO,
        ..Default::default()
    };
    let err = range_query(&s, "g", 0, 100_000, 10_000, &opts).unwrap_err();
    assert!(
        matches!(err, crate::aggregator::promql::QueryError::Timeout(_)),
        "{err:?}"
    );
    let opts = QueryOptions {
        max_points: 5,
        ..Default::default()
    };
    assert!(range_query(&s, "g", 0, 100_000, 10_000, &opts).is_err());
}
