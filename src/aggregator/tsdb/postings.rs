//! The head's inverted index: label name → value → the sorted refs of the series with
//! that label. `candidates` narrows a selector to a few refs without scanning every
//! series: each matcher that cannot match an absent label (`job="x"`, `job=~"a|b"`,
//! `job!=""`) contributes the union of its matching values' lists, and those are
//! intersected. Matchers that also match "" leave the set to the final label check.

use crate::aggregator::model::Labels;
use promql_parser::label::{MatchOp, Matcher};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Postings {
    by_name: BTreeMap<String, BTreeMap<String, Vec<u64>>>,
}

impl Postings {
    /// Indexes series `r`; refs arrive in increasing order, so lists stay sorted.
    pub fn add(&mut self, r: u64, labels: &Labels) {
        for (n, v) in labels.iter() {
            let values = self.by_name.entry(n.to_owned()).or_default();
            values.entry(v.to_owned()).or_default().push(r);
        }
    }

    /// Keeps only the refs `keep` holds for (the head's gc), in one pass.
    pub fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        for values in self.by_name.values_mut() {
            values.retain(|_, refs| {
                refs.retain(|&r| keep(r));
                !refs.is_empty()
            });
        }
        self.by_name.retain(|_, values| !values.is_empty());
    }

    /// Sets the sorted refs of `name=value` (a block's index, read back).
    pub fn set_list(&mut self, name: &str, value: &str, refs: Vec<u64>) {
        let values = self.by_name.entry(name.to_owned()).or_default();
        values.insert(value.to_owned(), refs);
    }

    /// Every `(name, value, refs)`, sorted by name then value.
    pub fn lists(&self) -> impl Iterator<Item = (&str, &str, &[u64])> {
        self.by_name.iter().flat_map(|(n, values)| {
            values
                .iter()
                .map(move |(v, refs)| (n.as_str(), v.as_str(), refs.as_slice()))
        })
    }

    /// The refs that may satisfy all `matchers` (sorted), or `None`: no matcher narrows,
    /// every series is a candidate.
    pub fn candidates(&self, matchers: &[Matcher]) -> Option<Vec<u64>> {
        let mut lists = matchers
            .iter()
            .filter(|m| !m.is_match(""))
            .map(|m| self.matching(m));
        let first = lists.next()?;
        Some(lists.fold(first, |acc, l| intersect(&acc, &l)))
    }

    fn matching(&self, m: &Matcher) -> Vec<u64> {
        let Some(values) = self.by_name.get(&m.name) else {
            return Vec::new();
        };
        if let MatchOp::Equal = m.op {
            return values.get(&m.value).cloned().unwrap_or_default();
        }
        let mut refs: Vec<u64> = values
            .iter()
            .filter(|(v, _)| m.is_match(v))
            .flat_map(|(_, refs)| refs.iter().copied())
            .collect();
        refs.sort_unstable();
        refs.dedup();
        refs
    }
}

fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use promql_parser::parser::token::{T_EQL, T_EQL_REGEX, T_NEQ};

    fn m(op: u16, n: &str, v: &str) -> Matcher {
        Matcher::new_matcher(op, n.into(), v.into()).unwrap()
    }

    #[test]
    fn candidates_intersect_the_narrowing_matchers() {
        let mut p = Postings::default();
        p.add(0, &Labels::from_pairs(&[("__name__", "up"), ("job", "a")]));
        p.add(1, &Labels::from_pairs(&[("__name__", "up"), ("job", "b")]));
        p.add(2, &Labels::from_pairs(&[("__name__", "x"), ("job", "b")]));
        p.add(3, &Labels::from_pairs(&[("__name__", "up")]));
        assert_eq!(
            p.candidates(&[m(T_EQL, "__name__", "up")]),
            Some(vec![0, 1, 3])
        );
        let both = [m(T_EQL, "__name__", "up"), m(T_EQL_REGEX, "job", "b|c")];
        assert_eq!(p.candidates(&both), Some(vec![1]));
        assert_eq!(p.candidates(&[m(T_NEQ, "job", "")]), Some(vec![0, 1, 2]));
        assert_eq!(p.candidates(&[m(T_EQL, "job", "")]), None);
        assert_eq!(p.candidates(&[m(T_EQL, "nope", "1")]), Some(vec![]));
    }
}
