//! Batch buffers handed back by the sender once a batch is acknowledged, for the
//! batcher's next batches: a batch buffer (about `--logs.batch.max-bytes`) that is freed
//! and allocated again is, under glibc's defaults, given back to the kernel and faulted
//! in (zeroed) again page by page; that was a tenth of the agent's CPU when shipping at
//! full speed (BENCHMARKS.md). The pool keeps at most [`KEEP`] buffers, so it adds at
//! most that many batches to the agent's memory.

use super::Records;
use std::sync::{Arc, Mutex};

/// Buffers kept: the batch being filled and the one being sent, and one spare.
pub const KEEP: usize = 3;

/// Shared by the batcher (takes) and the sender (gives back); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct RecordsPool {
    free: Arc<Mutex<Vec<Records>>>,
}

impl RecordsPool {
    /// Empty records with room for `bytes`: a buffer given back if there is one.
    pub fn take(&self, bytes: usize) -> Records {
        let reused = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match reused {
            Some(mut records) => {
                records.reserve(bytes);
                records
            }
            None => Records::with_capacity(bytes),
        }
    }

    /// Keeps `records`' buffer for a later batch (emptied), unless [`KEEP`] are kept.
    pub fn give(&self, mut records: Records) {
        records.clear();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < KEEP {
            free.push(records);
        }
    }

    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.free.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_empty_with_its_room() {
        let pool = RecordsPool::default();
        let mut r = pool.take(4096);
        r.push(b"line");
        let room = r.capacity();
        pool.give(r);
        let again = pool.take(100);
        assert!(again.is_empty() && again.bytes() == 0);
        assert_eq!(again.capacity(), room, "the same buffer, not a new one");
        assert!(
            pool.take(8192).capacity() >= 8192,
            "a fresh one when none is kept"
        );
    }

    #[test]
    fn keeps_at_most_keep_buffers() {
        let pool = RecordsPool::default();
        for _ in 0..KEEP + 2 {
            pool.give(Records::with_capacity(16));
        }
        assert_eq!(pool.kept(), KEEP);
    }

    #[test]
    fn a_kept_buffer_grows_to_the_room_asked() {
        let pool = RecordsPool::default();
        pool.give(Records::with_capacity(16));
        assert!(pool.take(1 << 20).capacity() >= 1 << 20);
    }
}
