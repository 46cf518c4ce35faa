//! Interning a block's byte strings (templates, dictionary values) without an owned
//! copy of each as a map key: strings go back to back in one buffer, found by their
//! hash, and the buffer is cleared (not freed) between blocks.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Byte strings numbered in order of first insertion, stored back to back in one
/// buffer. The map goes from a string's hash to the first id with that hash; ids
/// sharing a hash are chained, and a string is only compared on a hash hit.
#[derive(Default)]
pub struct Interned {
    bytes: Vec<u8>,
    /// Where each id's string ends in `bytes` (it starts where the one before ends).
    ends: Vec<usize>,
    first: HashMap<u64, u32, foldhash::fast::FixedState>,
    /// The next id with the same hash (`u32::MAX`: none).
    next: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Interned {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.first.clear();
        self.next.clear();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.bytes[start..self.ends[id]]
    }

    /// `s`'s id, and whether it is new (then added).
    pub fn intern(&mut self, s: &[u8]) -> (u32, bool) {
        let hash = foldhash::fast::FixedState::with_seed(0).hash_one(s);
        let mut at = self.first.get(&hash).copied().unwrap_or(NONE);
        let mut last = NONE;
        while at != NONE {
            if self.get(at) == s {
                return (at, false);
            }
            (last, at) = (at, self.next[at as usize]);
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
        self.next.push(NONE);
        match last {
            NONE => {
                self.first.insert(hash, id);
            }
            _ => self.next[last as usize] = id,
        }
        (id, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_first_insertion_and_survive_clear() {
        let mut t = Interned::default();
        for round in 0..2 {
            assert_eq!(t.intern(b"b"), (0, true), "round {round}");
            assert_eq!(t.intern(b""), (1, true));
            assert_eq!(t.intern(b"ab"), (2, true));
            assert_eq!(t.intern(b"b"), (0, false));
            assert_eq!(t.intern(b""), (1, false));
            assert_eq!((t.len(), t.get(2)), (3, &b"ab"[..]));
            t.clear();
            assert_eq!(t.len(), 0);
        }
    }

    #[test]
    fn strings_sharing_a_hash_are_told_apart() {
        let mut t = Interned::default();
        // forge a collision: chain "y" behind "x" under x's hash
        let (x, _) = t.intern(b"x");
        t.bytes.extend_from_slice(b"y");
        t.ends.push(t.bytes.len());
        t.next.push(NONE);
        t.next[x as usize] = 1;
        assert_eq!(t.intern(b"x"), (0, false));
        assert_eq!(t.intern(b"z"), (2, true));
        assert_eq!(t.get(2), b"z");
    }
}
