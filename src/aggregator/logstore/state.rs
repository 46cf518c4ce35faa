//! The store's state under its lock: streams by id and by labels, the label postings,
//! the counters of ids, what chunks wait to be written, and how a push (or a replayed
//! WAL record) is applied to it.

use super::chunk::SealedChunk;
use super::metrics::Counters;
use super::options::{ns, LogStoreOptions};
use super::record::{self, RecordWriter};
use super::stream::{Stream, Verdict};
use crate::aggregator::model::logs::{EntryRefusal, PushOutcome, PushStream};
use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::postings::Postings;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug)]
pub struct State {
    pub streams: HashMap<u64, Stream>,
    pub by_labels: HashMap<Labels, u64>,
    pub postings: Postings,
    pub next_stream: u64,
    pub next_chunk: u64,
    /// The sequence number the next WAL record gets: from 1, since a stream's
    /// `flushed_upto` of 0 means "nothing on disk yet".
    pub next_seq: u64,
    /// Bytes of open chunks and sealed chunks not yet on disk.
    pub mem_bytes: usize,
    /// Sealed chunks waiting to be written.
    pub queue: Vec<Arc<SealedChunk>>,
    /// Bytes of chunk files.
    pub disk_bytes: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            streams: HashMap::default(),
            by_labels: HashMap::default(),
            postings: Postings::default(),
            next_stream: 0,
            next_chunk: 0,
            next_seq: 1,
            mem_bytes: 0,
            queue: Vec::new(),
            disk_bytes: 0,
        }
    }
}

/// How a push is applied: judged (a push) or taken as logged (replay).
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Push { now: i64 },
    Replay { seq: u64, now: i64 },
}

impl State {
    /// Adds a stream with the next id.
    pub fn add_stream(&mut self, labels: Labels) -> u64 {
        let id = self.next_stream;
        self.next_stream += 1;
        self.insert_stream(Stream::new(id, labels));
        id
    }

    /// Adds a stream with its own id (the index read back; ids ascending).
    pub fn insert_stream(&mut self, s: Stream) {
        self.next_stream = self.next_stream.max(s.id + 1);
        self.postings.add(s.id, &s.labels);
        self.by_labels.insert(s.labels.clone(), s.id);
        self.streams.insert(s.id, s);
    }

    /// Forgets the streams that hold nothing at all (after retention, at load).
    pub fn forget_empty_streams(&mut self) {
        let empty: HashSet<u64> = self
            .streams
            .values()
            .filter(|s| s.is_empty())
            .map(|s| s.id)
            .collect();
        if empty.is_empty() {
            return;
        }
        for id in &empty {
            if let Some(s) = self.streams.remove(id) {
                self.by_labels.remove(&s.labels);
            }
        }
        self.postings.retain(|id| !empty.contains(&id));
    }

    /// Applies a push: judges each entry, appends those accepted and writes them into
    /// the WAL record (returned: `None` if nothing was accepted).
    pub fn apply(
        &mut self,
        push: Vec<PushStream>,
        mode: Mode,
        opts: &LogStoreOptions,
        counters: &Counters,
    ) -> (PushOutcome, Option<Vec<u8>>) {
        let seq = match mode {
            Mode::Push { .. } => self.next_seq,
            Mode::Replay { seq, .. } => seq,
        };
        self.next_seq = self.next_seq.max(seq + 1);
        let mut record = RecordWriter::with_capacity(seq, record::size_hint(&push));
        let mut outcome = PushOutcome::default();
        for ps in push {
            let mut out = Out {
                outcome: &mut outcome,
                record: &mut record,
                counters,
            };
            self.apply_stream(ps, mode, seq, opts, &mut out);
        }
        Counters::add(&counters.entries_accepted, outcome.accepted);
        Counters::add(&counters.entries_duplicate, outcome.duplicates);
        (outcome, record.finish())
    }

    fn apply_stream(
        &mut self,
        ps: PushStream,
        mode: Mode,
        seq: u64,
        opts: &LogStoreOptions,
        out: &mut Out,
    ) {
        let (replay, now) = match mode {
            Mode::Push { now } => (false, now),
            Mode::Replay { now, .. } => (true, now),
        };
        let id = match self.by_labels.get(&ps.labels) {
            Some(&id) => id,
            None if replay || self.streams.len() < opts.max_streams => {
                self.add_stream(ps.labels.clone())
            }
            None => {
                let why = format!(
                    "the store holds its maximum of {} streams",
                    opts.max_streams
                );
                for e in &ps.entries {
                    out.refuse(&ps.labels, e.ts, EntryRefusal::Limit(why.clone()));
                }
                return;
            }
        };
        let stream = self.streams.get_mut(&id).expect("indexed stream");
        if replay && seq <= stream.flushed_upto {
            return; // on disk already
        }
        if stream.must_cut_before(&ps.entries, opts) {
            self.seal(id, opts);
        }
        let stream = self.streams.get_mut(&id).expect("indexed stream");
        let before = stream.mem_bytes();
        let bounds = bounds(opts, now);
        let mut added = 0;
        out.record.begin_stream(&ps.labels);
        for e in ps.entries {
            // Loki's distributor checks bounds and sizes before the ingester's stream.
            let verdict = match stream.judge(&e, replay, opts) {
                _ if !replay && !(bounds.0..=bounds.1).contains(&e.ts) => {
                    Verdict::Refused(EntryRefusal::OutOfBounds)
                }
                _ if !replay && e.line.len() > opts.max_line_bytes => {
                    let why = format!(
                        "line of {} bytes over the {}-byte limit",
                        e.line.len(),
                        opts.max_line_bytes
                    );
                    Verdict::Refused(EntryRefusal::Limit(why))
                }
                v => v,
            };
            match verdict {
                Verdict::Accepted => {
                    out.record.entry(&e);
                    stream.push(e, now, opts);
                    added += 1;
                }
                Verdict::Duplicate => out.outcome.duplicates += 1,
                Verdict::Refused(why) => out.refuse(&ps.labels, e.ts, why),
            }
        }
        if added > 0 {
            stream.applied_seq = seq;
        }
        out.outcome.accepted += added;
        let after = stream.mem_bytes();
        out.record.end_stream();
        self.mem_bytes = (self.mem_bytes + after).saturating_sub(before);
    }

    /// Seals stream `id`'s open chunk into the write queue.
    pub fn seal(&mut self, id: u64, opts: &LogStoreOptions) {
        let chunk_id = self.next_chunk;
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let before = stream.mem_bytes();
        if let Some(sealed) = stream.seal(chunk_id, opts) {
            self.next_chunk += 1;
            self.mem_bytes = self.mem_bytes.saturating_sub(before) + sealed.mem_bytes();
            self.queue.push(sealed);
        }
    }

    /// Seals every open chunk `pick` chooses; returns how many.
    pub fn seal_where(&mut self, opts: &LogStoreOptions, pick: impl Fn(&Stream) -> bool) -> u64 {
        let ids: Vec<u64> = self
            .streams
            .values()
            .filter(|s| s.open.as_ref().is_some_and(|c| !c.is_empty()) && pick(s))
            .map(|s| s.id)
            .collect();
        ids.iter().for_each(|&id| self.seal(id, opts));
        ids.len() as u64
    }

    /// Over the memory budget: seals the biggest open chunks until three quarters of it
    /// is left; returns how many.
    pub fn seal_biggest(&mut self, opts: &LogStoreOptions) -> u64 {
        if self.mem_bytes <= opts.max_memory_bytes {
            return 0;
        }
        let mut sizes: Vec<(usize, u64)> = self
            .streams
            .values()
            .map(|s| (s.mem_bytes(), s.id))
            .filter(|x| x.0 > 0)
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let goal = opts.max_memory_bytes / 4 * 3;
        let mut open: usize = sizes.iter().map(|x| x.0).sum();
        let mut n = 0;
        for (bytes, id) in sizes {
            if open <= goal {
                break;
            }
            self.seal(id, opts);
            open -= bytes;
            n += 1;
        }
        n
    }
}

/// The times an entry may have: after retention, before now plus the grace period.
fn bounds(opts: &LogStoreOptions, now: i64) -> (i64, i64) {
    let oldest = match opts.retention.is_zero() {
        true => i64::MIN,
        false => now.saturating_sub(ns(opts.retention)),
    };
    (oldest, now.saturating_add(ns(opts.creation_grace)))
}

/// Where a push's results go.
struct Out<'a> {
    outcome: &'a mut PushOutcome,
    record: &'a mut RecordWriter,
    counters: &'a Counters,
}

impl Out<'_> {
    /// Counts a refused entry (by kind) and keeps the first.
    fn refuse(&mut self, labels: &Labels, ts: i64, why: EntryRefusal) {
        let c = self.counters;
        let counter = match &why {
            EntryRefusal::TooFarBehind => &c.refused_too_far_behind,
            EntryRefusal::OutOfBounds => &c.refused_out_of_bounds,
            EntryRefusal::Limit(w) if w.starts_with("line") => &c.refused_line_too_long,
            EntryRefusal::Limit(_) => &c.refused_stream_limit,
        };
        Counters::add(counter, 1);
        self.outcome.refused += 1;
        if self.outcome.first_refusal.is_none() {
            self.outcome.first_refusal = Some((labels.clone(), ts, why));
        }
    }
}
