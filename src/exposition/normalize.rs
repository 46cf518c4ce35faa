//! Makes a gathered scrape safe to serve: one family per name, sorted by name, and no
//! duplicate series. A duplicate series fails a whole Prometheus scrape (node_exporter
//! #2805: bind mounts, NFS), so duplicates are dropped here, first one wins, and counted.

use super::model::{Label, MetricFamily};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

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
/// hashed order-independently, without copying them; equal hashes are confirmed by
/// comparing the labels, so a hash collision never drops a series.
fn dedupe_samples(family: &mut MetricFamily) -> u64 {
    let n = family.samples.len();
    if n < 2 {
        return 0;
    }
    let hashes: Vec<u64> = family
        .samples
        .iter()
        .map(|s| label_set_hash(&s.labels))
        .collect();
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(n);
    let mut keep = vec![true; n];
    for i in 0..n {
        match first.get(&hashes[i]) {
            None => {
                first.insert(hashes[i], i);
            }
            Some(&j) => {
                let labels = &family.samples[i].labels;
                keep[i] = !(j..i).any(|k| {
                    keep[k]
                        && hashes[k] == hashes[i]
                        && same_labels(&family.samples[k].labels, labels)
                });
            }
        }
    }
    let mut idx = 0;
    family.samples.retain(|_| {
        idx += 1;
        keep[idx - 1]
    });
    (n - family.samples.len()) as u64
}

/// A hash of a label set that does not depend on the order of its pairs.
fn label_set_hash(labels: &[Label]) -> u64 {
    labels
        .iter()
        .fold(labels.len() as u64, |acc, (name, value)| {
            let mut h = DefaultHasher::new();
            (name.as_ref(), value.as_str()).hash(&mut h);
            acc.wrapping_add(h.finish())
        })
}

/// True when both sets hold the same pairs (label names are unique within a set).
fn same_labels(a: &[Label], b: &[Label]) -> bool {
    a.len() == b.len() && a.iter().all(|pair| b.contains(pair))
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
    fn empty_families_are_removed() {
        let (out, dropped) = normalize(vec![MetricFamily::gauge("node_x", "x")]);
        assert!(out.is_empty());
        assert_eq!(dropped, Dropped::default());
    }
}
