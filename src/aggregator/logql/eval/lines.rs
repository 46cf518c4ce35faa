//! A log query's lines: every selected stream is scanned in the query's direction
//! (with the required substrings as the store's hint), each entry goes through the
//! pipeline, and the first `limit` kept lines in that direction across all streams are
//! returned, grouped into result streams by their labels after the pipeline (Loki's
//! `streams` result: sorted by labels, entries in direction order).

use crate::aggregator::model::logs::{
    Direction, EntryView, Flow, LogReader, LogStoreError, StreamRef,
};
use crate::aggregator::model::Labels;
use std::collections::{BTreeMap, BinaryHeap};

/// A line the pipeline kept: its time, the (possibly rewritten) line, its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub ts: i64,
    pub line: String,
    pub labels: Labels,
}

/// One result stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    pub labels: Labels,
    /// `(ts ns, line)` in the query's direction.
    pub entries: Vec<(i64, String)>,
}

/// What a log query reads.
pub struct LineQuery<'a> {
    pub start: i64,
    pub end: i64,
    pub direction: Direction,
    pub limit: usize,
    pub must_contain: &'a [&'a [u8]],
}

/// The pipeline: a stream's entry ─▶ the kept line, or `None`.
pub type Process<'p> = dyn FnMut(&StreamRef, EntryView<'_>) -> Option<Kept> + 'p;

/// Runs `q` over `streams`; see the module doc.
pub fn select_lines(
    reader: &dyn LogReader,
    streams: &[StreamRef],
    q: &LineQuery,
    process: &mut Process,
) -> Result<Vec<LogStream>, LogStoreError> {
    let mut best = Best::new(q.limit, q.direction);
    for stream in streams {
        let mut taken = 0;
        let mut visit = |e: EntryView<'_>| {
            if !best.could_take(e.ts) {
                return Flow::Stop;
            }
            if let Some(kept) = process(stream, e) {
                best.offer(kept);
                taken += 1;
            }
            if taken >= q.limit {
                Flow::Stop
            } else {
                Flow::Continue
            }
        };
        if q.limit > 0 {
            reader.scan(
                stream.id,
                q.start,
                q.end,
                q.direction,
                q.must_contain,
                &mut visit,
            )?;
        }
    }
    Ok(group(best.into_sorted()))
}

/// The `limit` best lines so far: the oldest for forward, the newest for backward.
/// Heap order puts the worst kept line on top, so a better one replaces it.
struct Best {
    limit: usize,
    forward: bool,
    heap: BinaryHeap<Ranked>,
    next: u64,
}

/// A kept line ranked for the heap: "greater" is worse.
struct Ranked {
    key: (i64, u64),
    kept: Kept,
}

impl PartialEq for Ranked {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

impl Best {
    fn new(limit: usize, direction: Direction) -> Best {
        Best {
            limit,
            forward: direction == Direction::Forward,
            heap: BinaryHeap::with_capacity(limit.min(1 << 16)),
            next: 0,
        }
    }

    /// The rank of a line at `ts`: forward prefers earlier, backward later; ties keep
    /// the order lines were offered in (streams in label order, then scan order).
    fn key(&self, ts: i64, seq: u64) -> (i64, u64) {
        (if self.forward { ts } else { ts.wrapping_neg() }, seq)
    }

    /// Whether a line at `ts` could still be among the best (a scan stops when not:
    /// its later lines are all worse).
    fn could_take(&self, ts: i64) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|w| self.key(ts, 0).0 < w.key.0)
    }

    fn offer(&mut self, kept: Kept) {
        let key = self.key(kept.ts, self.next);
        self.next += 1;
        if self.heap.len() < self.limit {
            self.heap.push(Ranked { key, kept });
        } else if self.heap.peek().is_some_and(|w| key < w.key) {
            self.heap.pop();
            self.heap.push(Ranked { key, kept });
        }
    }

    fn into_sorted(self) -> Vec<Kept> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.kept)
            .collect()
    }
}

/// Kept lines (best first) grouped by labels; streams sorted by labels.
fn group(lines: Vec<Kept>) -> Vec<LogStream> {
    let mut by_labels: BTreeMap<Labels, Vec<(i64, String)>> = BTreeMap::new();
    for k in lines {
        by_labels.entry(k.labels).or_default().push((k.ts, k.line));
    }
    by_labels
        .into_iter()
        .map(|(labels, entries)| LogStream { labels, entries })
        .collect()
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
