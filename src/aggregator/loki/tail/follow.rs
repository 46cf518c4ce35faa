//! What one tail reads from the store: first the backlog (the newest `limit` lines since
//! `start`, through [`select_lines`] as `/query_range` reads them), then, on each pass,
//! the entries appended since the last pass. Each stream keeps a cursor (the time of the
//! last entry read and how many entries at that time were read: ties are scanned in
//! push order), so a pass scans every matching stream forward from its cursor through
//! [`LogReader::scan`] and the LogQL pipeline. A pass reads only entries older than its
//! `end` (now minus `delay_for`): a line that arrives late, but within `delay_for`, is
//! still shown in time order; one older than its stream's cursor when it arrives is not.
//! Synchronous: the session runs it on the blocking pool.

use crate::aggregator::logql::ast::LogExpr;
use crate::aggregator::logql::eval::lines::{select_lines, Kept, LineQuery};
use crate::aggregator::logql::{required_substrings, Pipeline, PipelineError};
use crate::aggregator::model::logs::{Direction, EntryView, Flow, LogReader, LogStoreError};
use fnv::FnvHashMap;

/// Raw entries one pass reads at most (the next pass goes on from there).
const PASS_ENTRIES: usize = 10_000;
/// Line bytes one pass keeps at most.
const PASS_BYTES: usize = 8 << 20;

/// Where a stream's next scan starts: at `ts`, after the first `seen` entries there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    ts: i64,
    seen: u64,
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
        let hint = required_substrings(&self.log.stages);
        let q = LineQuery {
            start: self.start,
            end,
            direction: Direction::Backward,
            limit: self.limit,
            must_contain: &hint,
        };
        let streams = reader.streams(&self.log.matchers, self.start, end);
        let pipeline = &mut self.pipeline;
        let mut process = |s: &crate::aggregator::model::logs::StreamRef, e: EntryView<'_>| {
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
    /// pipeline, oldest first (ties in stream order).
    pub fn pass(&mut self, reader: &dyn LogReader, end: i64) -> Result<Pass, LogStoreError> {
        let mut pass = Pass::default();
        let mut budget = Budget::default();
        for s in reader.streams(&self.log.matchers, self.start, i64::MAX) {
            let cursor = self.cursors.entry(s.id).or_insert(Cursor {
                ts: self.start,
                seen: 0,
            });
            if cursor.ts >= end {
                continue;
            }
            let pipeline = &mut self.pipeline;
            let mut skip = cursor.seen;
            let from = cursor.ts;
            let budget = &mut budget;
            let lines = &mut pass.lines;
            let mut visit = |e: EntryView<'_>| {
                if e.ts == from && skip > 0 {
                    skip -= 1;
                    return Flow::Continue;
                }
                advance(cursor, e.ts);
                if let Some((line, labels)) = pipeline.process(e.ts, e.line, &s.labels, e.metadata)
                {
                    budget.bytes += line.len();
                    lines.push(Kept {
                        ts: e.ts,
                        line: line.to_string(),
                        labels: labels.clone(),
                    });
                }
                budget.entries += 1;
                if budget.spent() {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            };
            reader.scan(s.id, from, end, Direction::Forward, &[], &mut visit)?;
            if budget.spent() {
                pass.more = true;
                break;
            }
        }
        pass.lines.sort_by_key(|k| k.ts);
        Ok(pass)
    }
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
        *cursor = Cursor { ts, seen: 1 };
    }
}

/// The cursor after stream `id`'s newest entry in `[start, end)`: its time and how
/// many entries share it; `(start, 0)` when the range is empty.
fn newest(reader: &dyn LogReader, id: u64, start: i64, end: i64) -> Result<Cursor, LogStoreError> {
    let mut cursor = Cursor { ts: start, seen: 0 };
    let mut visit = |e: EntryView<'_>| {
        if cursor.seen > 0 && e.ts != cursor.ts {
            return Flow::Stop;
        }
        cursor = Cursor {
            ts: e.ts,
            seen: cursor.seen + 1,
        };
        Flow::Continue
    };
    reader.scan(id, start, end, Direction::Backward, &[], &mut visit)?;
    Ok(cursor)
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
