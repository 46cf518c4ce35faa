//! Specs (limits, creation time) kept between scrapes, keyed by cgroup path, so the
//! files that rarely change are read when a cgroup appears and then every `refresh`
//! (in-place pod resize changes limits). Entries of cgroups not seen in a scrape are
//! dropped by [`SpecCache::sweep`]: the cache only holds what exists now.

use super::stats::Spec;
use fnv::FnvHashMap;
use std::time::{Duration, Instant};

pub struct SpecCache {
    refresh: Duration,
    /// FNV: the keys are this node's own cgroup paths (no hash flooding to fear), hashed
    /// several hundred times a scrape.
    entries: FnvHashMap<String, Entry>,
    generation: u64,
}

struct Entry {
    spec: Spec,
    read_at: Instant,
    seen: u64,
}

impl SpecCache {
    pub fn new(refresh: Duration) -> Self {
        SpecCache {
            refresh,
            entries: FnvHashMap::default(),
            generation: 0,
        }
    }

    /// The spec of `rel`, read with `read` when it is not cached or older than `refresh`.
    pub fn get(&mut self, rel: &str, now: Instant, read: impl FnOnce() -> Spec) -> Spec {
        let generation = self.generation;
        if let Some(e) = self.entries.get_mut(rel) {
            if now.saturating_duration_since(e.read_at) < self.refresh {
                e.seen = generation;
                return e.spec;
            }
        }
        let spec = read();
        let entry = Entry {
            spec,
            read_at: now,
            seen: generation,
        };
        self.entries.insert(rel.to_owned(), entry);
        spec
    }

    /// Drops what this scrape did not ask for; starts the next scrape.
    pub fn sweep(&mut self) {
        let generation = self.generation;
        self.entries.retain(|_, e| e.seen == generation);
        self.generation += 1;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_once_refreshes_when_old_and_forgets_what_is_gone() {
        let mut cache = SpecCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let spec = |s| Spec {
            start_time: Some(s),
            ..Spec::default()
        };
        assert_eq!(cache.get("a", t0, || spec(1)).start_time, Some(1));
        assert_eq!(cache.get("b", t0, || spec(2)).start_time, Some(2));
        cache.sweep();
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(cache.get("a", t1, || spec(9)).start_time, Some(1), "cached");
        cache.sweep();
        assert_eq!(cache.len(), 1, "b was not seen in the last scrape");
        let t2 = t0 + Duration::from_secs(61);
        assert_eq!(
            cache.get("a", t2, || spec(3)).start_time,
            Some(3),
            "refreshed"
        );
    }
}
