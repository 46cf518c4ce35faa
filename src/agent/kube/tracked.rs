//! The writer's side of the cache: objects by key (pods by uid, namespaces by name) with
//! tombstones. A delete — a DELETED event, or absence from a relist — keeps the object
//! until `grace` has passed, so late log lines are still enriched; keys are uids, so a
//! late delete of an old pod never touches a re-created pod of the same name. A relist
//! (`Init`, `InitApply`×n, `InitDone`) is buffered and applied at once at `InitDone`.
//! Pure: time is passed in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One object and, once deleted, when it goes.
#[derive(Debug)]
pub struct Entry<T> {
    pub meta: Arc<T>,
    pub deadline: Option<Instant>,
}

/// Objects of one kind, keyed by the caller (uid or name).
#[derive(Debug)]
pub struct Tracked<T> {
    items: HashMap<Box<str>, Entry<T>>,
    relist: Option<HashMap<Box<str>, Arc<T>>>,
    grace: Duration,
}

impl<T> Tracked<T> {
    pub fn new(grace: Duration) -> Self {
        Tracked {
            items: HashMap::new(),
            relist: None,
            grace,
        }
    }

    pub fn items(&self) -> impl Iterator<Item = (&str, &Entry<T>)> {
        self.items.iter().map(|(k, e)| (&**k, e))
    }

    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.items.values().filter(|e| e.deadline.is_none()).count()
    }

    /// An ADDED or MODIFIED object: live (again), with its new state.
    pub fn apply(&mut self, key: &str, meta: T) {
        let entry = Entry {
            meta: Arc::new(meta),
            deadline: None,
        };
        self.items.insert(key.into(), entry);
    }

    /// A DELETED object (its last state): a tombstone until `now + grace`. A second
    /// delete keeps the first deadline.
    pub fn delete(&mut self, key: &str, meta: T, now: Instant) {
        let deadline = match self.items.get(key) {
            Some(Entry {
                deadline: Some(d), ..
            }) => *d,
            _ => now + self.grace,
        };
        let entry = Entry {
            meta: Arc::new(meta),
            deadline: Some(deadline),
        };
        self.items.insert(key.into(), entry);
    }

    /// `Init`: a relist starts; the current objects stay readable until it is done.
    pub fn relist_start(&mut self) {
        self.relist = Some(HashMap::new());
    }

    /// `InitApply`: one object of the relist.
    pub fn relist_apply(&mut self, key: &str, meta: T) {
        self.relist
            .get_or_insert_with(HashMap::new)
            .insert(key.into(), Arc::new(meta));
    }

    /// `InitDone`: the relisted objects are live; live objects absent from it become
    /// tombstones (they were deleted while we were not watching).
    pub fn relist_done(&mut self, now: Instant) {
        let listed = self.relist.take().unwrap_or_default();
        for (key, entry) in &mut self.items {
            if entry.deadline.is_none() && !listed.contains_key(key) {
                entry.deadline = Some(now + self.grace);
            }
        }
        for (key, meta) in listed {
            self.items.insert(
                key,
                Entry {
                    meta,
                    deadline: None,
                },
            );
        }
    }

    /// Drops tombstones whose grace has passed; whether anything went.
    pub fn sweep(&mut self, now: Instant) -> bool {
        let before = self.items.len();
        self.items.retain(|_, e| e.deadline.is_none_or(|d| d > now));
        before != self.items.len()
    }

    /// The earliest tombstone deadline, for the sweep timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.items.values().filter_map(|e| e.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(60);

    fn state(t: &Tracked<&'static str>, key: &str) -> Option<(&'static str, bool)> {
        t.items.get(key).map(|e| (*e.meta, e.deadline.is_some()))
    }

    #[test]
    fn delete_keeps_a_tombstone_for_the_grace_period() {
        let t0 = Instant::now();
        let mut t = Tracked::new(GRACE);
        t.apply("uid-a", "web-0 v1");
        t.delete("uid-a", "web-0 last", t0);
        assert_eq!(state(&t, "uid-a"), Some(("web-0 last", true)));
        assert!(!t.sweep(t0 + GRACE - Duration::from_millis(1)));
        // A second (late) delete does not extend the grace.
        t.delete("uid-a", "web-0 last", t0 + Duration::from_secs(30));
        assert_eq!(t.next_deadline(), Some(t0 + GRACE));
        assert!(t.sweep(t0 + GRACE));
        assert_eq!(state(&t, "uid-a"), None);
    }

    #[test]
    fn late_delete_of_old_uid_leaves_recreated_pod() {
        let t0 = Instant::now();
        let mut t = Tracked::new(GRACE);
        t.apply("uid-a", "web-0 A");
        t.apply("uid-b", "web-0 B");
        t.delete("uid-a", "web-0 A", t0);
        assert_eq!(state(&t, "uid-b"), Some(("web-0 B", false)));
        assert_eq!(t.live(), 1);
    }

    #[test]
    fn relist_tombstones_the_missing_and_swaps_at_done() {
        let t0 = Instant::now();
        let mut t = Tracked::new(GRACE);
        t.apply("a", "a1");
        t.apply("b", "b1");
        t.relist_start();
        t.relist_apply("b", "b2");
        t.relist_apply("c", "c1");
        // Until InitDone, readers see the old state.
        assert_eq!(state(&t, "b"), Some(("b1", false)));
        assert_eq!(state(&t, "c"), None);
        t.relist_done(t0);
        assert_eq!(state(&t, "a"), Some(("a1", true)));
        assert_eq!(state(&t, "b"), Some(("b2", false)));
        assert_eq!(state(&t, "c"), Some(("c1", false)));
        // A tombstone listed again is live again.
        t.relist_start();
        t.relist_apply("a", "a2");
        t.relist_done(t0);
        assert_eq!(state(&t, "a"), Some(("a2", false)));
        assert_eq!(t.live(), 1);
        assert!(t.sweep(t0 + GRACE)); // b and c were tombstoned by the second relist
        assert_eq!(t.live(), 1);
    }
}
