//! The receiver's tests store into the real log store, in a temp directory. A switch
//! makes every push fail as a disk error would, so the receiver's 500 is exercised;
//! everything else goes straight to [`LogStore`].

use nodepulse::aggregator::logstore::{LogStore, LogStoreOptions};
use nodepulse::aggregator::model::logs::{
    Direction, EntryView, Flow, IndexStats, LogAppender, LogEntry, LogReader, LogStoreError,
    PushOutcome, PushStream, StreamRef,
};
use nodepulse::aggregator::model::Labels;
use promql_parser::label::Matcher;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct TestLogs {
    store: LogStore,
    _dir: tempfile::TempDir,
    /// When set, every push fails as a disk error would.
    pub fail: AtomicBool,
}

impl Default for TestLogs {
    fn default() -> Self {
        TestLogs::with_creation_grace(LogStoreOptions::default().creation_grace)
    }
}

impl TestLogs {
    /// A store that takes entries up to `grace` in the future (the receiver's setting).
    pub fn with_creation_grace(grace: std::time::Duration) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = LogStoreOptions {
            creation_grace: grace,
            ..LogStoreOptions::default()
        };
        let store = LogStore::open(dir.path(), opts).expect("log store");
        TestLogs {
            store,
            _dir: dir,
            fail: AtomicBool::new(false),
        }
    }

    /// Every stream's labels and entries (in time order), sorted by labels.
    pub fn dump(&self) -> Vec<(Labels, Vec<LogEntry>)> {
        self.store
            .streams(&[], i64::MIN, i64::MAX)
            .into_iter()
            .map(|s| (s.labels.clone(), self.entries(s.id)))
            .collect()
    }

    fn entries(&self, id: u64) -> Vec<LogEntry> {
        let mut out = Vec::new();
        let mut visit = |e: EntryView<'_>| {
            out.push(LogEntry {
                ts: e.ts,
                line: e.line.to_string(),
                metadata: e.metadata.to_vec(),
            });
            Flow::Continue
        };
        let dir = Direction::Forward;
        self.store
            .scan(id, i64::MIN, i64::MAX, dir, &[], &mut visit)
            .expect("scan");
        out
    }

    /// The lines of the stream with exactly these labels.
    pub fn lines(&self, labels: &[(&str, &str)]) -> Vec<String> {
        let want = Labels::from_pairs(labels);
        self.dump()
            .into_iter()
            .find(|(l, _)| *l == want)
            .map(|(_, e)| e.into_iter().map(|e| e.line).collect())
            .unwrap_or_default()
    }

    pub fn stream_count(&self) -> usize {
        self.store.streams(&[], i64::MIN, i64::MAX).len()
    }
}

impl LogAppender for TestLogs {
    fn push(&self, streams: Vec<PushStream>) -> Result<PushOutcome, LogStoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("disk on fire").into());
        }
        self.store.push(streams)
    }
}

impl LogReader for TestLogs {
    fn streams(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<StreamRef> {
        self.store.streams(matchers, start, end)
    }

    fn scan(
        &self,
        id: u64,
        start: i64,
        end: i64,
        direction: Direction,
        must_contain: &[&[u8]],
        visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
    ) -> Result<(), LogStoreError> {
        self.store
            .scan(id, start, end, direction, must_contain, visit)
    }

    fn stats(&self, matchers: &[Matcher], start: i64, end: i64) -> IndexStats {
        self.store.stats(matchers, start, end)
    }
}
