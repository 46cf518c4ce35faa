//! [`Labels`]: a label set held in one shared allocation of its text plus one of its
//! offsets, rather than a `String` per name and per value. The TSDB keeps one per
//! series for as long as the series lives; with a `String` each, glibc's per-allocation
//! header and 32-byte minimum made the head's label sets about three times their text
//! (heaptrack on the side-by-side bench, BENCHMARKS.md).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A label set: sorted by name, names unique, no empty values (Prometheus drops those).
/// Immutable and shared: a clone is a reference count, not a copy of every string
/// (PromQL clones label sets per series and step).
#[derive(Clone, Default)]
pub struct Labels(Arc<Packed>);

/// Every name and value end to end in `text`; `ends[2i]` ends the i-th name and
/// `ends[2i + 1]` its value.
#[derive(Default, PartialEq, Eq, Hash)]
struct Packed {
    ends: Box<[u32]>,
    text: Box<str>,
}

impl Labels {
    /// From pairs in any order; an empty value removes the label, the last of
    /// repeated names wins.
    pub fn new(mut pairs: Vec<(String, String)>) -> Self {
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last given comes first
        pairs.dedup_by(|later, first| later.0 == first.0);
        pairs.retain(|(_, v)| !v.is_empty());
        Self::pack(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// From pairs already sorted by name, unique and non-empty.
    fn pack<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let bytes: usize = pairs.clone().map(|(n, v)| n.len() + v.len()).sum();
        let mut text = String::with_capacity(bytes);
        let mut ends = Vec::with_capacity(2 * pairs.size_hint().0);
        for (n, v) in pairs {
            for s in [n, v] {
                text.push_str(s);
                // Bodies are bounded far below 4 GiB (the receivers' limits).
                ends.push(u32::try_from(text.len()).expect("a label set under 4 GiB"));
            }
        }
        Labels(Arc::new(Packed {
            ends: ends.into(),
            text: text.into(),
        }))
    }

    /// From `(name, value)` string pairs (tests, literals).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn part(&self, k: usize) -> &str {
        let p = &self.0;
        let start = if k == 0 { 0 } else { p.ends[k - 1] as usize };
        &p.text[start..p.ends[k] as usize]
    }

    /// The i-th pair (by name order).
    fn pair(&self, i: usize) -> (&str, &str) {
        (self.part(2 * i), self.part(2 * i + 1))
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.part(2 * mid).cmp(name) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(self.part(2 * mid + 1)),
            }
        }
        None
    }

    /// The metric name, if set.
    pub fn name(&self) -> Option<&str> {
        self.get(super::METRIC_NAME)
    }

    /// The pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        (0..self.len()).map(|i| self.pair(i))
    }

    pub fn len(&self) -> usize {
        self.0.ends.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.0.ends.is_empty()
    }

    /// Whether every matcher holds (an absent label matches as "", as in Prometheus).
    pub fn matches(&self, matchers: &[promql_parser::label::Matcher]) -> bool {
        matchers
            .iter()
            .all(|m| m.is_match(self.get(&m.name).unwrap_or("")))
    }

    /// The identity of this label set's shared allocation: equal for clones, so
    /// derived label sets can be memoised per set (the PromQL evaluator's `memo`).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The pairs as owned strings, to edit into another set.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// The set of the pairs whose name `keep` keeps (no string copied on the way).
    pub fn filtered(&self, keep: impl Fn(&str) -> bool) -> Labels {
        Self::pack(self.iter().filter(|(n, _)| keep(n)))
    }
}

/// Equal sets pack to equal text and offsets: comparing those is comparing the pairs.
impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Labels {}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// By pairs, name then value, a shorter set before its extensions (as a sorted slice
/// of `(name, value)` tuples orders).
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}`, as Prometheus prints a label set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}
