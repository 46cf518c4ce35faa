//! Line selection over a small in-memory reader: limit across streams, direction,
//! grouping by the pipeline's labels, early stop.

use super::*;
use crate::aggregator::model::logs::IndexStats;
use promql_parser::label::Matcher;
use std::cell::Cell;

/// Streams of `(ts, line)` in time order; counts the entries it showed.
struct VecReader {
    streams: Vec<(StreamRef, Vec<(i64, String)>)>,
    shown: std::sync::atomic::AtomicUsize,
}

impl VecReader {
    fn new(streams: &[(&str, &[(i64, &str)])]) -> VecReader {
        let streams = streams
            .iter()
            .enumerate()
            .map(|(id, (app, lines))| {
                let labels = Labels::from_pairs(&[("app", app)]);
                let lines = lines.iter().map(|(t, l)| (*t, l.to_string())).collect();
                (
                    StreamRef {
                        id: id as u64,
                        labels,
                    },
                    lines,
                )
            })
            .collect();
        VecReader {
            streams,
            shown: Default::default(),
        }
    }
}

impl LogReader for VecReader {
    fn streams(&self, _: &[Matcher], _: i64, _: i64) -> Vec<StreamRef> {
        self.streams.iter().map(|(s, _)| s.clone()).collect()
    }

    fn scan(
        &self,
        id: u64,
        start: i64,
        end: i64,
        direction: Direction,
        _: &[&[u8]],
        visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
    ) -> Result<(), LogStoreError> {
        let lines = &self.streams[id as usize].1;
        let in_range = lines.iter().filter(|(t, _)| (start..end).contains(t));
        let ordered: Vec<_> = match direction {
            Direction::Forward => in_range.collect(),
            Direction::Backward => in_range.rev().collect(),
        };
        for (ts, line) in ordered {
            self.shown
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let e = EntryView {
                ts: *ts,
                line,
                metadata: &[],
            };
            if visit(e) == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self, _: &[Matcher], _: i64, _: i64) -> IndexStats {
        IndexStats::default()
    }
}

fn keep_all(s: &StreamRef, e: EntryView<'_>) -> Option<Kept> {
    Some(Kept {
        ts: e.ts,
        line: e.line.to_string(),
        labels: s.labels.clone(),
    })
}

fn run(
    r: &VecReader,
    direction: Direction,
    limit: usize,
    p: &mut Process,
) -> Vec<(String, Vec<i64>)> {
    let q = LineQuery {
        start: 0,
        end: 100,
        direction,
        limit,
        must_contain: &[],
    };
    select_lines(r, &r.streams(&[], 0, 100), &q, p)
        .expect("select")
        .into_iter()
        .map(|s| {
            (
                s.labels.to_string(),
                s.entries.iter().map(|e| e.0).collect(),
            )
        })
        .collect()
}

fn two_streams() -> VecReader {
    VecReader::new(&[
        ("a", &[(1, "a1"), (4, "a4"), (7, "a7"), (100, "past end")]),
        ("b", &[(2, "b2"), (3, "b3"), (8, "b8")]),
    ])
}

#[test]
fn backward_keeps_the_newest_lines_across_streams() {
    let got = run(&two_streams(), Direction::Backward, 3, &mut keep_all);
    assert_eq!(
        got,
        [
            ("{app=\"a\"}".into(), vec![7, 4]),
            ("{app=\"b\"}".into(), vec![8])
        ]
    );
}

#[test]
fn forward_keeps_the_oldest_lines_across_streams() {
    let got = run(&two_streams(), Direction::Forward, 3, &mut keep_all);
    assert_eq!(
        got,
        [
            ("{app=\"a\"}".into(), vec![1]),
            ("{app=\"b\"}".into(), vec![2, 3])
        ]
    );
}

#[test]
fn the_pipeline_drops_lines_and_regroups_by_its_labels() {
    let mut p = |_: &StreamRef, e: EntryView<'_>| {
        (e.ts % 2 == 0).then(|| Kept {
            ts: e.ts,
            line: e.line.to_uppercase(),
            labels: Labels::from_pairs(&[("even", "yes")]),
        })
    };
    let got = run(&two_streams(), Direction::Forward, 10, &mut p);
    assert_eq!(got, [("{even=\"yes\"}".into(), vec![2, 4, 8])]);
}

#[test]
fn a_scan_stops_once_its_lines_cannot_be_among_the_best() {
    let lines: Vec<(i64, String)> = (0..50).map(|t| (t, format!("l{t}"))).collect();
    let borrowed: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
    let r = VecReader::new(&[("a", &borrowed), ("b", &borrowed)]);
    let calls = Cell::new(0);
    let mut p = |s: &StreamRef, e: EntryView<'_>| {
        calls.set(calls.get() + 1);
        keep_all(s, e)
    };
    let got = run(&r, Direction::Backward, 5, &mut p);
    // The five newest: 49 and 48 of each stream, and 47 of the first stream (ties go
    // to the stream scanned first).
    assert_eq!(
        got,
        [
            ("{app=\"a\"}".into(), vec![49, 48, 47]),
            ("{app=\"b\"}".into(), vec![49, 48])
        ]
    );
    // Stream a: 5 lines through the pipeline; stream b: 2, then 47 cannot beat a's 47
    // and the scan stops there.
    assert_eq!(calls.get(), 7);
    assert_eq!(r.shown.load(std::sync::atomic::Ordering::Relaxed), 8);
}

#[test]
fn limit_zero_reads_nothing() {
    let r = two_streams();
    assert!(run(&r, Direction::Backward, 0, &mut keep_all).is_empty());
    assert_eq!(r.shown.load(std::sync::atomic::Ordering::Relaxed), 0);
}
