//! The read side ([`LogReader`]): streams from the postings, stats from the chunk
//! spans, and scans that gather a stream's overlapping blocks under the read lock
//! (cheap: reference-counted bytes and the head's entries in range), then read chunk
//! files and decode outside it. A chunk file that fails its checks is set aside by
//! name and counted, and the rest is served.

use super::chunk::ChunkSpan;
use super::chunk_file;
use super::index_file::set_aside;
use super::metrics::Counters;
use super::scan::{self, Query, Run, ScanStats};
use super::stream::{ChunkRef, Stream};
use super::LogStore;
use crate::aggregator::model::logs::{
    Direction, EntryView, Flow, IndexStats, LogReader, LogStoreError, StreamRef,
};
use bytes::Bytes;
use memchr::memmem::Finder;
use promql_parser::label::Matcher;
use std::collections::HashSet;

/// A stream's data in a range, as gathered under the lock.
enum Source {
    Disk(ChunkRef),
    Run(Run),
}

impl LogStore {
    /// The streams satisfying `matchers`, unsorted.
    fn matching<'s>(&self, st: &'s super::state::State, matchers: &[Matcher]) -> Vec<&'s Stream> {
        let candidates: Box<dyn Iterator<Item = &Stream>> = match st.postings.candidates(matchers) {
            Some(ids) => Box::new(ids.into_iter().filter_map(|id| st.streams.get(&id))),
            None => Box::new(st.streams.values()),
        };
        candidates.filter(|s| s.labels.matches(matchers)).collect()
    }

    fn gather(&self, id: u64, start: i64, end: i64) -> Vec<Source> {
        let st = self.read_state();
        let Some(s) = st.streams.get(&id) else {
            return Vec::new();
        };
        let in_range = |span: &ChunkSpan| span.overlaps(start, end);
        let mut out: Vec<Source> = s
            .chunks
            .iter()
            .filter(|c| in_range(&c.span))
            .map(|c| Source::Disk(*c))
            .collect();
        for c in s.sealed.iter().filter(|c| in_range(&c.span)) {
            let origin = format!("chunk {} (in memory)", c.id);
            let blocks = c
                .blocks
                .iter()
                .filter(|b| b.meta.min_ts < end && b.meta.max_ts >= start);
            out.extend(blocks.map(|b| {
                Source::Run(Run::packed(
                    &b.meta,
                    c.codec,
                    c.layout,
                    b.data.clone(),
                    origin.clone(),
                ))
            }));
        }
        if let Some(open) = s.open.as_ref().filter(|c| in_range(&c.span)) {
            let blocks = open
                .blocks
                .iter()
                .filter(|b| b.meta.min_ts < end && b.meta.max_ts >= start);
            let origin = "open chunk".to_string();
            out.extend(blocks.map(|b| {
                Source::Run(Run::packed(
                    &b.meta,
                    self.opts.codec,
                    self.opts.block_layout,
                    b.data.clone(),
                    origin.clone(),
                ))
            }));
            out.extend(Run::head(&open.head_in(start, end)).map(Source::Run));
        }
        out
    }

    /// The runs of a chunk file in the range; `Err` when the file is damaged.
    fn disk_runs(
        &self,
        c: &ChunkRef,
        start: i64,
        end: i64,
        out: &mut Vec<Run>,
    ) -> Result<(), String> {
        let path = chunk_file::path(&self.dir.join("chunks"), c.id);
        let file = match std::fs::read(&path) {
            Ok(b) => Bytes::from(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()), // retention
            Err(e) => return Err(e.to_string()),
        };
        let h = chunk_file::parse(&file, file.len() as u64)?;
        let origin = path.display().to_string();
        let mut runs = Vec::new(); // all or nothing: a damaged file serves no block
        for b in h
            .blocks
            .iter()
            .filter(|b| b.min_ts < end && b.max_ts >= start)
        {
            chunk_file::block_bytes(&file, b)?;
            let bytes = file.slice(b.offset as usize..b.offset as usize + b.len as usize);
            runs.push(Run::packed(b, h.codec, h.layout, bytes, origin.clone()));
        }
        out.append(&mut runs);
        Ok(())
    }

    /// Removes set-aside chunks from the index.
    fn forget_chunks(&self, stream: u64, bad: &HashSet<u64>) {
        let mut st = self.write_state();
        let mut freed = 0;
        if let Some(s) = st.streams.get_mut(&stream) {
            s.chunks.retain(|c| {
                !bad.contains(&c.id) || {
                    freed += c.file_bytes;
                    false
                }
            });
        }
        st.disk_bytes = st.disk_bytes.saturating_sub(freed);
    }
}

impl LogReader for LogStore {
    fn streams(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<StreamRef> {
        let st = self.read_state();
        let mut out: Vec<StreamRef> = self
            .matching(&st, matchers)
            .into_iter()
            .filter(|s| s.overlaps(start, end))
            .map(|s| StreamRef {
                id: s.id,
                labels: s.labels.clone(),
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
        must_contain: &[&[u8]],
        visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
    ) -> Result<(), LogStoreError> {
        if start >= end {
            return Ok(());
        }
        let mut runs = Vec::new();
        let mut bad = HashSet::new();
        for src in self.gather(id, start, end) {
            match src {
                Source::Run(r) => runs.push(r),
                Source::Disk(c) => {
                    if let Err(why) = self.disk_runs(&c, start, end, &mut runs) {
                        set_aside(
                            &chunk_file::path(&self.dir.join("chunks"), c.id),
                            &why,
                            &self.counters,
                        );
                        bad.insert(c.id);
                    }
                }
            }
        }
        if !bad.is_empty() {
            self.forget_chunks(id, &bad);
        }
        let needles = must_contain.iter().map(Finder::new).collect();
        let q = Query {
            start,
            end,
            direction,
            needles,
        };
        let mut stats = ScanStats::default();
        let done = scan::scan(runs, &q, &mut stats, visit);
        Counters::add(&self.counters.blocks_read, stats.blocks_read);
        Counters::add(&self.counters.blocks_skipped, stats.blocks_skipped);
        done
    }

    fn stats(&self, matchers: &[Matcher], start: i64, end: i64) -> IndexStats {
        let st = self.read_state();
        let mut out = IndexStats::default();
        for s in self.matching(&st, matchers) {
            let spans: Vec<ChunkSpan> = s.spans().filter(|c| c.overlaps(start, end)).collect();
            if spans.is_empty() {
                continue;
            }
            out.streams += 1;
            out.chunks += spans.len() as u64;
            out.entries += spans.iter().map(|c| c.entries).sum::<u64>();
            out.bytes += spans.iter().map(|c| c.raw_bytes).sum::<u64>();
        }
        out
    }
}
