//! [`Buffer`]: the shared, async face of the [`Queue`] and the [`Spool`]. Producers
//! `push` (waiting when full under [`WhenFull::Block`]), the sink `pop`s and `ack`s, the
//! checkpointer takes settled tokens, `/metrics` reads `stats`.
//!
//! Two locks, and neither is held by an async task across I/O:
//! - `state` (a std mutex around the [`Queue`]): memory, ledger, counters, and the
//!   spool's counters as of its last operation. Held only for in-memory work, so a pop
//!   from memory, the ack of a batch held only in memory, `take_settled` and `stats`
//!   never wait for the disk: a scrape of `/metrics` never waits behind an fsync.
//! - `spool` (a std mutex around the [`Spool`]): taken only on tokio's blocking pool
//!   (`spawn_blocking`, [`super::spooled`]) for the spool's part of push (append and
//!   fsync), pop (read a batch back) and ack (acks file, segment deletion). Lock order:
//!   spool, then state (briefly, to decide and to apply), never the reverse. A spool
//!   operation decides and applies under the spool lock, so to every other spool
//!   operation it is one step. With a spool every push is a spool operation; what runs
//!   beside one under the state lock alone (pop from memory, ack of a batch held only in
//!   memory, stats) only ever frees memory, so a decision stays true until it is applied.
//!
//! With a spool a push waits for its fsync (one batch in flight per producer is the
//! backpressure), and a pop that must read back from disk may wait behind an append:
//! both wait on the blocking pool, never on an executor thread.
//!
//! Cancel safety: the blocking part of an operation decides, does the I/O and applies
//! the result itself, so a caller that stops waiting leaves a consistent buffer (a batch
//! read back sits in memory for the next pop).
//!
//! No wake-up is lost: a waiter registers with its [`Notify`] before it looks at the
//! state, and every change that frees room (pop, spool ack, close) or adds a batch
//! notifies all waiters, who then look again. So a blocked producer always resumes once
//! room frees (Fluent Bit #1903 stayed paused for ever).

use super::batch::{AckToken, Batch};
use super::queue::{AckHandle, Delivery, Queue, Stored};
use super::spool::Spool;
use super::{BufferConfig, BufferStats, WhenFull};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// What became of a pushed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Stored(Stored),
    /// Full under [`WhenFull::DropNewest`]; counted.
    DroppedFull,
    /// The buffer was closed; counted.
    DroppedClosed,
}

pub(super) struct State<T> {
    pub queue: Queue<T>,
    pub closed: bool,
}

pub(super) struct Shared<T> {
    state: Mutex<State<T>>,
    /// Taken only on the blocking pool; see the module header.
    spool: Option<Mutex<Spool>>,
    when_full: WhenFull,
    /// Room freed (pop, spool ack, close).
    pub room: Notify,
    /// A batch arrived (or close).
    pub batches: Notify,
    /// A token was released (or close).
    pub settled: Notify,
}

/// What a pop finds.
enum Next<T> {
    Batch(Delivery<T>),
    /// Memory is empty and the next batch is on disk.
    ReadBack,
    Wait,
    Closed,
}

/// The bounded buffer between the batcher and the sink. Cheap to clone.
pub struct Buffer<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Buffer<T> {
    fn clone(&self) -> Self {
        Buffer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: AckToken> Buffer<T> {
    /// Opens the buffer; with a spool, scans its segments first (blocking I/O: call it
    /// off the executor), whose unacknowledged batches come out before anything pushed
    /// now. Only a spool directory that cannot be created or listed is an error.
    pub fn open(config: BufferConfig) -> io::Result<Self> {
        let spool = config.spool.map(Spool::open).transpose()?;
        let spool_stats = spool.as_ref().map(|s| s.stats().clone());
        let state = State {
            queue: Queue::new(config.max_memory_bytes, spool_stats),
            closed: false,
        };
        let shared = Shared {
            state: Mutex::new(state),
            spool: spool.map(Mutex::new),
            when_full: config.when_full,
            room: Notify::new(),
            batches: Notify::new(),
            settled: Notify::new(),
        };
        Ok(Buffer {
            shared: Arc::new(shared),
        })
    }

    /// Stores `batch`; when full, waits (Block) or drops it (DropNewest).
    pub async fn push(&self, mut batch: Batch<T>) -> Pushed {
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_push(batch).await {
                Ok(pushed) => return pushed,
                Err(back) => batch = back,
            }
            room.await;
        }
    }

    /// Stores `batch` without waiting for room (with a spool, it does wait for the
    /// write); gives it back when full under Block.
    pub async fn try_push(&self, batch: Batch<T>) -> Result<Pushed, Batch<T>> {
        let outcome = match self.shared.spool.is_some() {
            true => {
                let shared = self.shared.clone();
                blocking(move || shared.push_to_spool(batch)).await
            }
            false => self.shared.push_to_memory(batch),
        };
        match outcome {
            Err(batch) if self.shared.when_full == WhenFull::DropNewest => {
                self.shared.lock().queue.count_drop(&batch, false);
                Ok(Pushed::DroppedFull)
            }
            outcome => outcome,
        }
    }

    /// The oldest batch; waits for one. `None` once closed and memory is drained (what
    /// is unread on disk stays there for the next start).
    pub async fn pop(&self) -> Option<Delivery<T>> {
        loop {
            let arrived = self.shared.batches.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            match self.shared.next() {
                Next::Batch(delivery) => return Some(delivery),
                Next::Closed => return None,
                Next::ReadBack => self.read_back().await,
                Next::Wait => arrived.await,
            }
        }
    }

    /// The oldest batch, if there is one (read back from disk if need be).
    pub async fn try_pop(&self) -> Option<Delivery<T>> {
        loop {
            match self.shared.next() {
                Next::Batch(delivery) => return Some(delivery),
                Next::ReadBack => self.read_back().await,
                Next::Wait | Next::Closed => return None,
            }
        }
    }

    /// The sink is done with a batch (acknowledged, or given up on and counted). A batch
    /// held only in memory settles; a spooled one is noted in the spool (blocking pool).
    pub async fn ack(&self, ack: AckHandle) {
        if let Some(seq) = ack.seq {
            let mut state = self.shared.lock();
            state.queue.settle(seq);
            if state.queue.has_released() {
                self.shared.settled.notify_waiters();
            }
        }
        if let Some(pos) = ack.spooled {
            let shared = self.shared.clone();
            blocking(move || shared.ack_spooled(pos)).await;
        }
    }

    /// The merged token of the batches settled (acknowledged, or durable in the spool)
    /// since the last call, released in push order: checkpoints may move up to it.
    pub fn take_settled(&self) -> Option<T> {
        self.shared.lock().queue.take_released()
    }

    /// Waits for [`Buffer::take_settled`] to have something. `None` once closed.
    pub async fn settled(&self) -> Option<T> {
        loop {
            let released = self.shared.settled.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if let Some(token) = state.queue.take_released() {
                    return Some(token);
                }
                if state.closed {
                    return None;
                }
            }
            released.await;
        }
    }

    /// Stops taking batches: blocked and later pushes are dropped and counted, `pop`
    /// drains what memory holds and then returns `None`.
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.room.notify_waiters();
        self.shared.batches.notify_waiters();
        self.shared.settled.notify_waiters();
    }

    /// Nothing waits to be popped (in memory or unread on disk).
    pub fn is_empty(&self) -> bool {
        self.shared.lock().queue.is_empty()
    }

    /// Never waits for the disk: the spool's part is as of its last operation.
    pub fn stats(&self) -> BufferStats {
        self.shared.lock().queue.stats()
    }

    async fn read_back(&self) {
        let shared = self.shared.clone();
        blocking(move || shared.read_back()).await;
    }

    /// Holds the spool lock, as a long append would (tests of the lock split).
    #[cfg(test)]
    pub(super) fn hold_spool(&self) -> Option<MutexGuard<'_, Spool>> {
        self.shared.spool.as_ref().map(|s| lock(s, "spool"))
    }
}

impl<T: AckToken> Shared<T> {
    /// Push without a spool: memory or nothing.
    fn push_to_memory(&self, batch: Batch<T>) -> Result<Pushed, Batch<T>> {
        let mut state = self.lock();
        if state.closed {
            state.queue.count_drop(&batch, true);
            return Ok(Pushed::DroppedClosed);
        }
        if !state.queue.keeps_in_memory(batch.bytes()) {
            return Err(batch);
        }
        let stored = state.queue.push_memory(batch, None);
        self.wake_after_push(&state.queue);
        Ok(Pushed::Stored(stored))
    }

    fn next(&self) -> Next<T> {
        let mut state = self.lock();
        if let Some(delivery) = state.queue.try_pop() {
            drop(state);
            self.room.notify_waiters();
            return Next::Batch(delivery);
        }
        match (state.closed, state.queue.needs_read_back()) {
            (true, _) => Next::Closed,
            (false, true) => Next::ReadBack,
            (false, false) => Next::Wait,
        }
    }

    pub(super) fn wake_after_push(&self, queue: &Queue<T>) {
        self.batches.notify_waiters();
        if queue.has_released() {
            self.settled.notify_waiters();
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state, "buffer state")
    }

    /// The spool, on the blocking pool only. Panics without one (callers check).
    pub(super) fn lock_spool(&self) -> MutexGuard<'_, Spool> {
        lock(self.spool.as_ref().expect("a spool"), "spool")
    }
}

/// A panic under a lock is a bug in the buffer and may have left it half updated: the
/// other users panic too rather than lose or repeat batches quietly.
fn lock<'a, S>(mutex: &'a Mutex<S>, what: &str) -> MutexGuard<'a, S> {
    mutex
        .lock()
        .unwrap_or_else(|_| panic!("{what} lock poisoned"))
}

/// Runs `f` on tokio's blocking pool; a panic in it is the caller's panic.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a spool operation did not run (runtime shutting down): {e}"),
        },
    }
}
