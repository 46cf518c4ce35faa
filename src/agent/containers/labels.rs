//! The label sets of each cgroup's series, built once and shared: the kubelet's six
//! labels (`container, id, image, name, namespace, pod`) sit on a cgroup's ~35 series,
//! alone or with one of `cpu`, `device`, `interface` in its sorted place
//! (client_golang sorts label names). Sets are kept between scrapes, keyed by the
//! cgroup's `id`, while its names are unchanged: a steady scrape builds no label. Entries
//! (and extra sets) not used in a scrape are dropped by [`LabelCache::sweep`].

use super::families::{Row, RowLabels};
use crate::exposition::{Label, LabelSet};
use fnv::FnvHashMap;
use std::borrow::Cow;
use std::sync::Arc;

/// The shared label sets of one row's series in this scrape.
#[derive(Debug, Clone)]
pub struct RowSets {
    /// The six labels.
    pub base: Arc<LabelSet>,
    /// With `cpu="total"` (container_cpu_usage_seconds_total).
    pub cpu_total: Arc<LabelSet>,
    /// With `device`, one per entry of the row's `stats.io`, in that order.
    pub devices: Vec<Arc<LabelSet>>,
    /// With `interface`, one per entry of the row's `net`, in that order.
    pub interfaces: Vec<Arc<LabelSet>>,
}

struct Entry {
    labels: RowLabels,
    base: Arc<LabelSet>,
    cpu_total: Arc<LabelSet>,
    /// (label name, value, set, generation last used).
    extra: Vec<(&'static str, String, Arc<LabelSet>, u64)>,
    seen: u64,
}

/// Label sets by cgroup `id` label.
#[derive(Default)]
pub struct LabelCache {
    /// FNV: the keys are this node's own cgroup paths (no hash flooding to fear), hashed
    /// several hundred times a scrape.
    entries: FnvHashMap<String, Entry>,
    generation: u64,
}

impl LabelCache {
    /// The sets of every row (same order); `device` names a block device by
    /// major:minor (`/dev/vda`, "" when unknown).
    pub fn sets(
        &mut self,
        rows: &[Row],
        device: &mut dyn FnMut(u32, u32) -> String,
    ) -> Vec<RowSets> {
        rows.iter().map(|r| self.row_sets(r, device)).collect()
    }

    fn row_sets(&mut self, row: &Row, device: &mut dyn FnMut(u32, u32) -> String) -> RowSets {
        let generation = self.generation;
        let fresh = self
            .entries
            .get(&row.labels.id)
            .is_some_and(|e| e.labels == row.labels);
        if !fresh {
            self.entries
                .insert(row.labels.id.clone(), Entry::new(&row.labels));
        }
        let Some(e) = self.entries.get_mut(&row.labels.id) else {
            unreachable!("inserted above")
        };
        e.seen = generation;
        let devices = (row.stats.io.iter())
            .map(|d| e.extra("device", &device(d.major, d.minor), generation))
            .collect();
        let interfaces = (row.net.iter())
            .map(|i| e.extra("interface", &i.name, generation))
            .collect();
        RowSets {
            base: e.base.clone(),
            cpu_total: e.cpu_total.clone(),
            devices,
            interfaces,
        }
    }

    /// Drops what this scrape did not use; starts the next scrape.
    pub fn sweep(&mut self) {
        let generation = self.generation;
        self.entries.retain(|_, e| {
            e.extra.retain(|x| x.3 == generation);
            e.seen == generation
        });
        self.generation += 1;
    }

    /// Cgroups with cached sets.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Entry {
    fn new(labels: &RowLabels) -> Entry {
        Entry {
            labels: labels.clone(),
            base: LabelSet::new(pairs(labels, None)),
            cpu_total: LabelSet::new(pairs(labels, Some(("cpu", "total")))),
            extra: Vec::new(),
            seen: 0,
        }
    }

    /// The set with `name="value"` added, built on first use.
    fn extra(&mut self, name: &'static str, value: &str, generation: u64) -> Arc<LabelSet> {
        let found = self.extra.iter_mut().find(|x| x.0 == name && x.1 == value);
        if let Some(x) = found {
            x.3 = generation;
            return x.2.clone();
        }
        let set = LabelSet::new(pairs(&self.labels, Some((name, value))));
        self.extra
            .push((name, value.to_owned(), set.clone(), generation));
        set
    }
}

/// The six labels, sorted, with `extra` (if any) in its sorted place.
fn pairs(l: &RowLabels, extra: Option<(&'static str, &str)>) -> Vec<Label> {
    let mut out: Vec<Label> = Vec::with_capacity(7);
    let mut push = |n: &'static str, v: &str| out.push((Cow::Borrowed(n), v.to_owned()));
    push("container", &l.container);
    if let Some((n @ ("cpu" | "device"), v)) = extra {
        push(n, v);
    }
    push("id", &l.id);
    push("image", &l.image);
    if let Some((n @ "interface", v)) = extra {
        push(n, v);
    }
    push("name", &l.name);
    push("namespace", &l.namespace);
    push("pod", &l.pod);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::containers::netdev::IfaceStats;
    use crate::agent::containers::stats::DeviceIo;

    fn row(id: &str, pod: &str) -> Row {
        let mut r = Row::default();
        r.labels.id = id.to_owned();
        r.labels.pod = pod.to_owned();
        r.stats.io = vec![DeviceIo {
            major: 8,
            ..DeviceIo::default()
        }];
        r.net = vec![IfaceStats {
            name: "eth0".to_owned(),
            ..IfaceStats::default()
        }];
        r
    }

    fn names(set: &LabelSet) -> Vec<&str> {
        set.pairs().iter().map(|(n, _)| n.as_ref()).collect()
    }

    #[test]
    fn extra_labels_in_sorted_place() {
        let mut cache = LabelCache::default();
        let mut dev = |major: u32, _| format!("/dev/sd{major}");
        let sets = cache.sets(&[row("/a", "p")], &mut dev).remove(0);
        let six = ["container", "id", "image", "name", "namespace", "pod"];
        assert_eq!(names(&sets.base), six);
        let cpu = [
            "container",
            "cpu",
            "id",
            "image",
            "name",
            "namespace",
            "pod",
        ];
        assert_eq!(names(&sets.cpu_total), cpu);
        assert_eq!(sets.devices[0].pairs()[1].1, "/dev/sd8");
        let iface = [
            "container",
            "id",
            "image",
            "interface",
            "name",
            "namespace",
            "pod",
        ];
        assert_eq!(names(&sets.interfaces[0]), iface);
    }

    #[test]
    fn reuses_sets_until_names_change_and_forgets_what_is_gone() {
        let mut cache = LabelCache::default();
        let mut dev = |_, _| "/dev/vda".to_owned();
        let first = cache.sets(&[row("/a", "p"), row("/b", "q")], &mut dev);
        cache.sweep();
        let again = cache.sets(&[row("/a", "p")], &mut dev);
        assert!(Arc::ptr_eq(&first[0].base, &again[0].base), "kept");
        assert!(Arc::ptr_eq(&first[0].devices[0], &again[0].devices[0]));
        cache.sweep();
        assert_eq!(cache.len(), 1, "/b was not seen in the last scrape");
        let renamed = cache.sets(&[row("/a", "p2")], &mut dev);
        assert!(!Arc::ptr_eq(&first[0].base, &renamed[0].base), "rebuilt");
        assert_eq!(renamed[0].base.pairs()[5].1, "p2");
    }
}
