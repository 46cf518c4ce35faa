//! Functions that build label sets: label_replace, label_join, and the label set
//! `absent` / `absent_over_time` report (the selector's equality matchers).

use super::Elem;
use crate::aggregator::model::Labels;
use crate::aggregator::promql::QueryError;
use fnv::FnvHashSet;
use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use regex::Regex;
use std::collections::HashSet;

fn valid_label_name(n: &str) -> bool {
    let mut cs = n.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `labels` with `name` set to `value` (removed when empty).
fn with_label(labels: &Labels, name: &str, value: String) -> Labels {
    let mut pairs = labels.to_pairs();
    pairs.push((name.to_string(), value));
    Labels::new(pairs)
}

/// label_replace(v, dst, replacement, src, regex).
pub(crate) fn label_replace(
    v: Vec<Elem>,
    dst: &str,
    repl: &str,
    src: &str,
    re: &str,
) -> Result<Vec<Elem>, QueryError> {
    let re = Regex::new(&format!("^(?s:{re})$")).map_err(|e| {
        QueryError::BadData(format!(
            "invalid regular expression in label_replace(): {re}: {e}"
        ))
    })?;
    if !valid_label_name(dst) {
        return Err(QueryError::BadData(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let out = v.into_iter().map(|e| {
        let value = e.labels.get(src).unwrap_or("").to_string();
        let Some(caps) = re.captures(&value) else {
            return e;
        };
        let mut res = String::new();
        caps.expand(repl, &mut res);
        Elem {
            labels: with_label(&e.labels, dst, res),
            v: e.v,
        }
    });
    unique(out.collect())
}

/// label_join(v, dst, separator, src...).
pub(crate) fn label_join(
    v: Vec<Elem>,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Vec<Elem>, QueryError> {
    if !valid_label_name(dst) {
        return Err(QueryError::BadData(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let out = v.into_iter().map(|e| {
        let vals: Vec<&str> = srcs.iter().map(|s| e.labels.get(s).unwrap_or("")).collect();
        Elem {
            labels: with_label(&e.labels, dst, vals.join(sep)),
            v: e.v,
        }
    });
    unique(out.collect())
}

/// Fails when two elements have the same label set, as Prometheus does. Runs on every
/// function result at every step: FNV, as SipHash over whole label sets was most of a
/// range query's time.
pub(crate) fn unique(v: Vec<Elem>) -> Result<Vec<Elem>, QueryError> {
    let mut seen = FnvHashSet::with_capacity_and_hasher(v.len(), Default::default());
    if v.iter().all(|e| seen.insert(&e.labels)) {
        return Ok(v);
    }
    Err(QueryError::Execution(
        "vector cannot contain metrics with the same labelset".into(),
    ))
}

/// The labels `absent(expr)` reports: the equality matchers of a selector argument
/// (not the metric name; a name matched twice is dropped).
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let vs: &VectorSelector = match arg {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut dup = HashSet::new();
    for m in &vs.matchers.matchers {
        if m.name == "__name__" || !matches!(m.op, MatchOp::Equal) {
            continue;
        }
        if pairs.iter().any(|(n, _)| n == &m.name) {
            dup.insert(m.name.clone());
        } else {
            pairs.push((m.name.clone(), m.value.clone()));
        }
    }
    pairs.retain(|(n, _)| !dup.contains(n));
    Labels::new(pairs)
}
