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

/// How much of a write is made durable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The quick file, no fsync: safe from a process crash.
    Quick,
    /// The stable file, fsynced with its directory: safe from a power cut.
    Full,
}

pub(super) struct Checkpointer {
    pub buffer: Buffer<FileOffsets>,
    pub store: Arc<Mutex<CheckpointStore>>,
    /// The stable file is behind the quick one (or may be: true at start, when the
    /// state may have come from the quick file); the timer then writes it.
    pub behind: AtomicBool,
    pub persist_every: Duration,
    pub durability: Arc<Durability>,
    pub metrics: Arc<PipelineMetrics>,
    /// Set once the sender is done: take what settled last, persist, return.
    pub stop: CancellationToken,
}

impl Checkpointer {
    pub async fn run(self) {
        let mut tick = tokio::time::interval(self.persist_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                _ = tick.tick() => self.persist(Level::Full).await,
            }
        }
        if let Some(token) = self.buffer.take_settled() {
            self.advance(token);
        }
        self.persist(Level::Full).await;
        self.durability.answer(u64::MAX);
    }

    /// Takes what settled, persists it, and answers the requests made before.
    async fn round(&self) {
        let requested = self.durability.requested();
        if let Some(token) = self.buffer.take_settled() {
            self.advance(token);
        }
        self.persist(Level::Quick).await;
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
                Err(e) => tracing::warn!(error = %e, "A checkpoint could not advance."),
            }
        }
    }

    /// Writes the store if it changed (`Level::Full`: also if the stable file is
    /// behind): encoded under its lock, written on the blocking pool without it.
    async fn persist(&self, level: Level) {
        let snapshot = {
            let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
            match level {
                Level::Full if self.behind.load(Ordering::Acquire) => Some(store.snapshot_all()),
                _ => store.snapshot(),
            }
        };
        let Some(snapshot) = snapshot else {
            return;
        };
        let written = tokio::task::spawn_blocking(move || match level {
            Level::Full => snapshot.write(),
            Level::Quick => snapshot.write_quick(),
        })
        .await;
        let ok = matches!(written, Ok(Ok(())));
        if let Ok(Err(e)) = &written {
            tracing::warn!(error = %e, "The checkpoints could not be written; retrying later.");
        }
        if ok {
            self.behind.store(level == Level::Quick, Ordering::Release);
        }
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.written(ok);
        *self
            .metrics
            .checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = store.stats().clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::buffer::{Batch, BufferConfig};
    use crate::agent::logs::checkpoint::{Probe, DEFAULT_RETENTION};

    /// After `wait_persisted` the batch's offset is in checkpoints.json, read back by a
    /// new store (what a restart after SIGKILL sees); shutdown answers any later waiter.
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
        stop.cancel();
        task.await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), durability.wait_persisted())
            .await
            .expect("a stopped checkpointer answers every waiter");
    }
}
