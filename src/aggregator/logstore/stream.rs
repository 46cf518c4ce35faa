//! One stream's state and Loki's rules for appending to it
//! (`pkg/ingester/stream.go`): an entry older than the stream's newest by more than the
//! out-of-order window is refused; an entry with the time and line of the last one
//! pushed, or of one in the head block, is a duplicate and dropped; a stream's chunk is
//! cut before a batch that would make it span more than `max_chunk_age` or once its
//! compressed blocks reach the target size — between WAL records only, so a chunk on
//! disk covers whole records (see [`SealedChunk::upto`]).

use super::block::HeadEntry;
use super::chunk::{ChunkSpan, OpenChunk, SealedChunk};
use super::options::{ns, LogStoreOptions};
use crate::aggregator::model::logs::{EntryRefusal, LogEntry};
use crate::aggregator::model::Labels;
use std::sync::Arc;

/// A chunk on disk, as the index knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRef {
    pub id: u64,
    pub span: ChunkSpan,
    pub file_bytes: u64,
}

#[derive(Debug)]
pub struct Stream {
    pub id: u64,
    pub labels: Labels,
    /// On disk, oldest first.
    pub chunks: Vec<ChunkRef>,
    /// Cut, being written; still read from memory.
    pub sealed: Vec<Arc<SealedChunk>>,
    pub open: Option<OpenChunk>,
    /// The newest entry's time (i64::MIN: none yet).
    pub newest: i64,
    /// The last entry pushed, for Loki's duplicate check.
    last: Last,
    /// Entries from WAL records up to this are in chunks on disk.
    pub flushed_upto: u64,
    /// The last WAL record that added to this stream.
    pub applied_seq: u64,
}

/// Where the last entry pushed is: while it is the head block's last entry it is
/// compared there; its line is copied only when that block is cut (or its chunk sealed).
#[derive(Debug)]
enum Last {
    None,
    InHead,
    Cut(i64, String),
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Duplicate,
    Refused(EntryRefusal),
}

impl Stream {
    pub fn new(id: u64, labels: Labels) -> Self {
        Stream {
            id,
            labels,
            chunks: Vec::new(),
            sealed: Vec::new(),
            open: None,
            newest: i64::MIN,
            last: Last::None,
            flushed_upto: 0,
            applied_seq: 0,
        }
    }

    /// Whether the stream holds nothing at all (retention may forget it).
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.sealed.is_empty() && self.open.is_none()
    }

    /// Bytes its open chunk holds in memory.
    pub fn mem_bytes(&self) -> usize {
        self.open.as_ref().map_or(0, |c| c.mem_bytes())
    }

    /// Whether the open chunk must be cut before taking `batch` (by span or size).
    pub fn must_cut_before(&self, batch: &[LogEntry], opts: &LogStoreOptions) -> bool {
        let Some(open) = self.open.as_ref().filter(|c| !c.is_empty()) else {
            return false;
        };
        let lo = batch
            .iter()
            .map(|e| e.ts)
            .min()
            .unwrap_or(i64::MAX)
            .min(open.span.min_ts);
        let hi = batch
            .iter()
            .map(|e| e.ts)
            .max()
            .unwrap_or(i64::MIN)
            .max(open.span.max_ts);
        hi.saturating_sub(lo) > ns(opts.max_chunk_age)
            || open.compressed_bytes() >= opts.chunk_target_bytes
    }

    /// Cuts the open chunk (if it holds anything) as chunk `id`.
    pub fn seal(&mut self, id: u64, opts: &LogStoreOptions) -> Option<Arc<SealedChunk>> {
        self.keep_last();
        let open = self.open.take().filter(|c| !c.is_empty())?;
        let sealed = Arc::new(open.seal(opts.coding(), id, self.id, self.applied_seq));
        self.sealed.push(sealed.clone());
        Some(sealed)
    }

    /// Judges an entry by Loki's rules; `replay` accepts all but duplicates (the
    /// entries were judged when first pushed).
    pub fn judge(&self, e: &LogEntry, replay: bool, opts: &LogStoreOptions) -> Verdict {
        let window = ns(opts.out_of_order_window);
        if !replay && self.newest != i64::MIN && e.ts < self.newest.saturating_sub(window) {
            return Verdict::Refused(EntryRefusal::TooFarBehind);
        }
        if self.is_duplicate(e) {
            return Verdict::Duplicate;
        }
        Verdict::Accepted
    }

    /// Appends an entry [`Self::judge`] accepted.
    pub fn push(&mut self, e: LogEntry, now: i64, opts: &LogStoreOptions) {
        self.newest = self.newest.max(e.ts);
        let open = self.open.get_or_insert_with(|| OpenChunk::new(now));
        let entry = HeadEntry {
            ts: e.ts,
            line: e.line,
            metadata: e.metadata,
        };
        self.last = match std::mem::replace(&mut self.last, Last::None) {
            _ if !open.cuts_after(&entry, opts.block_bytes) => Last::InHead,
            Last::Cut(_, mut line) => {
                line.clone_from(&entry.line);
                Last::Cut(entry.ts, line)
            }
            _ => Last::Cut(entry.ts, entry.line.clone()),
        };
        open.push(entry, now, opts.block_bytes, opts.coding());
    }

    /// Copies the last entry's line out of the head block before the block goes.
    fn keep_last(&mut self) {
        if let (Last::InHead, Some(e)) =
            (&self.last, self.open.as_ref().and_then(|c| c.head.last()))
        {
            self.last = Last::Cut(e.ts, e.line.clone());
        }
    }

    /// The last entry pushed, as (time, line).
    fn last(&self) -> Option<(i64, &str)> {
        match &self.last {
            Last::None => None,
            Last::InHead => self
                .open
                .as_ref()
                .and_then(|c| c.head.last())
                .map(|e| (e.ts, e.line.as_str())),
            Last::Cut(ts, line) => Some((*ts, line.as_str())),
        }
    }

    fn is_duplicate(&self, e: &LogEntry) -> bool {
        if self.last() == Some((e.ts, e.line.as_str())) {
            return true;
        }
        e.ts <= self.newest
            && self
                .open
                .as_ref()
                .is_some_and(|c| c.head_has(e.ts, &e.line))
    }

    /// Every chunk span it has (disk, sealed, open), for range checks and stats.
    pub fn spans(&self) -> impl Iterator<Item = ChunkSpan> + '_ {
        let disk = self.chunks.iter().map(|c| c.span);
        let sealed = self.sealed.iter().map(|c| c.span);
        disk.chain(sealed).chain(self.open.iter().map(|c| c.span))
    }

    /// Whether it may hold entries in `start..end`.
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.spans().any(|s| s.overlaps(start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ts: i64, line: &str) -> LogEntry {
        LogEntry {
            ts,
            line: line.into(),
            metadata: vec![],
        }
    }

    fn append(s: &mut Stream, e: LogEntry, replay: bool, opts: &LogStoreOptions) -> Verdict {
        let v = s.judge(&e, replay, opts);
        if v == Verdict::Accepted {
            s.push(e, 0, opts);
        }
        v
    }

    #[test]
    fn window_and_duplicates_as_loki() {
        let opts = LogStoreOptions::default();
        let hour = ns(opts.out_of_order_window);
        let mut s = Stream::new(1, Labels::default());
        assert_eq!(
            append(&mut s, e(10 * hour, "a"), false, &opts),
            Verdict::Accepted
        );
        assert_eq!(
            append(&mut s, e(10 * hour, "a"), false, &opts),
            Verdict::Duplicate
        );
        assert_eq!(
            append(&mut s, e(10 * hour, "b"), false, &opts),
            Verdict::Accepted
        );
        // Equal to an entry in the head that is not the last one.
        assert_eq!(
            append(&mut s, e(10 * hour, "a"), false, &opts),
            Verdict::Duplicate
        );
        assert_eq!(
            append(&mut s, e(9 * hour, "c"), false, &opts),
            Verdict::Accepted
        );
        let behind = Verdict::Refused(EntryRefusal::TooFarBehind);
        assert_eq!(append(&mut s, e(9 * hour - 1, "d"), false, &opts), behind);
        assert_eq!(
            append(&mut s, e(9 * hour - 1, "d"), true, &opts),
            Verdict::Accepted
        );
        assert_eq!(s.open.as_ref().unwrap().span.entries, 4);
    }

    #[test]
    fn the_last_entry_is_a_duplicate_after_its_block_is_cut_or_sealed() {
        let tiny = LogStoreOptions {
            block_bytes: 1,
            ..LogStoreOptions::default()
        };
        let mut s = Stream::new(1, Labels::default());
        for line in ["a", "b"] {
            assert_eq!(append(&mut s, e(5, line), false, &tiny), Verdict::Accepted);
            assert!(s.open.as_ref().unwrap().head.is_empty(), "cut at once");
            assert_eq!(append(&mut s, e(5, line), false, &tiny), Verdict::Duplicate);
        }
        let opts = LogStoreOptions::default();
        assert_eq!(append(&mut s, e(6, "c"), false, &opts), Verdict::Accepted);
        s.seal(3, &opts).unwrap();
        assert_eq!(append(&mut s, e(6, "c"), false, &opts), Verdict::Duplicate);
        assert_eq!(append(&mut s, e(6, "d"), false, &opts), Verdict::Accepted);
        assert_eq!(append(&mut s, e(6, "d"), false, &opts), Verdict::Duplicate);
    }

    #[test]
    fn a_batch_spanning_past_the_max_age_cuts_first() {
        let opts = LogStoreOptions::default();
        let age = ns(opts.max_chunk_age);
        let mut s = Stream::new(1, Labels::default());
        assert!(!s.must_cut_before(&[e(0, "x")], &opts));
        append(&mut s, e(0, "x"), false, &opts);
        assert!(!s.must_cut_before(&[e(age, "y")], &opts));
        assert!(s.must_cut_before(&[e(age + 1, "y")], &opts));
        let sealed = s.seal(9, &opts).unwrap();
        assert_eq!((sealed.id, sealed.span.entries), (9, 1));
        assert!(s.open.is_none() && s.seal(10, &opts).is_none());
    }
}
