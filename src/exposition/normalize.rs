//! Makes a gathered scrape safe to serve: one family per name, sorted by name, and no
//! duplicate series. A duplicate series fails a whole Prometheus scrape (node_exporter
//! #2805: bind mounts, NFS), so duplicates are dropped here, first one wins, and counted.

use super::model::{Label, MetricFamily};
use std::collections::{HashMap, HashSet};

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
    let mut index: HashMap<String, usize> = HashMap::with_capacity(families.len());
    let mut out: Vec<MetricFamily> = Vec::with_capacity(families.len());
    for family in families {
        match index.get(family.name.as_ref()) {
            Some(&i) if out[i].kind != family.kind => {
                dropped.type_conflicts += family.samples.len() as u64;
            }
            Some(&i) => out[i].samples.extend(family.samples),
            None => {
                index.insert(family.name.to_string(), out.len());
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

/// Removes samples whose label set (in any order) repeats an earlier one.
fn dedupe_samples(family: &mut MetricFamily) -> u64 {
    if family.samples.len() < 2 {
        return 0;
    }
    let before = family.samples.len();
    let mut seen: HashSet<Vec<(String, String)>> = HashSet::with_capacity(before);
    family.samples.retain(|s| seen.insert(label_key(&s.labels)));
    (before - family.samples.len()) as u64
}

fn label_key(labels: &[Label]) -> Vec<(String, String)> {
    let mut key: Vec<(String, String)> = labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    key.sort_unstable();
    key
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
    fn empty_families_are_removed() {
        let (out, dropped) = normalize(vec![MetricFamily::gauge("node_x", "x")]);
        assert!(out.is_empty());
        assert_eq!(dropped, Dropped::default());
    }
}
