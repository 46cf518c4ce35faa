//! Makes a gathered scrape safe to serve: one family per name, sorted by name, and no
//! duplicate series. A duplicate series fails a whole Prometheus scrape (node_exporter
//! #2805: bind mounts, NFS), so duplicates are dropped here, first one wins, and counted.

use super::labelset::pair_hash;
use super::model::{MetricFamily, Sample};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// What normalization had to drop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Samples whose label set was already present in their family.
    pub duplicate_series: u64,
    /// Samples of a family whose name was already used with another type.
    pub type_conflicts: u64,
}

/// Merges same-named families, drops duplicate series, sorts families by name.
pub fn normalize(families: Vec<MetricFamily>) -> (Vec<MetricFamily>, Dropped) {
    let mut dropped = Dropped::default();
    // Keyed by the family's own Cow: cloning a static name copies no bytes.
    let mut index: HashMap<Cow<'static, str>, usize> = HashMap::with_capacity(families.len());
    let mut out: Vec<MetricFamily> = Vec::with_capacity(families.len());
    for family in families {
        match index.get(family.name.as_ref()) {
            Some(&i) if out[i].kind != family.kind => {
                dropped.type_conflicts += family.samples.len() as u64;
            }
            Some(&i) => out[i].samples.extend(family.samples),
            None => {
                index.insert(family.name.clone(), out.len());
                out.push(family);
            }
        }
    }
    for family in &mut out {
        dropped.duplicate_series += dedupe_samples(family);
    }
    out.retain(|f| !f.samples.is_empty());
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, dropped)
}

/// Removes samples whose label set (in any order) repeats an earlier one. Label sets are
/// hashed order-independently, without copying them (a shared [`LabelSet`]'s hash is
/// computed once, when it is built); equal hashes are confirmed by comparing the labels,
/// so a hash collision never drops a series.
fn dedupe_samples(family: &mut MetricFamily) -> u64 {
    let n = family.samples.len();
    if n < 2 {
        return 0;
    }
    let hashes: Vec<u64> = family.samples.iter().map(label_set_hash).collect();
    let mut first: HashMap<u64, usize, BuildHasherDefault<Prehashed>> =
        HashMap::with_capacity_and_hasher(n, Default::default());
    let mut keep = vec![true; n];
    for i in 0..n {
        match first.get(&hashes[i]) {
            None => {
                first.insert(hashes[i], i);
            }
            Some(&j) => {
                let sample = &family.samples[i];
                keep[i] = !(j..i).any(|k| {
                    keep[k] && hashes[k] == hashes[i] && same_labels(&family.samples[k], sample)
                });
            }
        }
    }
    if keep.iter().all(|&k| k) {
        return 0;
    }
    let mut idx = 0;
    family.samples.retain(|_| {
        idx += 1;
        keep[idx - 1]
    });
    (n - family.samples.len()) as u64
}

/// A hash of a sample's label set that does not depend on the order of its pairs.
fn label_set_hash(s: &Sample) -> u64 {
    let shared = s.shared.as_ref().map_or(0, |set| set.hash_sum());
    s.labels.iter().fold(
        (s.label_count() as u64).wrapping_add(shared),
        |acc, (n, v)| acc.wrapping_add(pair_hash(n, v)),
    )
}

/// True when both samples have the same pairs (label names are unique within a set).
fn same_labels(a: &Sample, b: &Sample) -> bool {
    if a.label_count() != b.label_count() {
        return false;
    }
    match (&a.shared, &b.shared) {
        (Some(x), Some(y)) if Arc::ptr_eq(x, y) => a.labels.iter().all(|p| b.labels.contains(p)),
        _ => a.label_pairs().all(|p| b.label_pairs().any(|q| q == p)),
    }
}

/// Keys already hashed (label-set hashes) are used as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_dedupes_and_sorts() {
        let a = MetricFamily::gauge("node_b", "b")
            .with(&[("mountpoint", "/"), ("device", "sda")], 1.0)
            .with(&[("device", "sda"), ("mountpoint", "/")], 2.0);
        let b = MetricFamily::gauge("node_a", "a").value(1.0);
        let c = MetricFamily::gauge("node_b", "b")
            .with(&[("mountpoint", "/x"), ("device", "sda")], 3.0);
        let d = MetricFamily::counter("node_b", "b").value(9.0);
        let (out, dropped) = normalize(vec![a, b, c, d]);
        assert_eq!(
            out.iter().map(|f| f.name.as_ref()).collect::<Vec<_>>(),
            ["node_a", "node_b"]
        );
        assert_eq!(out[1].samples.len(), 2);
        assert_eq!(out[1].samples[0].value, 1.0);
        assert_eq!(
            dropped,
            Dropped {
                duplicate_series: 1,
                type_conflicts: 1
            }
        );
    }

    #[test]
    fn dedupe_is_order_independent_and_keeps_distinct_sets() {
        let mut f = MetricFamily::gauge("node_x", "x");
        for i in 0..50 {
            let v = (i % 10).to_string();
            f.push(&[("a", &v), ("b", "1")], i as f64);
            f.push(&[("b", "1"), ("a", &v)], -1.0);
        }
        // Same values under swapped names are a different set.
        f.push(&[("a", "1"), ("b", "0")], 7.0);
        let (out, dropped) = normalize(vec![f]);
        assert_eq!(out[0].samples.len(), 11);
        assert_eq!(dropped.duplicate_series, 90);
        assert!(out[0].samples.iter().all(|s| s.value >= 0.0));
    }

    #[test]
    fn shared_and_own_labels_dedupe_as_one_set() {
        use crate::exposition::LabelSet;
        let pair = |n: &'static str, v: &str| (Cow::Borrowed(n), v.to_owned());
        let set = LabelSet::new(vec![pair("a", "1"), pair("b", "2")]);
        let other = LabelSet::new(vec![pair("b", "2"), pair("a", "1")]);
        let mut f = MetricFamily::gauge("node_x", "x");
        f.push_shared(&set, 1.0);
        f.push_shared(&set, 2.0); // the same set again
        f.push_shared(&other, 3.0); // equal pairs in another set
        f.push(&[("b", "2"), ("a", "1")], 4.0); // equal pairs, owned
        f.push(&[("a", "1")], 5.0);
        f.samples.push(Sample {
            labels: vec![pair("c", "3")],
            shared: Some(set.clone()),
            value: 6.0,
        });
        f.samples.push(Sample {
            labels: vec![pair("c", "4")],
            shared: Some(set.clone()),
            value: 7.0,
        });
        f.push(&[("c", "3"), ("b", "2"), ("a", "1")], 8.0);
        let (out, dropped) = normalize(vec![f]);
        let values: Vec<f64> = out[0].samples.iter().map(|s| s.value).collect();
        assert_eq!(values, [1.0, 5.0, 6.0, 7.0]);
        assert_eq!(dropped.duplicate_series, 4);
    }

    #[test]
    fn empty_families_are_removed() {
        let (out, dropped) = normalize(vec![MetricFamily::gauge("node_x", "x")]);
        assert!(out.is_empty());
        assert_eq!(dropped, Dropped::default());
    }
}
