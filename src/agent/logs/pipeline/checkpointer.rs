//! The checkpointer: moves file offsets forward only for settled batches (acknowledged
//! by the sink, or durable in the spool) and persists the store at most every
//! `persist_every`, and once more at shutdown. This is the at-least-once contract.

use crate::agent::logs::buffer::{Buffer, FileOffsets};
use crate::agent::logs::checkpoint::CheckpointStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(super) struct Checkpointer {
    pub buffer: Buffer<FileOffsets>,
    pub store: Arc<Mutex<CheckpointStore>>,
    pub persist_every: Duration,
    /// Set once the sender is done: take what settled last, persist, return.
    pub stop: CancellationToken,
}

impl Checkpointer {
    pub async fn run(self) {
        let mut tick = tokio::time::interval(self.persist_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                settled = self.buffer.settled() => match settled {
                    Some(token) => self.advance(token),
                    // Closed: wait for the sender to finish before the last round.
                    None => { self.stop.cancelled().await; break; }
                },
                _ = tick.tick() => self.persist(),
                () = self.stop.cancelled() => break,
            }
        }
        if let Some(token) = self.buffer.take_settled() {
            self.advance(token);
        }
        self.persist();
    }

    fn advance(&self, token: FileOffsets) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        for (id, offset) in token.0 {
            if let Err(e) = store.advance(&id, offset) {
                tracing::warn!(error = %e, "A checkpoint could not advance.");
            }
        }
    }

    fn persist(&self) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = store.persist() {
            tracing::warn!(error = %e, "The checkpoints could not be written; retrying later.");
        }
    }
}
