//! Evaluator tests over [`MemStore`] with hand-computed expectations, one file per
//! feature family.

mod aggregate;
mod binary;
mod functions;
mod promtool;
mod range_steps;
mod selectors;

use super::super::{instant_query, range_query, QueryOptions, Value};
use crate::aggregator::model::{stale_nan, Appender, Labels, MemStore, Sample, Series};

/// A store holding `series`: (labels as `name{a="b"}`-less pairs, (t seconds, v)).
/// One series for [`store`]: label pairs and `(t seconds, value)` points.
pub(super) type SeriesDef<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

pub(super) fn store(series: &[SeriesDef]) -> MemStore {
    let s = MemStore::new();
    let batch: Vec<(Labels, Vec<Sample>)> = series
        .iter()
        .map(|(l, pts)| {
            let samples = pts
                .iter()
                .map(|&(t, v)| Sample { t: t * 1000, v })
                .collect();
            (Labels::from_pairs(l), samples)
        })
        .collect();
    s.append(&batch).expect("append");
    s
}

/// The instant query's result as sorted `(labels, value)` pairs.
pub(super) fn vector(s: &MemStore, q: &str, t_s: i64) -> Vec<(String, f64)> {
    match instant_query(s, q, t_s * 1000, &QueryOptions::default()).expect(q) {
        Value::Vector(v) => {
            let mut out: Vec<_> = v.into_iter().map(|e| (e.labels.to_string(), e.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        other => panic!("{q}: not a vector: {other:?}"),
    }
}

pub(super) fn scalar(s: &MemStore, q: &str, t_s: i64) -> f64 {
    match instant_query(s, q, t_s * 1000, &QueryOptions::default()).expect(q) {
        Value::Scalar { v, .. } => v,
        other => panic!("{q}: not a scalar: {other:?}"),
    }
}

pub(super) fn matrix(s: &MemStore, q: &str, start: i64, end: i64, step: i64) -> Vec<Series> {
    let opts = QueryOptions::default();
    match range_query(s, q, start * 1000, end * 1000, step * 1000, &opts).expect(q) {
        Value::Matrix(m) => m,
        other => panic!("{q}: not a matrix: {other:?}"),
    }
}

pub(super) fn stale() -> f64 {
    stale_nan()
}
