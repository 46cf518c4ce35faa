//! Label sets built once and shared by many samples: a container's six kubelet labels
//! sit on its ~35 `container_*` series, scrape after scrape. A [`LabelSet`] holds its
//! pairs (for readers), the text `name="value",...` as both exposition formats write
//! it (escaped once, copied by the encoder), and the order-independent hash that
//! normalization dedupes series with, so a sample that shares a set costs a pointer
//! and a value, not a vector of owned strings.

use super::model::Label;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// An immutable label set; build with [`LabelSet::new`], share the `Arc`.
#[derive(Debug)]
pub struct LabelSet {
    pairs: Box<[Label]>,
    rendered: Box<[u8]>,
    hash_sum: u64,
}

impl LabelSet {
    /// The set of `pairs`, in the order they are written. Label names must be unique.
    pub fn new(pairs: Vec<Label>) -> Arc<LabelSet> {
        let mut rendered =
            Vec::with_capacity(pairs.iter().map(|(n, v)| n.len() + v.len() + 4).sum());
        for (i, (name, value)) in pairs.iter().enumerate() {
            if i > 0 {
                rendered.push(b',');
            }
            rendered.extend_from_slice(name.as_bytes());
            rendered.extend_from_slice(b"=\"");
            super::encode::escape_into(value, true, &mut rendered);
            rendered.push(b'"');
        }
        let hash_sum = pairs
            .iter()
            .fold(0u64, |acc, (n, v)| acc.wrapping_add(pair_hash(n, v)));
        Arc::new(LabelSet {
            pairs: pairs.into_boxed_slice(),
            rendered: rendered.into_boxed_slice(),
            hash_sum,
        })
    }

    /// The pairs, in written order.
    pub fn pairs(&self) -> &[Label] {
        &self.pairs
    }

    /// `name="value",...` (escaped), without braces; empty for an empty set.
    pub(super) fn rendered(&self) -> &[u8] {
        &self.rendered
    }

    /// The sum of [`pair_hash`] over the pairs.
    pub(super) fn hash_sum(&self) -> u64 {
        self.hash_sum
    }
}

impl PartialEq for LabelSet {
    fn eq(&self, other: &Self) -> bool {
        self.pairs == other.pairs
    }
}

/// The hash of one label pair; a set's hash is the sum over its pairs (plus its size),
/// so it does not depend on their order.
pub(super) fn pair_hash(name: &str, value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (name, value).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn set(pairs: &[(&'static str, &str)]) -> Arc<LabelSet> {
        LabelSet::new(
            pairs
                .iter()
                .map(|(n, v)| (Cow::Borrowed(*n), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn renders_escaped_once_and_hashes_in_any_order() {
        let a = set(&[("container", "a\"b"), ("id", "/x\\y\nz")]);
        assert_eq!(a.rendered(), b"container=\"a\\\"b\",id=\"/x\\\\y\\nz\"");
        assert_eq!(a.pairs()[1].1, "/x\\y\nz");
        let b = set(&[("id", "/x\\y\nz"), ("container", "a\"b")]);
        assert_eq!(a.hash_sum(), b.hash_sum());
        assert_ne!(a.hash_sum(), set(&[("container", "a\"b")]).hash_sum());
        assert!(set(&[]).rendered().is_empty());
    }
}
