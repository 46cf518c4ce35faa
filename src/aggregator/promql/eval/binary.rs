//! Binary operators: arithmetic, comparison (filtering, or 0/1 with `bool`), and the
//! set operators, between scalars and vectors, with `on` / `ignoring` and
//! `group_left` / `group_right` matching as Prometheus 2.42's `VectorBinop`.

use super::memo::{LabelMemo, DROP_NAME};
use super::{drop_name, Ctx, Elem, Val, Window};
use crate::aggregator::model::Labels;
use crate::aggregator::promql::QueryError;
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};
// FNV: signatures are hashed per element and step; SipHash dominated vector matching.
use fnv::{FnvHashMap as HashMap, FnvHashSet as HashSet};

/// `lhs op rhs` and whether a comparison holds (arithmetic always "holds").
fn elem_op(op: &str, l: f64, r: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        "+" => (l + r, true),
        "-" => (l - r, true),
        "*" => (l * r, true),
        "/" => (l / r, true),
        "%" => (l % r, true),
        "^" => (l.powf(r), true),
        "atan2" => (l.atan2(r), true),
        "==" => (l, l == r),
        "!=" => (l, l != r),
        ">" => (l, l > r),
        "<" => (l, l < r),
        ">=" => (l, l >= r),
        "<=" => (l, l <= r),
        other => {
            return Err(QueryError::BadData(format!(
                "operator {other} not allowed here"
            )))
        }
    })
}

fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=")
}

/// Arithmetic drops the metric name (atan2 keeps it in 2.42).
fn drops_name(op: &str) -> bool {
    matches!(op, "+" | "-" | "*" | "/" | "%" | "^")
}

impl Ctx<'_> {
    pub(super) fn binary(&self, b: &BinaryExpr, t: i64, w: Window) -> Result<Val, QueryError> {
        let op = b.op.to_string();
        let lhs = self.eval(&b.lhs, t, w)?;
        let rhs = self.eval(&b.rhs, t, w)?;
        let bool_ = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let memo = &self.memo;
        let tag = b as *const BinaryExpr as usize;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => {
                let (v, keep) = elem_op(&op, l, r)?;
                Ok(Val::Scalar(if is_comparison(&op) { f64::from(u8::from(keep)) } else { v }))
            }
            (Val::Vector(l), Val::Scalar(r)) => vector_scalar(&op, l, r, false, bool_, memo).map(Val::Vector),
            (Val::Scalar(l), Val::Vector(r)) => vector_scalar(&op, r, l, true, bool_, memo).map(Val::Vector),
            (Val::Vector(l), Val::Vector(r)) => {
                let m = b.modifier.clone().unwrap_or_default();
                let mm = Match { m: &m, memo, tag };
                match op.as_str() {
                    "and" | "or" | "unless" => Ok(Val::Vector(set_op(&op, l, r, &mm))),
                    _ => vector_vector(&op, l, r, &mm).map(Val::Vector),
                }
            }
            (l, r) => Err(QueryError::BadData(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }
}

/// A vector against a scalar; `swap` when the scalar was the left operand.
fn vector_scalar(
    op: &str,
    v: Vec<Elem>,
    s: f64,
    swap: bool,
    bool_: bool,
    memo: &LabelMemo,
) -> Result<Vec<Elem>, QueryError> {
    let mut out = Vec::with_capacity(v.len());
    for e in v {
        let (l, r) = if swap { (s, e.v) } else { (e.v, s) };
        let (mut value, mut keep) = elem_op(op, l, r)?;
        if is_comparison(op) && swap {
            value = r; // the vector's value, even on the right
        }
        if bool_ {
            (value, keep) = (f64::from(u8::from(keep)), true);
        }
        if keep {
            let labels = if drops_name(op) || bool_ {
                memo.derive(DROP_NAME, &e.labels, drop_name)
            } else {
                e.labels
            };
            out.push(Elem { labels, v: value });
        }
    }
    Ok(out)
}

/// A vector matching's modifier, and the memo its signatures and result label sets
/// are worked out through (once per series and query, see `memo`).
struct Match<'a> {
    m: &'a BinModifier,
    memo: &'a LabelMemo,
    tag: usize,
}

impl Match<'_> {
    fn sig(&self, l: &Labels) -> Labels {
        self.memo.derive(self.tag, l, |l| signature(l, self.m))
    }

    /// `result_labels`, less the name under `bool`. Tagged `tag + 1`: no other node
    /// starts one byte into this one.
    fn result(&self, many: &Labels, one: &Labels, op: &str) -> Labels {
        self.memo.derive2(self.tag + 1, many, one, |a, b| {
            let labels = result_labels(a, b, op, self.m);
            if self.m.return_bool {
                drop_name(&labels)
            } else {
                labels
            }
        })
    }
}

/// The labels matching compares: `on(...)` only those, else all but `ignoring(...)`
/// and the metric name.
fn signature(l: &Labels, m: &BinModifier) -> Labels {
    let pairs = l.pairs().iter();
    Labels::new(match &m.matching {
        Some(LabelModifier::Include(ls)) => pairs
            .filter(|(n, _)| ls.labels.contains(n))
            .cloned()
            .collect(),
        Some(LabelModifier::Exclude(ls)) => pairs
            .filter(|(n, _)| n != "__name__" && !ls.labels.contains(n))
            .cloned()
            .collect(),
        None => pairs.filter(|(n, _)| n != "__name__").cloned().collect(),
    })
}

fn set_op(op: &str, l: Vec<Elem>, r: Vec<Elem>, m: &Match) -> Vec<Elem> {
    let rsigs: HashSet<Labels> = r.iter().map(|e| m.sig(&e.labels)).collect();
    match op {
        "and" => l
            .into_iter()
            .filter(|e| rsigs.contains(&m.sig(&e.labels)))
            .collect(),
        "unless" => l
            .into_iter()
            .filter(|e| !rsigs.contains(&m.sig(&e.labels)))
            .collect(),
        _ => {
            let lsigs: HashSet<Labels> = l.iter().map(|e| m.sig(&e.labels)).collect();
            let extra = r.into_iter().filter(|e| !lsigs.contains(&m.sig(&e.labels)));
            l.into_iter().chain(extra).collect()
        }
    }
}

fn many_to_many(sig: &Labels, side: &str, a: &Labels, b: &Labels) -> QueryError {
    QueryError::Execution(format!(
        "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side"
    ))
}

/// Arithmetic or comparison between two vectors (one-to-one, many-to-one, one-to-many).
fn vector_vector(
    op: &str,
    l: Vec<Elem>,
    r: Vec<Elem>,
    mm: &Match,
) -> Result<Vec<Elem>, QueryError> {
    let m = mm.m;
    let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if one_to_many { (r, l) } else { (l, r) };
    let mut one_sigs: HashMap<Labels, &Elem> =
        HashMap::with_capacity_and_hasher(one.len(), Default::default());
    for e in &one {
        let sig = mm.sig(&e.labels);
        if let Some(prev) = one_sigs.insert(sig.clone(), e) {
            let side = if one_to_many { "left" } else { "right" };
            return Err(many_to_many(&sig, side, &e.labels, &prev.labels));
        }
    }
    let mut matched: HashMap<Labels, HashSet<Labels>> = HashMap::default();
    let mut out = Vec::new();
    for e in &many {
        let sig = mm.sig(&e.labels);
        let Some(o) = one_sigs.get(&sig) else {
            continue;
        };
        let (vl, vr) = if one_to_many { (o.v, e.v) } else { (e.v, o.v) };
        let (mut value, keep) = elem_op(op, vl, vr)?;
        if m.return_bool {
            value = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let labels = mm.result(&e.labels, &o.labels, op);
        check_unique(&mut matched, sig, &labels, m)?;
        out.push(Elem { labels, v: value });
    }
    Ok(out)
}

/// One-to-one: one result per match group; many-to-one: unique result label sets.
fn check_unique(
    matched: &mut HashMap<Labels, HashSet<Labels>>,
    sig: Labels,
    labels: &Labels,
    m: &BinModifier,
) -> Result<(), QueryError> {
    let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
    let set = matched.entry(sig).or_default();
    if one_to_one && !set.is_empty() {
        return Err(QueryError::Execution(
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
        ));
    }
    if !set.insert(labels.clone()) {
        return Err(QueryError::Execution(
            "multiple matches for matching labels; many-to-one matching must be explicit (group_left/group_right)"
                .into(),
        ));
    }
    Ok(())
}

/// The result's labels: the "many" side's, less the name for arithmetic, narrowed to
/// the matching labels for one-to-one, plus `group_x(...)` labels from the "one" side.
fn result_labels(many: &Labels, one: &Labels, op: &str, m: &BinModifier) -> Labels {
    let mut pairs = many.pairs().to_vec();
    if drops_name(op) {
        pairs.retain(|(n, _)| n != "__name__");
    }
    if matches!(m.card, VectorMatchCardinality::OneToOne) {
        match &m.matching {
            Some(LabelModifier::Include(ls)) => pairs.retain(|(n, _)| ls.labels.contains(n)),
            Some(LabelModifier::Exclude(ls)) => pairs.retain(|(n, _)| !ls.labels.contains(n)),
            None => {}
        }
    }
    if let Some(include) = m.card.labels() {
        for n in &include.labels {
            pairs.retain(|(k, _)| k != n);
            if let Some(v) = one.get(n) {
                pairs.push((n.clone(), v.to_string()));
            }
        }
    }
    Labels::new(pairs)
}
