//! The buffer between reading and sending (DESIGN.md, LOGS: batch ─▶ buffer ─▶ sink).
//!
//! - [`Batcher`] cuts records into batches by count, bytes and age, never splitting one.
//! - [`Buffer`] holds batches in bounded memory. With a disk spool ([`spool`]) every
//!   batch is written there first and memory caches the oldest ones, so reading goes on
//!   while the sink is down and a crash loses nothing read (the design: `queue.rs`;
//!   locks and where the I/O runs: `handle.rs`, `spooled.rs`). When full,
//!   [`WhenFull::Block`] (the default) makes the producer wait, and it always resumes
//!   when room frees (PITFALLS 8); [`WhenFull::DropNewest`] drops and counts.
//! - Checkpoints: the buffer hands back, in push order, the [`AckToken`]s of batches the
//!   sink acknowledged or that are fsynced in the spool ([`Buffer::take_settled`]); only
//!   those may move a checkpoint (DESIGN: at-least-once).
//!
//! The buffer knows nothing of sinks or files: a batch is opaque records plus a token.

mod batch;
mod batcher;
mod handle;
mod pool;
mod queue;
pub mod record;
mod records;
pub mod spool;
mod spooled;

pub use batch::{AckToken, Batch, FileOffsets};
pub use batcher::{BatchLimits, Batcher};
pub use handle::{Buffer, Pushed};
pub use pool::RecordsPool;
pub use queue::{AckHandle, Delivery, Stored};
pub use records::Records;
pub use spool::{SpoolConfig, SpoolPos, SpoolStats};

/// What happens to a batch when memory and spool are full (STYLE 9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WhenFull {
    /// The producer waits until there is room: nothing is lost, reading slows down.
    #[default]
    Block,
    /// The batch is dropped and counted.
    DropNewest,
}

/// The buffer's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferConfig {
    /// Payload bytes held in memory (a batch larger than this is let in alone). With a
    /// spool, the bound of its in-memory cache.
    pub max_memory_bytes: usize,
    pub when_full: WhenFull,
    /// `None`: memory only.
    pub spool: Option<SpoolConfig>,
}

impl Default for BufferConfig {
    /// 16 MiB in memory (with the reader's channel and the batches in flight, the
    /// agent stays within 64 MiB of RSS while a sink lags), blocking, no spool.
    fn default() -> Self {
        BufferConfig {
            max_memory_bytes: 16 * 1024 * 1024,
            when_full: WhenFull::Block,
            spool: None,
        }
    }
}

/// Batches turned away, for one reason.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub batches: u64,
    pub events: u64,
    pub bytes: u64,
}

/// A snapshot of the buffer, for `/metrics`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BufferStats {
    pub memory_batches: usize,
    pub memory_events: usize,
    pub memory_bytes: usize,
    pub max_memory_bytes_seen: usize,
    /// Batches larger than the memory bound, let in alone.
    pub oversized_batches: u64,
    /// Dropped by [`WhenFull::DropNewest`] when full.
    pub dropped_full: Dropped,
    /// Pushed after [`Buffer::close`].
    pub dropped_closed: Dropped,
    pub spool_enabled: bool,
    pub spool: SpoolStats,
}

#[cfg(test)]
mod tests;
