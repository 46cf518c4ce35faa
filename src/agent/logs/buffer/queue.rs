//! The buffer's state, without locks or waiting: memory first, then the spool, in one
//! FIFO order, and the ledger that decides when a batch's token may reach the caller's
//! checkpoints.
//!
//! Order: while the spool holds unread batches, new batches go to the spool too (they
//! are newer than everything in it); only when it has none do they go to memory. So
//! memory, read first, always holds the oldest batches, and delivery is FIFO.
//!
//! Settlement (DESIGN: at-least-once): a batch is settled when the sink acknowledged it
//! or when it is fsynced in the spool. Tokens are released strictly in push order, for
//! the settled prefix only: a spooled batch does not release its token while an older
//! batch is still only in memory, or a crash would lose that older batch behind a
//! checkpoint that has moved past it. Released tokens are merged into one.

use super::batch::{AckToken, Batch};
use super::spool::{AppendError, Spool, SpoolPos, SpoolStats};
use super::{BufferStats, Dropped};
use std::collections::VecDeque;

/// Where an accepted batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Memory,
    /// Durable: written and fsynced in the spool.
    Spooled,
}

/// Hand this back to [`Queue::ack`] (through the buffer) once the sink is done with a
/// batch: delivered, or given up on and counted by the sink. Not `Clone`: one ack each.
#[derive(Debug, PartialEq, Eq)]
pub struct AckHandle {
    /// Push order in this run; `None` for a batch replayed from an earlier run's spool
    /// (its token was released, if ever, by that run).
    seq: Option<u64>,
    /// Where the spool holds the batch.
    spooled: Option<SpoolPos>,
}

/// A batch on its way to the sink.
#[derive(Debug)]
pub struct Delivery<T> {
    pub batch: Batch<T>,
    pub ack: AckHandle,
}

struct Held<T> {
    seq: u64,
    batch: Batch<T>,
}

struct Ledger<T> {
    token: T,
    settled: bool,
}

pub struct Queue<T> {
    max_memory_bytes: usize,
    memory: VecDeque<Held<T>>,
    memory_bytes: usize,
    memory_events: usize,
    spool: Option<Spool>,
    /// Tokens not yet released, by push order from `first_seq`.
    ledger: VecDeque<Ledger<T>>,
    first_seq: u64,
    released: Option<T>,
    stats: BufferStats,
}

impl<T: AckToken> Queue<T> {
    pub fn new(max_memory_bytes: usize, spool: Option<Spool>) -> Self {
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

    /// Stores `batch`, or gives it back when memory and spool are full.
    pub fn try_push(&mut self, batch: Batch<T>) -> Result<Stored, Batch<T>> {
        let spool_first = self.spool.as_ref().is_some_and(Spool::has_unread);
        if !spool_first && self.memory_has_room(batch.bytes()) {
            self.push_memory(batch);
            return Ok(Stored::Memory);
        }
        let Some(spool) = self.spool.as_mut() else {
            return Err(batch);
        };
        match spool.append(&batch) {
            Ok(_) => {
                self.record(batch.token, true);
                Ok(Stored::Spooled)
            }
            Err(AppendError::Full | AppendError::Io(_)) => Err(batch),
        }
    }

    /// The oldest batch, if any.
    pub fn try_pop(&mut self) -> Option<Delivery<T>> {
        if let Some(held) = self.memory.pop_front() {
            self.memory_bytes -= held.batch.bytes();
            self.memory_events -= held.batch.events();
            let ack = AckHandle {
                seq: Some(held.seq),
                spooled: None,
            };
            return Some(Delivery {
                batch: held.batch,
                ack,
            });
        }
        let (batch, pos) = self.spool.as_mut()?.read_next()?;
        // Spooled batches were settled when fsynced: their ack only frees the spool.
        let ack = AckHandle {
            seq: None,
            spooled: Some(pos),
        };
        Some(Delivery { batch, ack })
    }

    /// The sink is done with a batch. Returns whether room was freed in the spool (memory
    /// room is freed when a batch is popped).
    pub fn ack(&mut self, ack: AckHandle) -> bool {
        if let Some(seq) = ack.seq {
            self.settle(seq);
        }
        match (ack.spooled, self.spool.as_mut()) {
            (Some(pos), Some(spool)) => spool.ack(pos),
            _ => false,
        }
    }

    /// The merged token of everything settled since the last call, if anything was.
    pub fn take_released(&mut self) -> Option<T> {
        self.released.take()
    }

    pub fn has_released(&self) -> bool {
        self.released.is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && !self.spool.as_ref().is_some_and(Spool::has_unread)
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
        let spool = self.spool.as_ref().map(Spool::stats).cloned();
        BufferStats {
            memory_batches: self.memory.len(),
            memory_events: self.memory_events,
            memory_bytes: self.memory_bytes,
            spool: spool.unwrap_or_else(SpoolStats::default),
            spool_enabled: self.spool.is_some(),
            ..self.stats.clone()
        }
    }

    /// A batch larger than the whole memory bound is let in when memory is empty, or it
    /// could never be buffered and a blocked producer would wait for ever (PITFALLS 8).
    fn memory_has_room(&self, bytes: usize) -> bool {
        self.memory.is_empty() || self.memory_bytes + bytes <= self.max_memory_bytes
    }

    fn push_memory(&mut self, batch: Batch<T>) {
        let bytes = batch.bytes();
        if bytes > self.max_memory_bytes {
            self.stats.oversized_batches += 1;
        }
        self.memory_bytes += bytes;
        self.memory_events += batch.events();
        let seq = self.record(batch.token.clone(), false);
        self.memory.push_back(Held { seq, batch });
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

    fn settle(&mut self, seq: u64) {
        let Some(index) = seq.checked_sub(self.first_seq) else {
            return;
        };
        if let Some(entry) = self.ledger.get_mut(index as usize) {
            entry.settled = true;
            self.release();
        }
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
