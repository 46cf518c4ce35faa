//! What one tail reads from the store: first the backlog (the newest `limit` lines since
//! `start`, through [`select_lines`] as `/query_range` reads them), then, on each pass,
//! the entries appended since the last pass. Each stream keeps a cursor (the time of the
//! last entry read and how many entries at that time were read: ties are scanned in
//! push order), so a pass scans every matching stream forward from its cursor through
//! [`LogReader::scan`] and the LogQL pipeline; given the streams pushed to since the
//! last pass, only those (and the ones holding entries not yet due) are read. A pass
//! reads only entries older than its `end` (now minus `delay_for`): a line that arrives
//! late, but within `delay_for`, is still shown in time order; one older than its
//! stream's cursor when it arrives is not.
//! Synchronous: the session runs it on the blocking pool.

use super::hub::Touched;
use crate::aggregator::logql::ast::LogExpr;
use crate::aggregator::logql::eval::lines::{select_lines, Kept, LineQuery};
use crate::aggregator::logql::{required_substrings, Pipeline, PipelineError};
use crate::aggregator::model::logs::{
    Direction, EntryView, Flow, LogReader, LogStoreError, StreamRef,
};
use fnv::FnvHashMap;

/// Raw entries one pass reads at most (the next pass goes on from there).
const PASS_ENTRIES: usize = 10_000;
/// Line bytes one pass keeps at most.
const PASS_BYTES: usize = 8 << 20;

/// Where a stream's next scan starts: at `ts`, after the first `seen` entries there;
/// `pending` when it holds entries not yet due (read again without a push).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    ts: i64,
    seen: u64,
    pending: bool,
}

impl Cursor {
    /// Before anything at `ts`; pending until a read says otherwise.
    fn at(ts: i64) -> Cursor {
        Cursor {
            ts,
            seen: 0,
            pending: true,
        }
    }
}

/// One tail's reading state.
pub struct Follow {
    log: LogExpr,
    pipeline: Pipeline,
    start: i64,
    limit: usize,
    cursors: FnvHashMap<u64, Cursor>,
}

/// What a pass found, oldest first; `more` when it stopped at its bound.
#[derive(Debug, Default)]
pub struct Pass {
    pub lines: Vec<Kept>,
    pub more: bool,
}

impl Follow {
    pub fn new(log: LogExpr, start: i64, limit: usize) -> Result<Follow, PipelineError> {
        Ok(Follow {
            pipeline: Pipeline::new(&log.stages)?,
            log,
            start,
            limit,
            cursors: FnvHashMap::default(),
        })
    }

    /// The newest `limit` lines in `[start, end)`, oldest first; every matching stream's
    /// cursor is put after its newest entry before `end`.
    pub fn backlog(
        &mut self,
        reader: &dyn LogReader,
        end: i64,
    ) -> Result<Vec<Kept>, LogStoreError> {
        let owned = required_substrings(&self.log.stages);
        let hint: Vec<&[u8]> = owned.iter().map(|c| c.as_ref()).collect();
        let q = LineQuery {
            start: self.start,
            end,
            direction: Direction::Backward,
            limit: self.limit,
            must_contain: &hint,
        };
        let streams = reader.streams(&self.log.matchers, self.start, end);
        let pipeline = &mut self.pipeline;
        let mut process = |s: &StreamRef, e: EntryView<'_>| {
            let (line, labels) = pipeline.process(e.ts, e.line, &s.labels, e.metadata)?;
            Some(Kept {
                ts: e.ts,
                line: line.to_string(),
                labels: labels.clone(),
            })
        };
        let found = select_lines(reader, &streams, &q, &mut process)?;
        for s in &streams {
            let cursor = newest(reader, s.id, self.start, end)?;
            self.cursors.insert(s.id, cursor);
        }
        let mut lines: Vec<Kept> = found
            .into_iter()
            .flat_map(|s| {
                let labels = s.labels;
                s.entries.into_iter().map(move |(ts, line)| Kept {
                    ts,
                    line,
                    labels: labels.clone(),
                })
            })
            .collect();
        lines.sort_by_key(|k| k.ts);
        Ok(lines)
    }

    /// The entries appended since the last pass with times before `end`, through the
    /// pipeline, oldest first (ties in stream order). With `touched`, only the streams
    /// pushed to and those holding entries not yet due are read: the others have
    /// nothing new.
    pub fn pass(
        &mut self,
        reader: &dyn LogReader,
        end: i64,
        touched: Option<&Touched>,
    ) -> Result<Pass, LogStoreError> {
        let mut pass = Pass::default();
        let mut budget = Budget::default();
        for s in reader.streams(&self.log.matchers, self.start, i64::MAX) {
            let known = self.cursors.get(&s.id);
            if let (Some(set), Some(c)) = (touched, known) {
                if !c.pending && !set.contains(&s.labels) {
                    continue;
                }
            }
            let cursor = self.cursors.entry(s.id).or_insert(Cursor::at(self.start));
            let out = Out {
                pipeline: &mut self.pipeline,
                budget: &mut budget,
                lines: &mut pass.lines,
            };
            read_stream(reader, &s, cursor, end, out)?;
            if budget.spent() {
                pass.more = true;
                break;
            }
        }
        pass.lines.sort_by_key(|k| k.ts);
        Ok(pass)
    }
}

/// Where a stream's new lines go.
struct Out<'a> {
    pipeline: &'a mut Pipeline,
    budget: &'a mut Budget,
    lines: &'a mut Vec<Kept>,
}

/// Reads stream `s` from its cursor up to `end` (noting whether later entries wait).
fn read_stream(
    reader: &dyn LogReader,
    s: &StreamRef,
    cursor: &mut Cursor,
    end: i64,
    out: Out<'_>,
) -> Result<(), LogStoreError> {
    let (from, mut skip) = (cursor.ts, cursor.seen);
    cursor.pending = false;
    let mut visit = |e: EntryView<'_>| {
        if e.ts == from && skip > 0 {
            skip -= 1;
            return Flow::Continue;
        }
        if e.ts >= end {
            cursor.pending = true;
            return Flow::Stop;
        }
        advance(cursor, e.ts);
        if let Some((line, labels)) = out.pipeline.process(e.ts, e.line, &s.labels, e.metadata) {
            out.budget.bytes += line.len();
            out.lines.push(Kept {
                ts: e.ts,
                line: line.to_string(),
                labels: labels.clone(),
            });
        }
        out.budget.entries += 1;
        if out.budget.spent() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    };
    reader.scan(s.id, from, i64::MAX, Direction::Forward, &[], &mut visit)
}

/// What a pass has read so far.
#[derive(Default)]
struct Budget {
    entries: usize,
    bytes: usize,
}

impl Budget {
    fn spent(&self) -> bool {
        self.entries >= PASS_ENTRIES || self.bytes >= PASS_BYTES
    }
}

fn advance(cursor: &mut Cursor, ts: i64) {
    if ts == cursor.ts {
        cursor.seen += 1;
    } else {
        (cursor.ts, cursor.seen) = (ts, 1);
    }
}

/// The cursor after stream `id`'s newest entry in `[start, end)`: its time and how
/// many entries share it; `(start, 0)` when the range is empty. Pending: entries at or
/// after `end` are not looked for here.
fn newest(reader: &dyn LogReader, id: u64, start: i64, end: i64) -> Result<Cursor, LogStoreError> {
    let mut cursor = Cursor::at(start);
    let mut visit = |e: EntryView<'_>| {
        if cursor.seen > 0 && e.ts != cursor.ts {
            return Flow::Stop;
        }
        advance(&mut cursor, e.ts);
        Flow::Continue
    };
    reader.scan(id, start, end, Direction::Backward, &[], &mut visit)?;
    Ok(cursor)
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
