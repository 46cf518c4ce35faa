//! Functions: rate family with extrapolation, regression, over_time, math, labels,
//! absent, time and histogram_quantile, against hand-computed values.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn one(s: &MemStore, q: &str, t: i64) -> f64 {
    let v = vector(s, q, t);
    assert_eq!(v.len(), 1, "{q}: {v:?}");
    v[0].1
}

#[test]
fn rate_and_increase_extrapolate_to_the_window() {
    // c rises 1/s, sampled every 15 s.
    let pts: Vec<(i64, f64)> = (0..=20).map(|i| (i * 15, (i * 15) as f64)).collect();
    let s = store(&[(&[("__name__", "c"), ("job", "a")], &pts)]);
    assert!(close(one(&s, "rate(c[1m])", 300), 1.0));
    // [250, 300] holds 255..300: 45 over 45 s, extended by 5 s at the start.
    assert!(close(one(&s, "increase(c[50s])", 300), 50.0));
    assert_eq!(vector(&s, "rate(c[1m])", 300)[0].0, r#"{job="a"}"#);
}

#[test]
fn counter_resets_and_zero_point() {
    let s = store(&[
        (
            &[("__name__", "r")],
            &[(0, 0.0), (15, 10.0), (30, 20.0), (45, 5.0), (60, 15.0)],
        ),
        (&[("__name__", "z")], &[(10, 1.0), (20, 11.0), (30, 21.0)]),
    ]);
    assert!(close(one(&s, "increase(r[1m])", 60), 35.0));
    assert!(close(one(&s, "resets(r[1m])", 60), 1.0));
    assert!(close(one(&s, "irate(r[1m])", 45), 5.0 / 15.0));
    assert!(close(one(&s, "idelta(r[1m])", 45), -15.0));
    // Extrapolation to the start stops at the counter's zero point (1 s before 10 s).
    assert!(close(one(&s, "increase(z[30s])", 35), 26.0));
    assert!(close(one(&s, "delta(z[30s])", 35), 30.0));
    assert!(
        vector(&s, "rate(z[5s])", 35).is_empty(),
        "fewer than two samples"
    );
}

#[test]
fn regression_and_counting() {
    let s = store(&[(&[("__name__", "g")], &[(0, 1.0), (10, 3.0), (20, 5.0)])]);
    assert!(close(one(&s, "deriv(g[1m])", 20), 0.2));
    assert!(close(one(&s, "predict_linear(g[1m], 100)", 20), 25.0));
    let s = store(&[(
        &[("__name__", "h")],
        &[(0, 1.0), (10, 1.0), (20, 2.0), (30, 2.0), (40, 3.0)],
    )]);
    assert_eq!(one(&s, "changes(h[1m])", 40), 2.0);
}

#[test]
fn over_time_family() {
    let s = store(&[(
        &[("__name__", "g"), ("k", "v")],
        &[(0, 1.0), (10, 2.0), (20, 3.0), (30, 4.0)],
    )]);
    let at = |q: &str| one(&s, q, 30);
    assert_eq!(at("avg_over_time(g[1m])"), 2.5);
    assert_eq!(at("sum_over_time(g[1m])"), 10.0);
    assert_eq!(at("count_over_time(g[1m])"), 4.0);
    assert_eq!(at("min_over_time(g[1m])"), 1.0);
    assert_eq!(at("max_over_time(g[1m])"), 4.0);
    assert_eq!(at("last_over_time(g[1m])"), 4.0);
    assert_eq!(at("present_over_time(g[1m])"), 1.0);
    assert!(close(at("stdvar_over_time(g[1m])"), 1.25));
    assert!(close(at("stddev_over_time(g[1m])"), 1.25f64.sqrt()));
    assert!(close(at("quantile_over_time(0.25, g[1m])"), 1.75));
    assert_eq!(
        vector(&s, "last_over_time(g[1m])", 30)[0].0,
        r#"{__name__="g", k="v"}"#
    );
    assert_eq!(vector(&s, "max_over_time(g[1m])", 30)[0].0, r#"{k="v"}"#);
    assert!(vector(&s, "absent_over_time(g[1m])", 30).is_empty());
    assert_eq!(
        vector(&s, r#"absent_over_time(nope{a="b"}[1m])"#, 30),
        vec![(r#"{a="b"}"#.into(), 1.0)]
    );
}

#[test]
fn math_functions() {
    let s = store(&[
        (&[("__name__", "m"), ("i", "1")], &[(0, -2.5)]),
        (&[("__name__", "m"), ("i", "2")], &[(0, 4.0)]),
    ]);
    let vals = |q: &str| {
        vector(&s, q, 0)
            .into_iter()
            .map(|e| e.1)
            .collect::<Vec<_>>()
    };
    assert_eq!(vals("abs(m)"), vec![2.5, 4.0]);
    assert_eq!(vals("ceil(m)"), vec![-2.0, 4.0]);
    assert_eq!(vals("floor(m)"), vec![-3.0, 4.0]);
    assert_eq!(vals("round(m)"), vec![-2.0, 4.0]);
    assert_eq!(vals("round(m, 3)"), vec![-3.0, 3.0]);
    assert_eq!(vals("clamp(m, -1, 3)"), vec![-1.0, 3.0]);
    assert!(vals("clamp(m, 3, -1)").is_empty());
    assert_eq!(vals("clamp_min(m, 0)"), vec![0.0, 4.0]);
    assert_eq!(vals("clamp_max(m, 0)"), vec![-2.5, 0.0]);
    assert_eq!(vals("sgn(m)"), vec![-1.0, 1.0]);
    assert_eq!(vals(r#"sqrt(m{i="2"})"#), vec![2.0]);
    assert_eq!(vals(r#"log2(m{i="2"})"#), vec![2.0]);
    assert!(vals(r#"ln(m{i="1"})"#)[0].is_nan());
    assert_eq!(vector(&s, r#"exp(m{i="2"})"#, 0)[0].0, r#"{i="2"}"#);
    let sorted = |q: &str| match instant_query(&s, q, 0, &QueryOptions::default()).unwrap() {
        Value::Vector(v) => v.into_iter().map(|e| e.v).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(sorted("sort_desc(m)"), vec![4.0, -2.5]);
    assert_eq!(sorted("sort(m)"), vec![-2.5, 4.0]);
}

#[test]
fn label_functions_and_absent() {
    let s = store(&[(
        &[("__name__", "up"), ("job", "api"), ("inst", "h:1")],
        &[(0, 1.0)],
    )]);
    let r = vector(
        &s,
        r#"label_replace(up, "host", "$1", "inst", "(.*):.*")"#,
        0,
    );
    assert_eq!(
        r[0].0,
        r#"{__name__="up", host="h", inst="h:1", job="api"}"#
    );
    let r = vector(
        &s,
        r#"label_replace(up, "host", "$1", "inst", "nomatch")"#,
        0,
    );
    assert_eq!(r[0].0, r#"{__name__="up", inst="h:1", job="api"}"#);
    let r = vector(&s, r#"label_join(up, "both", "/", "job", "inst")"#, 0);
    assert_eq!(
        r[0].0,
        r#"{__name__="up", both="api/h:1", inst="h:1", job="api"}"#
    );
    assert!(instant_query(
        &s,
        r#"label_replace(up, "x", "", "job", "(")"#,
        0,
        &QueryOptions::default()
    )
    .is_err());
    assert!(vector(&s, "absent(up)", 0).is_empty());
    assert_eq!(
        vector(&s, r#"absent(nope{job="x",a=~"b"})"#, 0),
        vec![(r#"{job="x"}"#.into(), 1.0)]
    );
}

#[test]
fn time_and_conversion_functions() {
    let s = store(&[(&[("__name__", "up")], &[(60, 1.0)])]);
    assert_eq!(scalar(&s, "time()", 100), 100.0);
    assert_eq!(scalar(&s, "scalar(up)", 100), 1.0);
    assert!(scalar(&s, "scalar(nope)", 100).is_nan());
    assert_eq!(vector(&s, "vector(3)", 100), vec![("{}".into(), 3.0)]);
    assert_eq!(vector(&s, "timestamp(up)", 100), vec![("{}".into(), 60.0)]);
    assert_eq!(vector(&s, "minute()", 3600 + 120)[0].1, 2.0);
    assert_eq!(vector(&s, "hour(vector(7200))", 0)[0].1, 2.0);
}

#[test]
fn histogram_quantile_groups_buckets() {
    let bucket = |le| [("__name__", "lat_bucket"), ("le", le)];
    let labels = [bucket("0.1"), bucket("0.5"), bucket("1"), bucket("+Inf")];
    let points = [[(0, 10.0)], [(0, 30.0)], [(0, 40.0)], [(0, 40.0)]];
    let series: Vec<SeriesDef> = labels
        .iter()
        .zip(&points)
        .map(|(l, p)| (l.as_slice(), p.as_slice()))
        .collect();
    let s = store(&series);
    let r = vector(&s, "histogram_quantile(0.5, lat_bucket)", 0);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, "{}");
    assert!(close(r[0].1, 0.3));
}

#[test]
fn same_labelset_after_dropping_names_is_an_error() {
    let s = store(&[
        (&[("__name__", "a"), ("x", "1")], &[(0, 1.0)]),
        (&[("__name__", "b"), ("x", "1")], &[(0, 2.0)]),
    ]);
    let err = instant_query(
        &s,
        r#"sum(abs({__name__=~"a|b"}))"#,
        0,
        &QueryOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, crate::aggregator::promql::QueryError::Execution(_)),
        "{err:?}"
    );
    assert_eq!(scalar(&s, r#"scalar(sum({__name__=~"a|b"}))"#, 0), 3.0);
}
