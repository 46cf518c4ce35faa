//! Discovery and tailing, on a blocking thread: files are synced with what discovery
//! sees and read with a byte budget, but only while the channel to the processor has
//! room, so a slow sink slows reading (backpressure) and nothing is read that cannot be
//! handed on.

use super::metrics::PipelineMetrics;
use crate::agent::logs::checkpoint::CheckpointStore;
use crate::agent::logs::discover::{PathsProvider, WatchedProvider};
use crate::agent::logs::tail::{RawLine, Tailer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub(super) struct Reader {
    pub provider: WatchedProvider,
    pub tailer: Tailer,
    pub store: Arc<Mutex<CheckpointStore>>,
    pub lines: mpsc::Sender<Vec<RawLine>>,
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

    /// Reads once if the processor has room. `Some(true)`: lines were handed on;
    /// `Some(false)`: nothing to do now; `None`: the processor is gone.
    fn read_once(&mut self) -> Option<bool> {
        if self.lines.is_closed() {
            return None;
        }
        if self.lines.capacity() == 0 {
            return Some(false);
        }
        let mut out = Vec::new();
        self.tailer.poll(self.budget_bytes, &mut out);
        *self.metrics.tail.lock().unwrap_or_else(|e| e.into_inner()) = self.tailer.stats();
        if out.is_empty() {
            return Some(false);
        }
        let mut pending = self
            .metrics
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.read(&out, Instant::now());
        drop(pending);
        // The only producer, and there was room: this does not wait.
        self.lines.blocking_send(out).ok().map(|()| true)
    }
}
