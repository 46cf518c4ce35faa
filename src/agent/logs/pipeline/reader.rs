//! Discovery and tailing, on a blocking thread: files are synced with what discovery
//! sees and read with a byte budget, but only once the channel to the processor has
//! room (the reader waits for it, up to `idle` at a time, rather than polling), so a
//! slow sink slows reading (backpressure) and nothing is read that cannot be handed on.

use super::metrics::PipelineMetrics;
use crate::agent::logs::checkpoint::CheckpointStore;
use crate::agent::logs::discover::{PathsProvider, WatchedProvider};
use crate::agent::logs::tail::{RawLine, Tailer};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// What one poll read, for the processor.
pub(super) struct Chunk {
    /// Streams the tailer let go of for good before this poll ([`Tailer::take_ended`]):
    /// every line of them came in an earlier chunk, so they are ended before `lines`
    /// (where a path met again is a new stream) are processed.
    pub ended: Vec<Arc<Path>>,
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
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        self.tailer.finish(&mut store); // before the checkpointer's last write
        tracing::debug!("Log reader stopped.");
    }

    /// Syncs the tailer with discovery. When the tailer finds a rotation or a
    /// copytruncate by itself (the live path names another file, or it shrank), the list
    /// it was given may predate it: the next sync rescans, so the renamed file or the
    /// copy is listed before the tailer drains and closes it. A closed rotated file
    /// missing from the list is forgotten, and met again at a later scan it would be
    /// read a second time from its acknowledged offset.
    fn sync(&mut self) {
        let found = self.provider.paths();
        let seen = |t: &Tailer| {
            let s = t.stats();
            (s.rotations, s.truncations)
        };
        let before = seen(&self.tailer);
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        self.tailer.sync(&found, &mut store);
        if seen(&self.tailer) != before {
            self.provider.rescan_soon();
        }
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
        let ended = self.tailer.take_ended();
        let mut lines = Vec::new();
        let read = self.tailer.poll(self.budget_bytes, &mut lines);
        *self.metrics.tail.lock().unwrap_or_else(|e| e.into_inner()) = self.tailer.stats();
        if lines.is_empty() && ended.is_empty() {
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
        permit.send(Chunk {
            ended,
            lines,
            caught_up,
        });
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::discover::DiscoverConfig;
    use crate::agent::logs::tail::TailConfig;
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    fn append(path: &Path, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Regression (found by tests/logs_model.rs, seed 0): a rotated file drained and
    /// closed while discovery's list still predated its rotation was forgotten, then met
    /// at the next scan and read again from its acknowledged offset (acks in flight).
    #[test]
    fn a_rotated_file_closed_before_the_next_scan_is_not_read_twice() {
        // The reader waits for channel room on the runtime it runs beside.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let _runtime = runtime.enter();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pods/ns_pod_uid/c");
        fs::create_dir_all(&dir).unwrap();
        let live = dir.join("0.log");
        append(&live, "a\nb\n");
        let store = CheckpointStore::open(&tmp.path().join("data"), Duration::from_secs(60));
        let (tx, mut rx) = mpsc::channel(16);
        let config = DiscoverConfig::new(tmp.path().join("pods"), None);
        let mut reader = Reader {
            // No inotify, no periodic rescan in the test's time: only asked-for scans.
            provider: WatchedProvider::new(config, Duration::from_secs(3600), false),
            tailer: Tailer::new(TailConfig::default()),
            store: Arc::new(Mutex::new(store.unwrap())),
            lines: tx,
            metrics: Arc::new(PipelineMetrics::default()),
            budget_bytes: 1 << 20,
            idle: Duration::ZERO,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let mut read = Vec::new();
        let mut round = |reader: &mut Reader| {
            reader.sync();
            while reader.read_once() == Some(true) {}
            while let Ok(chunk) = rx.try_recv() {
                let lines = chunk.lines.into_iter().filter(|l| !l.is_end_of_file());
                read.extend(lines.map(|l| l.bytes));
            }
        };
        round(&mut reader);
        fs::rename(&live, dir.join("0.log.20240101-000001")).unwrap();
        append(&live, "c\n");
        round(&mut reader); // rotation found by probing the live path; the old file closes
        round(&mut reader);
        reader.provider.rescan_soon(); // e.g. a late inotify event, or the periodic rescan
        round(&mut reader);
        round(&mut reader);
        let read: Vec<&[u8]> = read.iter().map(|b| &b[..]).collect();
        assert_eq!(read, [&b"a\n"[..], b"b\n", b"c\n"]);
    }
}
