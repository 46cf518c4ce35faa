//! Label sets derived from label sets (names dropped, group keys, match signatures,
//! binary results), memoised per query. Series keep their label set (one shared
//! allocation, see [`Labels::id`]) across the steps of a range query, so each derived
//! set is built once per series and operator node rather than once per step. Results
//! are interned: equal derived sets share one allocation, so memo hits carry through
//! nested operators. Keys hold the source sets alive, so an id is never reused while
//! it is a key. The memo empties itself past `cap` entries (correct, just slower); each
//! emptying starts a new [`LabelMemo::generation`]. Within one generation, derived sets
//! with equal contents are one allocation, so callers may compare them by [`Labels::id`].

use crate::aggregator::model::Labels;
use fnv::{FnvHashMap, FnvHashSet};
use std::cell::{Cell, RefCell};

/// Which derivation of which source sets: (operator node or kind, ids of the sources).
type Key = (usize, usize, usize);

/// The sources (held alive) and the derived set.
type Entry = (Labels, Option<Labels>, Labels);

/// Kinds of derivation that do not depend on an AST node.
pub(super) const DROP_NAME: usize = 1;

pub(crate) struct LabelMemo {
    cap: usize,
    map: RefCell<FnvHashMap<Key, Entry>>,
    interned: RefCell<FnvHashSet<Labels>>,
    generation: Cell<u64>,
}

impl LabelMemo {
    pub fn new(cap: usize) -> Self {
        LabelMemo {
            cap,
            map: RefCell::default(),
            interned: RefCell::default(),
            generation: Cell::new(0),
        }
    }

    /// `f(a)`, memoised under `tag` (a node's address or a kind above).
    pub fn derive(&self, tag: usize, a: &Labels, f: impl FnOnce(&Labels) -> Labels) -> Labels {
        let key = (tag, a.id(), 0);
        if let Some((_, _, out)) = self.map.borrow().get(&key) {
            return out.clone();
        }
        let out = self.intern(f(a));
        self.insert(key, (a.clone(), None, out.clone()));
        out
    }

    /// `f(a, b)`, memoised under `tag`.
    pub fn derive2(
        &self,
        tag: usize,
        a: &Labels,
        b: &Labels,
        f: impl FnOnce(&Labels, &Labels) -> Labels,
    ) -> Labels {
        let key = (tag, a.id(), b.id());
        if let Some((_, _, out)) = self.map.borrow().get(&key) {
            return out.clone();
        }
        let out = self.intern(f(a, b));
        self.insert(key, (a.clone(), Some(b.clone()), out.clone()));
        out
    }

    /// Bumped each time the memo empties itself: derived sets of equal contents got in
    /// one generation are one allocation (equal [`Labels::id`]).
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    fn intern(&self, l: Labels) -> Labels {
        if let Some(found) = self.interned.borrow().get(&l) {
            return found.clone();
        }
        if self.interned.borrow().len() >= self.cap {
            self.clear();
        }
        self.interned.borrow_mut().insert(l.clone());
        l
    }

    /// Empties both maps at once, so no derived set outlives its interning.
    fn clear(&self) {
        self.map.borrow_mut().clear();
        self.interned.borrow_mut().clear();
        self.generation.set(self.generation.get() + 1);
    }

    fn insert(&self, key: Key, entry: Entry) {
        if self.map.borrow().len() >= self.cap {
            self.clear();
            // The derived set now starts the new generation's interning.
            self.interned.borrow_mut().insert(entry.2.clone());
        }
        self.map.borrow_mut().insert(key, entry);
    }
}
