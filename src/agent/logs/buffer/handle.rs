//! [`Buffer`]: the shared, async face of the [`Queue`]. Producers `push` (waiting when
//! full under [`WhenFull::Block`]), the sink `pop`s and `ack`s, the checkpointer takes
//! settled tokens.
//!
//! No wake-up is lost: a waiter registers with its [`Notify`] before it looks at the
//! state, and every change that frees room (pop, ack, close) or adds a batch notifies
//! all waiters, who then look again. So a blocked producer always resumes once room
//! frees (Fluent Bit #1903 stayed paused for ever).

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

struct State<T> {
    queue: Queue<T>,
    closed: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    when_full: WhenFull,
    /// Room freed (pop, ack, close).
    room: Notify,
    /// A batch arrived (or close).
    batches: Notify,
    /// A token was released (or close).
    settled: Notify,
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
    /// Opens the buffer; with a spool, replays its segments first (their batches come
    /// out before anything pushed now). Only a spool directory that cannot be created
    /// or listed is an error.
    pub fn open(config: BufferConfig) -> io::Result<Self> {
        let spool = config.spool.map(Spool::open).transpose()?;
        let state = State {
            queue: Queue::new(config.max_memory_bytes, spool),
            closed: false,
        };
        let shared = Shared {
            state: Mutex::new(state),
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
            match self.try_push(batch) {
                Ok(pushed) => return pushed,
                Err(back) => batch = back,
            }
            room.await;
        }
    }

    /// Stores `batch` without waiting; gives it back when full under Block.
    pub fn try_push(&self, batch: Batch<T>) -> Result<Pushed, Batch<T>> {
        let mut state = self.lock();
        if state.closed {
            state.queue.count_drop(&batch, true);
            return Ok(Pushed::DroppedClosed);
        }
        match state.queue.try_push(batch) {
            Ok(stored) => {
                self.wake_after_push(&state.queue);
                Ok(Pushed::Stored(stored))
            }
            Err(batch) if self.shared.when_full == WhenFull::DropNewest => {
                state.queue.count_drop(&batch, false);
                Ok(Pushed::DroppedFull)
            }
            Err(batch) => Err(batch),
        }
    }

    /// The oldest batch; waits for one. `None` once closed and drained.
    pub async fn pop(&self) -> Option<Delivery<T>> {
        loop {
            let arrived = self.shared.batches.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some(delivery) = state.queue.try_pop() {
                    self.shared.room.notify_waiters();
                    return Some(delivery);
                }
                if state.closed {
                    return None;
                }
            }
            arrived.await;
        }
    }

    /// The oldest batch, if any.
    pub fn try_pop(&self) -> Option<Delivery<T>> {
        let delivery = self.lock().queue.try_pop();
        if delivery.is_some() {
            self.shared.room.notify_waiters();
        }
        delivery
    }

    /// The sink is done with a batch (acknowledged, or given up on and counted).
    pub fn ack(&self, ack: AckHandle) {
        let mut state = self.lock();
        if state.queue.ack(ack) {
            self.shared.room.notify_waiters();
        }
        if state.queue.has_released() {
            self.shared.settled.notify_waiters();
        }
    }

    /// The merged token of the batches settled (acknowledged, or durable in the spool)
    /// since the last call, released in push order: checkpoints may move up to it.
    pub fn take_settled(&self) -> Option<T> {
        self.lock().queue.take_released()
    }

    /// Waits for [`Buffer::take_settled`] to have something. `None` once closed.
    pub async fn settled(&self) -> Option<T> {
        loop {
            let released = self.shared.settled.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut state = self.lock();
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
    /// drains what is held and then returns `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.shared.room.notify_waiters();
        self.shared.batches.notify_waiters();
        self.shared.settled.notify_waiters();
    }

    /// Nothing waits to be popped (in memory or unread in the spool).
    pub fn is_empty(&self) -> bool {
        self.lock().queue.is_empty()
    }

    pub fn stats(&self) -> BufferStats {
        self.lock().queue.stats()
    }

    fn wake_after_push(&self, queue: &Queue<T>) {
        self.shared.batches.notify_waiters();
        if queue.has_released() {
            self.shared.settled.notify_waiters();
        }
    }

    /// A panic under the lock is a bug in the queue and may have left it half updated:
    /// the other users panic too rather than lose or repeat batches quietly.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.shared
            .state
            .lock()
            .expect("buffer state lock poisoned")
    }
}
