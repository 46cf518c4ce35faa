//! The head's labels → ref index. A label set is hashed once per append (foldhash,
//! seeded per index) and found by that hash; the labels themselves live in the series,
//! so a lookup costs one hash, one probe and one comparison, and a known series' labels
//! are never cloned. Refs that share a hash with an earlier series (rare) are kept
//! aside, as Prometheus's `stripeSeries` keeps a hash's collisions in a list.

use crate::aggregator::model::Labels;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Spreads an integer key (a ref, or a hash already) over a table: one multiply by an
/// odd constant, so the high bits the table probes with depend on every key bit.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuildMulHasher;

#[derive(Debug, Default)]
pub struct MulHasher(u64);

const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

impl BuildHasher for BuildMulHasher {
    type Hasher = MulHasher;
    fn build_hasher(&self) -> MulHasher {
        MulHasher(0)
    }
}

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(MUL);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(MUL);
    }
}

/// A map keyed by refs or label hashes.
pub type IntMap<V> = HashMap<u64, V, BuildMulHasher>;

#[derive(Debug, Default)]
pub struct SeriesIndex {
    first: IntMap<u64>,
    more: IntMap<Vec<u64>>,
    hasher: foldhash::quality::RandomState,
}

impl SeriesIndex {
    /// The hash `get` and `insert` take.
    pub fn hash(&self, labels: &Labels) -> u64 {
        self.hasher.hash_one(labels)
    }

    /// The ref of `labels` (hashed to `h`); `labels_of` gives an indexed ref's labels.
    pub fn get<'a>(
        &self,
        h: u64,
        labels: &Labels,
        labels_of: impl Fn(u64) -> &'a Labels,
    ) -> Option<u64> {
        let &r = self.first.get(&h)?;
        if labels_of(r) == labels {
            return Some(r);
        }
        let more = self.more.get(&h)?;
        more.iter().copied().find(|&r| labels_of(r) == labels)
    }

    /// Indexes ref `r` under `h` (the caller checked `get` found nothing).
    /// Forgets ref `r` under hash `h` (a series the head's gc dropped).
    pub fn remove(&mut self, h: u64, r: u64) {
        let mut more = self.more.remove(&h).unwrap_or_default();
        if self.first.get(&h) == Some(&r) {
            match more.pop() {
                Some(next) => self.first.insert(h, next),
                None => self.first.remove(&h),
            };
        } else {
            more.retain(|&x| x != r);
        }
        if !more.is_empty() {
            self.more.insert(h, more);
        }
    }

    pub fn insert(&mut self, h: u64, r: u64) {
        if let Some(&first) = self.first.get(&h) {
            debug_assert_ne!(first, r);
            self.more.entry(h).or_default().push(r);
        } else {
            self.first.insert(h, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_hashes_keep_every_series_apart() {
        let sets: Vec<Labels> = (0..5)
            .map(|i| Labels::from_pairs(&[("i", &i.to_string())]))
            .collect();
        let mut idx = SeriesIndex::default();
        // Every set under one hash: the worst case, a forced collision chain.
        for r in 0..5 {
            assert_eq!(idx.get(7, &sets[r], |r| &sets[r as usize]), None);
            idx.insert(7, r as u64);
        }
        for (r, l) in sets.iter().enumerate() {
            assert_eq!(idx.get(7, l, |r| &sets[r as usize]), Some(r as u64));
            assert_eq!(idx.get(8, l, |r| &sets[r as usize]), None);
        }
        assert_eq!(idx.more[&7].len(), 4);
        let other = Labels::from_pairs(&[("i", "9")]);
        assert_eq!(idx.get(7, &other, |r| &sets[r as usize]), None);
        assert_eq!(idx.hash(&sets[0]), idx.hash(&sets[0].clone()));
    }
}
