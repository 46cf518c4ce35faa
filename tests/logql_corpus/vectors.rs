//! The oracle's operators above range aggregations, step by step over [`Series`]:
//! vector aggregations with `by`/`without`, `topk`, scalar maps and comparisons,
//! one-to-one binary operators, and the result shapes (matrix, vector).

use crate::data::Labels;
use crate::expect::Expected;
use crate::reference::{group, Series};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub enum Agg {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

/// `op by (names) (inner)` (or `without`), step by step.
pub fn aggregate(inner: &Series, op: Agg, names: &[&str], without: bool) -> Series {
    let mut groups: BTreeMap<(Labels, i64), Vec<f64>> = BTreeMap::new();
    for (labels, points) in inner {
        for (t, v) in points {
            groups
                .entry((group(labels, names, without), *t))
                .or_default()
                .push(*v);
        }
    }
    let mut out = Series::new();
    for ((labels, t), vs) in groups {
        let sum: f64 = vs.iter().sum();
        let v = match op {
            Agg::Sum => sum,
            Agg::Avg => sum / vs.len() as f64,
            Agg::Min => vs.iter().cloned().fold(f64::INFINITY, f64::min),
            Agg::Max => vs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            Agg::Count => vs.len() as f64,
        };
        out.entry(labels).or_default().insert(t, v);
    }
    out
}

/// `topk(k, inner)` (no grouping): at each step the k largest, labels kept.
pub fn topk(inner: &Series, k: usize) -> Series {
    let mut by_step: BTreeMap<i64, Vec<(f64, &Labels)>> = BTreeMap::new();
    for (labels, points) in inner {
        for (t, v) in points {
            by_step.entry(*t).or_default().push((*v, labels));
        }
    }
    let mut out = Series::new();
    for (t, mut vs) in by_step {
        vs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (v, labels) in vs.into_iter().take(k) {
            out.entry(labels.clone()).or_default().insert(t, v);
        }
    }
    out
}

/// Every value mapped; `None` drops the point (a comparison without `bool`).
pub fn map(inner: &Series, f: impl Fn(f64) -> Option<f64>) -> Series {
    let mut out = Series::new();
    for (labels, points) in inner {
        let kept: BTreeMap<i64, f64> = points
            .iter()
            .filter_map(|(t, v)| f(*v).map(|v| (*t, v)))
            .collect();
        if !kept.is_empty() {
            out.insert(labels.clone(), kept);
        }
    }
    out
}

/// `lhs op rhs` between series with identical labels, at steps both have.
pub fn zip(lhs: &Series, rhs: &Series, f: impl Fn(f64, f64) -> Option<f64>) -> Series {
    zip_by(lhs, rhs, Labels::clone, f)
}

/// `lhs op ignoring (..) group_left rhs`-like matching: each lhs series meets the rhs
/// series whose labels are `key(lhs labels)`; the result keeps the lhs labels.
pub fn zip_by(
    lhs: &Series,
    rhs: &Series,
    key: impl Fn(&Labels) -> Labels,
    f: impl Fn(f64, f64) -> Option<f64>,
) -> Series {
    let mut out = Series::new();
    for (labels, points) in lhs {
        let Some(other) = rhs.get(&key(labels)) else {
            continue;
        };
        let kept: BTreeMap<i64, f64> = points
            .iter()
            .filter_map(|(t, a)| f(*a, *other.get(t)?).map(|v| (*t, v)))
            .collect();
        if !kept.is_empty() {
            out.insert(labels.clone(), kept);
        }
    }
    out
}

/// Every series' labels rewritten (`label_replace`).
pub fn relabel(inner: &Series, f: impl Fn(&Labels) -> Labels) -> Series {
    inner.iter().map(|(l, p)| (f(l), p.clone())).collect()
}

pub fn matrix(s: Series) -> Expected {
    Expected::Matrix(
        s.into_iter()
            .map(|(l, p)| (l, p.into_iter().collect()))
            .collect(),
    )
}

/// The series' values at `t` (an instant query).
pub fn vector(s: Series, t: i64) -> Expected {
    Expected::Vector(
        s.into_iter()
            .filter_map(|(l, p)| p.get(&t).map(|v| (l, *v)))
            .collect(),
    )
}
