//! The buffer's state, without locks, waiting or I/O: the batches held in memory in
//! delivery order, what the spool last said of itself, and the ledger that decides when
//! a batch's token may reach the caller's checkpoints. [`super::handle`] does the
//! locking and runs the spool's I/O; this file decides.
//!
//! Without a spool, memory is the whole buffer. With one, the spool is the buffer
//! (write-ahead): every batch is written and fsynced there before it is taken, and
//! memory is a bounded cache of the oldest batches. A batch is also kept in memory when
//! memory has room and nothing older waits unread on disk ([`Queue::keeps_in_memory`]);
//! otherwise it is on disk only and is read back into memory once memory has emptied.
//! So memory always holds the head of the queue, the unread spool its tail, and delivery
//! is FIFO: a newer batch never goes to memory ahead of an older one still unread on
//! disk, even when memory has room again.
//!
//! Why every batch, and not only those that overflow memory: a spilled batch can settle
//! (below) only after the older batches held in memory or in flight, and during an
//! outage those never settle. After a crash the spool would then replay newer lines
//! while the files are read again from before the older ones: lines out of order, and
//! the whole spool sent twice. With every batch on disk, checkpoints follow the spool
//! closely and a restart replays exactly what was not acknowledged, in order.
//!
//! Settlement (DESIGN: at-least-once): a batch is settled when it is fsynced in the
//! spool or the sink acknowledged it. Tokens are released strictly in push order, for
//! the settled prefix only: a batch held only in memory (no spool, or the disk failed to
//! write it) holds back the tokens of later batches until it is acknowledged, or a
//! crash would lose it behind a checkpoint that has moved past it. Released tokens are
//! merged into one.

use super::batch::{AckToken, Batch};
use super::spool::{SpoolPos, SpoolStats};
use super::{BufferStats, Dropped};
use std::collections::VecDeque;

/// Where an accepted batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// In memory only: settled when the sink acknowledges it.
    Memory,
    /// Durable: written and fsynced in the spool (and kept in memory if it fit).
    Spooled,
}

/// Hand this back to the buffer once the sink is done with a batch: delivered, or given
/// up on and counted by the sink. Not `Clone`: one ack each.
#[derive(Debug, PartialEq, Eq)]
pub struct AckHandle {
    /// Push order in this run, for a batch not settled yet (held in memory only).
    pub(super) seq: Option<u64>,
    /// Where the spool holds the batch.
    pub(super) spooled: Option<SpoolPos>,
}

/// A batch on its way to the sink.
#[derive(Debug)]
pub struct Delivery<T> {
    pub batch: Batch<T>,
    pub ack: AckHandle,
}

struct Ledger<T> {
    token: T,
    settled: bool,
}

pub struct Queue<T> {
    max_memory_bytes: usize,
    memory: VecDeque<Delivery<T>>,
    memory_bytes: usize,
    memory_events: usize,
    /// The spool's counters after its last operation; `None`: no spool.
    spool: Option<SpoolStats>,
    /// Tokens not yet released, by push order from `first_seq`.
    ledger: VecDeque<Ledger<T>>,
    first_seq: u64,
    released: Option<T>,
    stats: BufferStats,
}

impl<T: AckToken> Queue<T> {
    pub fn new(max_memory_bytes: usize, spool: Option<SpoolStats>) -> Self {
        Queue {
            max_memory_bytes,
            memory: VecDeque::new(),
            memory_bytes: 0,
            memory_events: 0,
            spool,
            ledger: VecDeque::new(),
            first_seq: 0,
            released: None,
            stats: BufferStats::default(),
        }
    }

    /// Whether a batch of `bytes` goes to (or, with a spool, stays in) memory: there is
    /// room, and nothing older waits unread on disk.
    pub fn keeps_in_memory(&self, bytes: usize) -> bool {
        self.unread_on_disk() == 0 && self.memory_has_room(bytes)
    }

    /// Takes a batch into memory; `spooled` says where the spool holds it (then it is
    /// settled already), `None` that memory is its only copy.
    pub fn push_memory(&mut self, batch: Batch<T>, spooled: Option<SpoolPos>) -> Stored {
        let seq = self.record(batch.token.clone(), spooled.is_some());
        let unsettled = spooled.is_none().then_some(seq);
        self.hold(batch, unsettled, spooled);
        match spooled {
            Some(_) => Stored::Spooled,
            None => Stored::Memory,
        }
    }

    /// Notes a batch that went to disk only.
    pub fn push_disk_only(&mut self, token: T) -> Stored {
        self.record(token, true);
        Stored::Spooled
    }

    /// Takes a batch read back from the spool into memory (it settled when written).
    pub fn push_read_back(&mut self, batch: Batch<T>, pos: SpoolPos) {
        self.hold(batch, None, Some(pos));
    }

    /// The oldest batch held in memory, if any.
    pub fn try_pop(&mut self) -> Option<Delivery<T>> {
        let delivery = self.memory.pop_front()?;
        self.memory_bytes -= delivery.batch.bytes();
        self.memory_events -= delivery.batch.events();
        Some(delivery)
    }

    /// Memory is empty and the next batch waits on disk.
    pub fn needs_read_back(&self) -> bool {
        self.memory.is_empty() && self.unread_on_disk() > 0
    }

    /// The sink is done with a batch held only in memory: it settles.
    pub fn settle(&mut self, seq: u64) {
        let Some(index) = seq.checked_sub(self.first_seq) else {
            return;
        };
        if let Some(entry) = self.ledger.get_mut(index as usize) {
            entry.settled = true;
            self.release();
        }
    }

    /// What the spool says of itself after an operation.
    pub fn set_spool(&mut self, stats: &SpoolStats) {
        if let Some(mine) = self.spool.as_mut() {
            mine.clone_from(stats);
        }
    }

    /// The merged token of everything settled since the last call, if anything was.
    pub fn take_released(&mut self) -> Option<T> {
        self.released.take()
    }

    pub fn has_released(&self) -> bool {
        self.released.is_some()
    }

    /// Nothing waits to be popped, in memory or unread on disk.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.unread_on_disk() == 0
    }

    pub fn memory_is_empty(&self) -> bool {
        self.memory.is_empty()
    }

    /// Counts a batch the full policy (or shutdown) turned away.
    pub fn count_drop(&mut self, batch: &Batch<T>, closed: bool) {
        let dropped = match closed {
            true => &mut self.stats.dropped_closed,
            false => &mut self.stats.dropped_full,
        };
        dropped.add(batch);
    }

    pub fn stats(&self) -> BufferStats {
        BufferStats {
            memory_batches: self.memory.len(),
            memory_events: self.memory_events,
            memory_bytes: self.memory_bytes,
            spool: self.spool.clone().unwrap_or_default(),
            spool_enabled: self.spool.is_some(),
            ..self.stats.clone()
        }
    }

    fn unread_on_disk(&self) -> u64 {
        self.spool.as_ref().map_or(0, |s| s.unread_batches)
    }

    /// A batch larger than the whole memory bound is let in when memory is empty, or it
    /// could never be buffered and a blocked producer would wait for ever (PITFALLS 8).
    fn memory_has_room(&self, bytes: usize) -> bool {
        self.memory.is_empty() || self.memory_bytes + bytes <= self.max_memory_bytes
    }

    fn hold(&mut self, batch: Batch<T>, seq: Option<u64>, spooled: Option<SpoolPos>) {
        let bytes = batch.bytes();
        if bytes > self.max_memory_bytes {
            self.stats.oversized_batches += 1;
        }
        self.memory_bytes += bytes;
        self.memory_events += batch.events();
        let ack = AckHandle { seq, spooled };
        self.memory.push_back(Delivery { batch, ack });
        let max = self.stats.max_memory_bytes_seen.max(self.memory_bytes);
        self.stats.max_memory_bytes_seen = max;
    }

    /// Enters a batch in the ledger; returns its seq.
    fn record(&mut self, token: T, settled: bool) -> u64 {
        let seq = self.first_seq + self.ledger.len() as u64;
        self.ledger.push_back(Ledger { token, settled });
        self.release();
        seq
    }

    /// Moves the settled prefix of the ledger into the released token.
    fn release(&mut self) {
        while self.ledger.front().is_some_and(|e| e.settled) {
            let entry = self.ledger.pop_front().expect("front exists");
            self.first_seq += 1;
            match self.released.as_mut() {
                Some(released) => released.merge(entry.token),
                None => self.released = Some(entry.token),
            }
        }
    }
}

impl Dropped {
    fn add<T>(&mut self, batch: &Batch<T>) {
        self.batches += 1;
        self.events += batch.events() as u64;
        self.bytes += batch.bytes() as u64;
    }
}
