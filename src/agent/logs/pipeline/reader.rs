//! Discovery and tailing, on a blocking thread: files are synced with what discovery
//! sees and read with a byte budget, but only once the channel to the processor has
//! room (the reader waits for it, up to `idle` at a time, rather than polling), so a
//! slow sink slows reading (backpressure) and nothing is read that cannot be handed on.

use super::metrics::PipelineMetrics;
use crate::agent::logs::checkpoint::CheckpointStore;
use crate::agent::logs::discover::{PathsProvider, WatchedProvider};
use crate::agent::logs::tail::{RawLine, Tailer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// What one poll read, for the processor.
pub(super) struct Chunk {
    pub lines: Vec<RawLine>,
    /// The poll read less than its budget: every file is read to its end, so the
    /// processor cuts its open batch rather than waiting for the batch's age.
    pub caught_up: bool,
}

pub(super) struct Reader {
    pub provider: WatchedProvider,
    pub tailer: Tailer,
    pub store: Arc<Mutex<CheckpointStore>>,
    pub lines: mpsc::Sender<Chunk>,
    pub metrics: Arc<PipelineMetrics>,
    /// Bytes read per poll at most.
    pub budget_bytes: usize,
    /// The pause when there is nothing to read or no room, and the longest time between
    /// two syncs with discovery.
    pub idle: Duration,
    pub stop: Arc<AtomicBool>,
}

impl Reader {
    /// Runs until `stop` is set or the processor is gone.
    pub fn run(mut self) {
        let mut last_sync: Option<Instant> = None;
        while !self.stop.load(Ordering::Acquire) {
            if last_sync.is_none_or(|t| t.elapsed() >= self.idle) {
                self.sync();
                last_sync = Some(Instant::now());
            }
            match self.read_once() {
                Some(true) => {}
                Some(false) => std::thread::sleep(self.idle),
                None => break,
            }
        }
        tracing::debug!("Log reader stopped.");
    }

    fn sync(&mut self) {
        let found = self.provider.paths();
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        self.tailer.sync(&found, &mut store);
    }

    /// Waits (at most `idle`) for room in the channel, then reads once. `Some(true)`:
    /// lines were handed on, or no room came (the caller goes round again without a
    /// pause); `Some(false)`: nothing to read now; `None`: the processor is gone.
    fn read_once(&mut self) -> Option<bool> {
        let permit = Handle::current()
            .block_on(async { tokio::time::timeout(self.idle, self.lines.reserve()).await });
        let permit = match permit {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return None,
            Err(_timeout) => return Some(true),
        };
        let mut lines = Vec::new();
        let read = self.tailer.poll(self.budget_bytes, &mut lines);
        *self.metrics.tail.lock().unwrap_or_else(|e| e.into_inner()) = self.tailer.stats();
        if lines.is_empty() {
            return Some(false);
        }
        let mut pending = self
            .metrics
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.read(&lines, Instant::now());
        drop(pending);
        let caught_up = read < self.budget_bytes as u64;
        permit.send(Chunk { lines, caught_up });
        Some(true)
    }
}
