//! The spool's part of push, pop and ack. Each runs on tokio's blocking pool: it takes
//! the spool lock, decides under the state lock, does the I/O with only the spool lock
//! held, and applies the result under the state lock again (the rules are in
//! [`super::handle`]).

use super::batch::{AckToken, Batch};
use super::handle::{Pushed, Shared};
use super::spool::{AppendError, SpoolPos};

impl<T: AckToken> Shared<T> {
    /// Writes `batch` to the spool and fsyncs it; keeps it in memory too when memory has
    /// room and nothing older is unread on disk. A full spool gives the batch back (the
    /// full policy applies: the spool is the buffer). A failing disk, when memory has
    /// room, leaves the batch in memory only, counted as a write error: not durable, so
    /// it holds back later tokens until acknowledged, but reading does not stall on a
    /// broken disk.
    pub(super) fn push_to_spool(&self, batch: Batch<T>) -> Result<Pushed, Batch<T>> {
        let mut spool = self.lock_spool();
        let keep = {
            let mut state = self.lock();
            if state.closed {
                state.queue.count_drop(&batch, true);
                return Ok(Pushed::DroppedClosed);
            }
            state.queue.keeps_in_memory(batch.bytes())
        };
        let written = spool.append(&batch, keep);
        let mut state = self.lock();
        state.queue.set_spool(spool.stats());
        let stored = match (written, keep) {
            (Ok(pos), true) => state.queue.push_memory(batch, Some(pos)),
            (Ok(_), false) => state.queue.push_disk_only(batch.token),
            (Err(AppendError::Io(_)), true) => state.queue.push_memory(batch, None),
            (Err(_), _) => return Err(batch),
        };
        self.wake_after_push(&state.queue);
        Ok(Pushed::Stored(stored))
    }

    /// Reads the next unread batch into memory, unless another pop already did.
    pub(super) fn read_back(&self) {
        let mut spool = self.lock_spool();
        if !self.lock().queue.memory_is_empty() {
            return;
        }
        let read = spool.read_next::<T>();
        let mut state = self.lock();
        state.queue.set_spool(spool.stats());
        if let Some((batch, pos)) = read {
            state.queue.push_read_back(batch, pos);
        }
        drop(state);
        self.batches.notify_waiters();
    }

    /// Notes the acknowledgement of a spooled batch; wakes producers if a segment went.
    pub(super) fn ack_spooled(&self, pos: SpoolPos) {
        let mut spool = self.lock_spool();
        let freed = spool.ack(pos);
        self.lock().queue.set_spool(spool.stats());
        if freed {
            self.room.notify_waiters();
        }
    }
}
