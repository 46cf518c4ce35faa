//! The checkpointer: moves file offsets forward only for settled batches (acknowledged
//! by the sink, or durable in the spool) and persists them. This is the at-least-once
//! contract; [`Durability`] is what bounds the duplicates a crash can cause.
//!
//! Persisting is prompt: the sender asks, after each acknowledged batch, to wait until
//! that batch's checkpoint is on disk ([`Durability::wait_persisted`]); the checkpointer
//! answers every request that arrived before it took the settled tokens with one write,
//! so requests coalesce. The sender starts the next batch's delivery only then, so at any
//! instant at most one batch is delivered (or being delivered) without its checkpoint on
//! disk: a SIGKILL makes the sinks see at most one batch again per file. The write itself
//! runs on the blocking pool, without the store's lock. These prompt writes go to the
//! quick file without fsync (checkpoint/durable.rs): the page cache survives a process
//! crash, and an fsync per batch made every line wait on the disk, seconds under I/O
//! load. The timer (`persist_every`) writes the state durably (fsync, rename, fsync of the
//! directory), and so does the last write at shutdown. A power cut may so lose up to
//! `persist_every` of checkpoint progress (lines sent again, never lost); a SIGKILL loses
//! none.
//!
//! A write that fails is logged and retried at the next round; waiters are answered
//! anyway, so a failing disk slows nothing down (the bound then holds only for what was
//! written).

use super::metrics::PipelineMetrics;
use crate::agent::logs::buffer::{Buffer, FileOffsets};
use crate::agent::logs::checkpoint::{CheckpointError, CheckpointStore};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

mod persist;

/// Requests to persist, and how many have been answered.
pub(super) struct Durability {
    requested: AtomicU64,
    wake: Notify,
    answered: watch::Sender<u64>,
}

impl Default for Durability {
    fn default() -> Self {
        Durability {
            requested: AtomicU64::new(0),
            wake: Notify::new(),
            answered: watch::Sender::new(0),
        }
    }
}

impl Durability {
    /// Waits until every checkpoint settled before this call is persisted (or the
    /// checkpointer has stopped). Call it after the batch's acknowledgement.
    pub async fn wait_persisted(&self) {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut answered = self.answered.subscribe();
        self.wake.notify_one();
        let _ = answered.wait_for(|&n| n >= ticket).await;
    }

    /// Requests made so far; read *before* taking the settled tokens, so each of them
    /// is covered by what is taken.
    fn requested(&self) -> u64 {
        self.requested.load(Ordering::SeqCst)
    }

    fn answer(&self, up_to: u64) {
        self.answered.send_if_modified(|n| {
            let moved = up_to > *n;
            *n = (*n).max(up_to);
            moved
        });
    }
}

pub(super) struct Checkpointer {
    pub buffer: Buffer<FileOffsets>,
    pub store: Arc<Mutex<CheckpointStore>>,
    /// The stable file is behind the quick one (or may be: true at start, when the
    /// state may have come from the quick file); the timer then writes it.
    pub behind: AtomicBool,
    /// Quick writes so far, locked across each quick write: a durable write removes
    /// the quick file only if none was written since its snapshot (see persist.rs).
    pub quick_writes: tokio::sync::Mutex<u64>,
    pub persist_every: Duration,
    pub durability: Arc<Durability>,
    pub metrics: Arc<PipelineMetrics>,
    /// Set once the sender is done: take what settled last, persist, return.
    pub stop: CancellationToken,
}

impl Checkpointer {
    /// Answers the sender's rounds and writes durably on the timer, each on its own:
    /// a durable write (two fsyncs, seconds under I/O load) never holds up a round.
    pub async fn run(self) {
        tokio::join!(self.rounds(), self.timer());
        if let Some(token) = self.buffer.take_settled() {
            self.advance(token);
        }
        self.persist_durably().await;
        self.durability.answer(u64::MAX);
    }

    async fn rounds(&self) {
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                () = self.durability.wake.notified() => self.round().await,
                settled = self.buffer.settled(), if open => match settled {
                    Some(token) => self.advance(token),
                    // Closed: keep answering until the sender is done.
                    None => open = false,
                },
            }
        }
    }

    async fn timer(&self) {
        let first = tokio::time::Instant::now() + self.persist_every;
        let mut tick = tokio::time::interval_at(first, self.persist_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                _ = tick.tick() => self.persist_durably().await,
            }
        }
    }

    /// Takes what settled, persists it, and answers the requests made before.
    async fn round(&self) {
        let requested = self.durability.requested();
        if let Some(token) = self.buffer.take_settled() {
            self.advance(token);
        }
        self.persist_quickly().await;
        self.durability.answer(requested);
    }

    fn advance(&self, token: FileOffsets) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending = self
            .metrics
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (id, offset) in token.0 {
            pending.acked(&id, offset);
            match store.advance(&id, offset) {
                Ok(()) => {}
                Err(e @ CheckpointError::LateAck { .. }) => {
                    tracing::debug!(error = %e, "A late acknowledgement was ignored.");
                }
                // The file left its path a retention ago and its entry was pruned
                // (checkpoint/prune.rs): acks delayed by a sink outage end here.
                Err(e @ CheckpointError::UnknownFile(_)) => {
                    tracing::debug!(error = %e, "An acknowledgement for a file whose checkpoint was pruned was ignored.");
                }
                Err(e) => tracing::warn!(error = %e, "A checkpoint could not advance."),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::buffer::{Batch, BufferConfig};
    use crate::agent::logs::checkpoint::{Probe, DEFAULT_RETENTION};

    /// After `wait_persisted` the batch's offset is on disk (the quick file), read back
    /// by a new store (what a restart after SIGKILL sees); shutdown writes it durably
    /// and answers any later waiter.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_acknowledged_batch_is_on_disk_when_the_wait_returns() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        std::fs::write(&log, "2024-01-01T00:00:00Z stdout F a line\n").unwrap();
        let mut store = CheckpointStore::open(dir.path(), DEFAULT_RETENTION).unwrap();
        let id = store.resolve(&Probe::read(&log).unwrap(), &log);
        let buffer: Buffer<FileOffsets> = Buffer::open(BufferConfig::default()).unwrap();
        let durability = Arc::new(Durability::default());
        let stop = CancellationToken::new();
        let checkpointer = Checkpointer {
            buffer: buffer.clone(),
            store: Arc::new(Mutex::new(store)),
            behind: AtomicBool::new(true),
            quick_writes: tokio::sync::Mutex::new(0),
            persist_every: Duration::from_secs(3600),
            durability: durability.clone(),
            metrics: Arc::new(PipelineMetrics::default()),
            stop: stop.clone(),
        };
        let task = tokio::spawn(checkpointer.run());
        for offset in [10, 37] {
            let batch = Batch::new(vec![b"x".to_vec()], FileOffsets(vec![(id, offset)]));
            buffer.push(batch).await;
            let delivery = buffer.pop().await.unwrap();
            buffer.ack(delivery.ack).await;
            durability.wait_persisted().await;
            let on_disk = CheckpointStore::open(dir.path(), DEFAULT_RETENTION).unwrap();
            assert_eq!(
                on_disk.get(&id),
                Some(offset),
                "persisted before the next batch"
            );
        }
        let quick = ["checkpoints.quick.0", "checkpoints.quick.1"];
        assert!(quick.iter().any(|q| dir.path().join(q).exists()));
        stop.cancel();
        task.await.unwrap();
        let after_stop = CheckpointStore::open(dir.path(), DEFAULT_RETENTION).unwrap();
        assert_eq!(after_stop.get(&id), Some(37));
        assert_eq!(
            after_stop.stats().recovered_from_quick,
            0,
            "the last write is durable and removes the quick file"
        );
        tokio::time::timeout(Duration::from_secs(30), durability.wait_persisted())
            .await
            .expect("a stopped checkpointer answers every waiter");
    }
}
