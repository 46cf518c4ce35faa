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
pub(super) struct Match<'a> {
    pub m: &'a BinModifier,
    pub memo: &'a LabelMemo,
    pub tag: usize,
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
    match &m.matching {
        Some(LabelModifier::Include(ls)) => l.filtered(|n| ls.labels.iter().any(|k| k == n)),
        Some(LabelModifier::Exclude(ls)) => {
            l.filtered(|n| n != "__name__" && !ls.labels.iter().any(|k| k == n))
        }
        None => l.filtered(|n| n != "__name__"),
    }
}

/// A match signature as the step's hash maps compare it: by allocation when the memo
/// interned every signature of the step in one generation (equal contents are then one
/// allocation; no content hashing per element and step), else by contents.
#[derive(Clone, PartialEq, Eq, Hash)]
enum SigKey {
    Id(usize),
    Labels(Labels),
}

/// Both sides' match signatures, element by element.
struct Sigs {
    l: Vec<Labels>,
    r: Vec<Labels>,
    by_id: bool,
}

impl Sigs {
    fn of(mm: &Match, l: &[Elem], r: &[Elem]) -> Sigs {
        let generation = mm.memo.generation();
        let l = l.iter().map(|e| mm.sig(&e.labels)).collect();
        let r = r.iter().map(|e| mm.sig(&e.labels)).collect();
        let by_id = mm.memo.generation() == generation;
        Sigs { l, r, by_id }
    }

    fn key(&self, sig: &Labels) -> SigKey {
        if self.by_id {
            SigKey::Id(sig.id())
        } else {
            SigKey::Labels(sig.clone())
        }
    }
}

pub(super) fn set_op(op: &str, l: Vec<Elem>, r: Vec<Elem>, m: &Match) -> Vec<Elem> {
    let sigs = Sigs::of(m, &l, &r);
    let rkeys: HashSet<SigKey> = sigs.r.iter().map(|s| sigs.key(s)).collect();
    let in_r = |s: &Labels| rkeys.contains(&sigs.key(s));
    let l = l.into_iter().zip(&sigs.l);
    match op {
        "and" => l.filter(|(_, s)| in_r(s)).map(|(e, _)| e).collect(),
        "unless" => l.filter(|(_, s)| !in_r(s)).map(|(e, _)| e).collect(),
        _ => {
            let lkeys: HashSet<SigKey> = sigs.l.iter().map(|s| sigs.key(s)).collect();
            let extra = r
                .into_iter()
                .zip(&sigs.r)
                .filter(|(_, s)| !lkeys.contains(&sigs.key(s)))
                .map(|(e, _)| e);
            l.map(|(e, _)| e).chain(extra).collect()
        }
    }
}

fn many_to_many(sig: &Labels, side: &str, a: &Labels, b: &Labels) -> QueryError {
    QueryError::Execution(format!(
        "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side"
    ))
}

/// Arithmetic or comparison between two vectors (one-to-one, many-to-one, one-to-many).
pub(super) fn vector_vector(
    op: &str,
    l: Vec<Elem>,
    r: Vec<Elem>,
    mm: &Match,
) -> Result<Vec<Elem>, QueryError> {
    let m = mm.m;
    let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if one_to_many { (r, l) } else { (l, r) };
    let sigs = Sigs::of(mm, &many, &one);
    let mut one_by_sig: HashMap<SigKey, usize> =
        HashMap::with_capacity_and_hasher(one.len(), Default::default());
    for (i, sig) in sigs.r.iter().enumerate() {
        if let Some(prev) = one_by_sig.insert(sigs.key(sig), i) {
            let side = if one_to_many { "left" } else { "right" };
            return Err(many_to_many(sig, side, &one[i].labels, &one[prev].labels));
        }
    }
    let mut matched = Matched::new(m, many.len());
    let mut out = Vec::with_capacity(many.len().min(one.len()));
    for (e, sig) in many.iter().zip(&sigs.l) {
        let key = sigs.key(sig);
        let Some(&i) = one_by_sig.get(&key) else {
            continue;
        };
        let o = &one[i];
        let (vl, vr) = if one_to_many { (o.v, e.v) } else { (e.v, o.v) };
        let (mut value, keep) = elem_op(op, vl, vr)?;
        if m.return_bool {
            value = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let labels = mm.result(&e.labels, &o.labels, op);
        matched.check(key, &labels)?;
        out.push(Elem { labels, v: value });
    }
    Ok(out)
}

/// What a step matched so far. One-to-one: one result per match group; many-to-one:
/// unique result label sets within a group.
enum Matched {
    OneToOne(HashSet<SigKey>),
    ManyToOne(HashSet<(SigKey, Labels)>),
}

impl Matched {
    fn new(m: &BinModifier, n: usize) -> Matched {
        match m.card {
            VectorMatchCardinality::OneToOne => {
                Matched::OneToOne(HashSet::with_capacity_and_hasher(n, Default::default()))
            }
            _ => Matched::ManyToOne(HashSet::with_capacity_and_hasher(n, Default::default())),
        }
    }

    fn check(&mut self, sig: SigKey, labels: &Labels) -> Result<(), QueryError> {
        let fresh = match self {
            Matched::OneToOne(seen) => seen.insert(sig),
            Matched::ManyToOne(seen) => seen.insert((sig, labels.clone())),
        };
        match (fresh, self) {
            (true, _) => Ok(()),
            (false, Matched::OneToOne(_)) => Err(QueryError::Execution(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
            )),
            (false, Matched::ManyToOne(_)) => Err(QueryError::Execution(
                "multiple matches for matching labels; many-to-one matching must be explicit (group_left/group_right)"
                    .into(),
            )),
        }
    }
}

/// The result's labels: the "many" side's, less the name for arithmetic, narrowed to
/// the matching labels for one-to-one, plus `group_x(...)` labels from the "one" side.
fn result_labels(many: &Labels, one: &Labels, op: &str, m: &BinModifier) -> Labels {
    let mut pairs = many.to_pairs();
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
