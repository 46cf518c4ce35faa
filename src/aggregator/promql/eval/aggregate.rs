//! Aggregations (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`,
//! `topk`, `bottomk`, `quantile`, `count_values`) with `by` / `without`, as Prometheus
//! 2.42's `aggregation`: groups in order of first appearance, `without` also drops
//! `__name__`, topk/bottomk keep each element's own labels.

use super::stats::quantile;
use super::{Ctx, Elem, Val, Window};
use crate::aggregator::model::Labels;
use crate::aggregator::promql::QueryError;
use fnv::FnvHashMap;
use promql_parser::parser::{AggregateExpr, LabelModifier};

/// Elements grouped by their output label set, groups in order of first appearance.
struct Groups {
    groups: Vec<(Labels, Vec<Elem>)>,
}

impl Groups {
    /// Groups by the labels `keep` selects. Keys borrow the elements' pairs, so only
    /// one label set per group is built, not one per element.
    fn build(v: Vec<Elem>, keep: impl Fn(&str) -> bool) -> Self {
        // FNV: keys are a few short strings; SipHash was most of a grouping's time.
        let mut index: FnvHashMap<Vec<(&str, &str)>, usize> = FnvHashMap::default();
        let mut firsts = Vec::new();
        let mut which = Vec::with_capacity(v.len());
        for (i, e) in v.iter().enumerate() {
            let key: Vec<_> = e.labels.iter().filter(|(n, _)| keep(n)).collect();
            let next = index.len();
            let g = *index.entry(key).or_insert(next);
            if g == next {
                firsts.push(i);
            }
            which.push(g);
        }
        drop(index);
        let mut groups: Vec<(Labels, Vec<Elem>)> = firsts
            .iter()
            .map(|&i| (v[i].labels.filtered(&keep), Vec::new()))
            .collect();
        for (e, g) in v.into_iter().zip(which) {
            groups[g].1.push(e);
        }
        Groups { groups }
    }
}

impl Groups {
    /// Groups by `key`, whose results are interned (equal sets share one allocation,
    /// see `memo`), so grouping compares ids and builds no label set.
    fn by_key(v: Vec<Elem>, key: impl Fn(&Labels) -> Labels) -> Self {
        let mut index: FnvHashMap<usize, usize> = FnvHashMap::default();
        let mut groups: Vec<(Labels, Vec<Elem>)> = Vec::new();
        for e in v {
            let k = key(&e.labels);
            let g = *index.entry(k.id()).or_insert(groups.len());
            if g == groups.len() {
                groups.push((k, Vec::new()));
            }
            groups[g].1.push(e);
        }
        Groups { groups }
    }
}

/// The output label set of `l` under the `by` / `without` modifier.
fn group_labels(l: &Labels, m: &Option<LabelModifier>) -> Labels {
    match m {
        None => Labels::default(),
        Some(LabelModifier::Include(ls)) => l.filtered(|n| ls.labels.iter().any(|k| k == n)),
        Some(LabelModifier::Exclude(ls)) => {
            l.filtered(|n| n != "__name__" && !ls.labels.iter().any(|k| k == n))
        }
    }
}

impl Ctx<'_> {
    pub(super) fn aggregate(
        &self,
        a: &AggregateExpr,
        t: i64,
        w: Window,
    ) -> Result<Val, QueryError> {
        let op = a.op.to_string();
        let v = self.vector_arg(&a.expr, t, w)?;
        let m = &a.modifier;
        let tag = a as *const AggregateExpr as usize;
        let group = |v| Groups::by_key(v, |l| self.memo.derive(tag, l, |l| group_labels(l, m)));
        let out = match op.as_str() {
            "topk" | "bottomk" => {
                let k = self.scalar_arg(param(a)?, t, w)?;
                let g = group(v);
                g.groups
                    .into_iter()
                    .flat_map(|(_, els)| top(els, k, op == "topk"))
                    .collect()
            }
            "quantile" => {
                let q = self.scalar_arg(param(a)?, t, w)?;
                let g = group(v);
                let vals = |els: Vec<Elem>| els.into_iter().map(|e| e.v).collect();
                g.groups
                    .into_iter()
                    .map(|(labels, els)| Elem {
                        labels,
                        v: quantile(q, vals(els)),
                    })
                    .collect()
            }
            "count_values" => {
                let Val::Str(label) = self.eval(param(a)?, t, w)? else {
                    return Err(QueryError::BadData(
                        "count_values needs a string parameter".into(),
                    ));
                };
                count_values(v, &label, m)?
            }
            _ => {
                let g = group(v);
                let f = simple(&op)?;
                g.groups
                    .into_iter()
                    .map(|(labels, els)| Elem { labels, v: f(&els) })
                    .collect()
            }
        };
        Ok(Val::Vector(out))
    }
}

fn param(a: &AggregateExpr) -> Result<&promql_parser::parser::Expr, QueryError> {
    a.param
        .as_deref()
        .ok_or_else(|| QueryError::BadData(format!("{} needs a parameter", a.op)))
}

/// The aggregation over a group's values, for the operators without a parameter.
fn simple(op: &str) -> Result<fn(&[Elem]) -> f64, QueryError> {
    Ok(match op {
        "sum" => |e| e.iter().map(|e| e.v).sum(),
        "count" => |e| e.len() as f64,
        "group" => |_| 1.0,
        "min" => |e| {
            e.iter()
                .skip(1)
                .fold(e[0].v, |m, x| if m > x.v || m.is_nan() { x.v } else { m })
        },
        "max" => |e| {
            e.iter()
                .skip(1)
                .fold(e[0].v, |m, x| if m < x.v || m.is_nan() { x.v } else { m })
        },
        "avg" => avg,
        "stdvar" => |e| variance(e),
        "stddev" => |e| variance(e).sqrt(),
        other => {
            return Err(QueryError::BadData(format!(
                "unsupported aggregation: {other}"
            )))
        }
    })
}

/// The mean by incremental updates, keeping an infinite mean (2.42's AVG).
fn avg(els: &[Elem]) -> f64 {
    let mut mean = els[0].v;
    for (i, e) in els.iter().enumerate().skip(1) {
        let n = (i + 1) as f64;
        if mean.is_infinite()
            && (e.v.is_infinite() && (mean > 0.0) == (e.v > 0.0) || e.v.is_finite())
        {
            continue;
        }
        mean += e.v / n - mean / n;
    }
    mean
}

/// Population variance by Welford's method (2.42's STDVAR).
fn variance(els: &[Elem]) -> f64 {
    let (mut mean, mut value) = (els[0].v, 0.0);
    for (i, e) in els.iter().enumerate().skip(1) {
        let delta = e.v - mean;
        mean += delta / (i + 1) as f64;
        value += delta * (e.v - mean);
    }
    value / els.len() as f64
}

/// The `k` largest (topk) or smallest (bottomk) elements, NaN ranked last, best first.
fn top(mut els: Vec<Elem>, k: f64, largest: bool) -> Vec<Elem> {
    if k.is_nan() || k < 1.0 {
        return Vec::new();
    }
    els.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if largest => b.v.total_cmp(&a.v),
        _ => a.v.total_cmp(&b.v),
    });
    els.truncate(k.min(usize::MAX as f64) as usize);
    els
}

/// count_values: how many elements have each value, the value in label `label`.
fn count_values(
    v: Vec<Elem>,
    label: &str,
    m: &Option<LabelModifier>,
) -> Result<Vec<Elem>, QueryError> {
    let valid = label
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if label.is_empty() || !valid {
        return Err(QueryError::BadData(format!("invalid label name {label:?}")));
    }
    let key = |e: &Elem| {
        let mut pairs = group_labels(&e.labels, m).to_pairs();
        pairs.push((label.to_string(), format_value(e.v)));
        Labels::new(pairs)
    };
    let keyed: Vec<Elem> = v
        .iter()
        .map(|e| Elem {
            labels: key(e),
            v: e.v,
        })
        .collect();
    let g = Groups::build(keyed, |_| true);
    Ok(g.groups
        .into_iter()
        .map(|(labels, els)| Elem {
            labels,
            v: els.len() as f64,
        })
        .collect())
}

/// A value as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
fn format_value(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{v}")
}
