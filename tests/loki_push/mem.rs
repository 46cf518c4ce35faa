//! A small in-memory log store for the receiver's tests (the real store comes from
//! another lane): streams in push order, one "chunk" each. It refuses an entry more than
//! an hour behind its stream's newest, as Loki's default out-of-order window, so the
//! receiver's mapping of store refusals is exercised too.

use nodepulse::aggregator::model::logs::{
    Direction, EntryRefusal, EntryView, Flow, IndexStats, LogAppender, LogEntry, LogReader,
    LogStoreError, PushOutcome, PushStream, StreamRef,
};
use nodepulse::aggregator::model::Labels;
use promql_parser::label::Matcher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

const WINDOW_NS: i64 = 3600 * 1_000_000_000;

#[derive(Default)]
pub struct MemLogs {
    streams: Mutex<Vec<(Labels, Vec<LogEntry>)>>,
    /// When set, every push fails as a disk error would.
    pub fail: AtomicBool,
}

impl MemLogs {
    /// Every stream's labels and entries, sorted by labels.
    pub fn dump(&self) -> Vec<(Labels, Vec<LogEntry>)> {
        let mut all = self.streams.lock().unwrap().clone();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The lines of the stream with exactly these labels.
    pub fn lines(&self, labels: &[(&str, &str)]) -> Vec<String> {
        let want = Labels::from_pairs(labels);
        let all = self.streams.lock().unwrap();
        all.iter()
            .find(|(l, _)| *l == want)
            .map(|(_, e)| e.iter().map(|e| e.line.clone()).collect())
            .unwrap_or_default()
    }

    pub fn stream_count(&self) -> usize {
        self.streams.lock().unwrap().len()
    }
}

impl LogAppender for MemLogs {
    fn push(&self, streams: Vec<PushStream>) -> Result<PushOutcome, LogStoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("disk on fire").into());
        }
        let mut all = self.streams.lock().unwrap();
        let mut out = PushOutcome::default();
        for s in streams {
            let i = match all.iter().position(|(l, _)| *l == s.labels) {
                Some(i) => i,
                None => {
                    all.push((s.labels.clone(), vec![]));
                    all.len() - 1
                }
            };
            let held = &mut all[i].1;
            for e in s.entries {
                let newest = held.iter().map(|e| e.ts).max().unwrap_or(i64::MIN);
                if e.ts < newest.saturating_sub(WINDOW_NS) {
                    out.refused += 1;
                    let why = EntryRefusal::TooFarBehind;
                    out.first_refusal
                        .get_or_insert((s.labels.clone(), e.ts, why));
                    continue;
                }
                held.push(e);
                out.accepted += 1;
            }
        }
        Ok(out)
    }
}

impl LogReader for MemLogs {
    fn streams(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<StreamRef> {
        let all = self.streams.lock().unwrap();
        let mut out: Vec<StreamRef> = all
            .iter()
            .enumerate()
            .filter(|(_, (l, e))| l.matches(matchers) && e.iter().any(|e| in_range(e, start, end)))
            .map(|(id, (l, _))| StreamRef {
                id: id as u64,
                labels: l.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    fn scan(
        &self,
        id: u64,
        start: i64,
        end: i64,
        direction: Direction,
        _must_contain: &[&[u8]],
        visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
    ) -> Result<(), LogStoreError> {
        let all = self.streams.lock().unwrap();
        let Some((_, entries)) = all.get(id as usize) else {
            return Ok(());
        };
        let mut picked: Vec<&LogEntry> =
            entries.iter().filter(|e| in_range(e, start, end)).collect();
        picked.sort_by_key(|e| e.ts);
        if direction == Direction::Backward {
            picked.reverse();
        }
        for e in picked {
            let view = EntryView {
                ts: e.ts,
                line: &e.line,
                metadata: &e.metadata,
            };
            if visit(view) == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self, matchers: &[Matcher], start: i64, end: i64) -> IndexStats {
        let all = self.streams.lock().unwrap();
        let mut st = IndexStats::default();
        for (_, entries) in all.iter().filter(|(l, _)| l.matches(matchers)) {
            let hits: Vec<_> = entries.iter().filter(|e| in_range(e, start, end)).collect();
            if hits.is_empty() {
                continue;
            }
            st.streams += 1;
            st.chunks += 1;
            st.entries += hits.len() as u64;
            st.bytes += hits.iter().map(|e| e.line.len() as u64).sum::<u64>();
        }
        st
    }
}

fn in_range(e: &LogEntry, start: i64, end: i64) -> bool {
    start <= e.ts && e.ts < end
}
