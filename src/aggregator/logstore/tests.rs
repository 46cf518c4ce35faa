//! The store's unit tests: against a plain model of what was pushed (sorted by time,
//! ties in push order), through chunk cuts, flushes, restarts and damage.

use super::*;
use crate::aggregator::model::logs::{Direction, EntryRefusal, Flow, LogEntry, LogReader};
use crate::aggregator::model::Labels;
use promql_parser::label::Matcher;
use promql_parser::parser::token::T_EQL;
use std::time::Duration;

pub(super) const NOW: i64 = 1_800_000_000_000_000_000;
pub(super) const SEC: i64 = 1_000_000_000;

pub(super) fn clock() -> i64 {
    NOW
}

/// Small blocks and chunks so a few hundred entries cross every boundary.
pub(super) fn small() -> LogStoreOptions {
    LogStoreOptions {
        block_bytes: 2 << 10,
        chunk_target_bytes: 2 << 10,
        now: clock,
        ..Default::default()
    }
}

pub(super) fn labels(app: &str) -> Labels {
    Labels::from_pairs(&[("app", app), ("ns", "prod")])
}

pub(super) fn entry(ts: i64, line: &str) -> LogEntry {
    LogEntry {
        ts,
        line: line.into(),
        metadata: vec![],
    }
}

pub(super) fn push(store: &LogStore, app: &str, entries: Vec<LogEntry>) -> PushOutcome {
    store
        .push(vec![PushStream {
            labels: labels(app),
            entries,
        }])
        .unwrap()
}

pub(super) fn id(store: &LogStore, app: &str) -> u64 {
    let m = Matcher::new_matcher(T_EQL, "app".into(), app.into()).unwrap();
    store.streams(&[m], i64::MIN, i64::MAX)[0].id
}

pub(super) fn read(
    store: &LogStore,
    app: &str,
    start: i64,
    end: i64,
    dir: Direction,
    needles: &[&str],
) -> Vec<(i64, String)> {
    let needles: Vec<&[u8]> = needles.iter().map(|n| n.as_bytes()).collect();
    let mut out = Vec::new();
    store
        .scan(id(store, app), start, end, dir, &needles, &mut |e| {
            out.push((e.ts, e.line.to_string()));
            Flow::Continue
        })
        .unwrap();
    out
}

/// The value of the store's metric `name`.
pub(super) fn metric(store: &LogStore, name: &str) -> u64 {
    store.metrics().into_iter().find(|r| r.0 == name).unwrap().3
}

pub(super) fn all(store: &LogStore, app: &str) -> Vec<(i64, String)> {
    read(store, app, i64::MIN, i64::MAX, Direction::Forward, &[])
}

#[allow(dead_code)] // the tests use part of it
#[path = "../../../tests/common/rng.rs"]
mod rng;
use rng::Rng;

/// Pushes `n` entries, some out of order within the window, in batches; returns the
/// model: every accepted entry sorted by time, ties in push order.
pub(super) fn fill(store: &LogStore, app: &str, seed: u64, n: usize) -> Vec<(i64, String)> {
    let mut rng = Rng::new(seed);
    let words = [
        "GET /api",
        "POST /login",
        "error: timeout",
        "warn disk",
        "ok",
        "ab",
        "ba",
    ];
    let mut model = Vec::new();
    let mut t = NOW - 3600 * SEC;
    let mut batch = Vec::new();
    for i in 0..n {
        t += rng.below(2 * SEC as u64) as i64;
        let ts = t - rng.below(4).saturating_sub(2) as i64 * 600 * SEC; // some 10 min late
        let line = format!(
            "{} id={} {}",
            words[rng.below(7) as usize],
            rng.below(1000),
            i
        );
        model.push((ts, line.clone()));
        batch.push(entry(ts, &line));
        if batch.len() > rng.below(20) as usize {
            assert_eq!(push(store, app, std::mem::take(&mut batch)).refused, 0);
        }
    }
    push(store, app, batch);
    model.sort_by_key(|e| e.0);
    model
}

#[test]
fn entries_come_back_in_time_order_through_blocks_and_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let model = fill(&store, "a", 1, 2000);
    assert_eq!(all(&store, "a"), model);
    store.flush_queue().unwrap();
    let m = store.metrics();
    assert!(
        m.iter()
            .any(|r| r.0 == "nodepulse_logstore_chunks" && r.3 > 3),
        "{m:?}"
    );
    let mut back = model.clone();
    back.reverse();
    assert_eq!(
        read(&store, "a", i64::MIN, i64::MAX, Direction::Backward, &[]),
        back
    );
}

#[test]
fn must_contain_equals_a_plain_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let model = fill(&store, "a", 2, 3000);
    for needles in [
        vec!["error"],
        vec!["ab"],
        vec!["id=1", "ok"],
        vec!["nothing"],
        vec![""],
    ] {
        let want: Vec<_> = model
            .iter()
            .filter(|e| needles.iter().all(|n| e.1.contains(n)))
            .cloned()
            .collect();
        assert_eq!(
            read(
                &store,
                "a",
                i64::MIN,
                i64::MAX,
                Direction::Forward,
                &needles
            ),
            want,
            "{needles:?}"
        );
        let mut back = want.clone();
        back.reverse();
        assert_eq!(
            read(
                &store,
                "a",
                i64::MIN,
                i64::MAX,
                Direction::Backward,
                &needles
            ),
            back
        );
    }
}

#[test]
fn range_is_start_inclusive_end_exclusive_and_stop_stops() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let model = fill(&store, "a", 3, 800);
    let (start, end) = (model[100].0, model[500].0);
    let want: Vec<_> = model
        .iter()
        .filter(|e| e.0 >= start && e.0 < end)
        .cloned()
        .collect();
    assert_eq!(read(&store, "a", start, end, Direction::Forward, &[]), want);
    assert!(read(&store, "a", end, start, Direction::Forward, &[]).is_empty());
    let mut seen = 0;
    store
        .scan(
            id(&store, "a"),
            start,
            end,
            Direction::Backward,
            &[],
            &mut |e| {
                seen += 1;
                assert_eq!(e.ts, want[want.len() - seen].0);
                if seen == 5 {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            },
        )
        .unwrap();
    assert_eq!(seen, 5);
}

#[test]
fn duplicates_are_dropped_and_ties_keep_push_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let out = push(
        &store,
        "a",
        vec![
            entry(NOW, "x"),
            entry(NOW, "x"),
            entry(NOW, "y"),
            entry(NOW, "x"),
        ],
    );
    assert_eq!((out.accepted, out.duplicates), (2, 2));
    assert_eq!(all(&store, "a"), vec![(NOW, "x".into()), (NOW, "y".into())]);
    let back = read(&store, "a", i64::MIN, i64::MAX, Direction::Backward, &[]);
    assert_eq!(back, vec![(NOW, "y".into()), (NOW, "x".into())]);
}

#[test]
fn refusals_are_loki_s_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        max_streams: 1,
        max_line_bytes: 10,
        retention: Duration::from_secs(86400),
        ..small()
    };
    let store = LogStore::open(dir.path(), opts).unwrap();
    push(&store, "a", vec![entry(NOW, "newest")]);
    let out = push(
        &store,
        "a",
        vec![
            entry(NOW - 3601 * SEC, "late"),
            entry(NOW - 3599 * SEC, "ok late"),
        ],
    );
    assert_eq!((out.accepted, out.refused), (1, 1));
    assert_eq!(
        out.first_refusal,
        Some((labels("a"), NOW - 3601 * SEC, EntryRefusal::TooFarBehind))
    );
    let out = push(
        &store,
        "a",
        vec![
            entry(NOW + 601 * SEC, "future"),
            entry(NOW, "far too long a line"),
        ],
    );
    assert_eq!(out.first_refusal.unwrap().2, EntryRefusal::OutOfBounds);
    assert_eq!(out.refused, 2);
    let out = push(&store, "b", vec![entry(NOW, "x")]);
    assert!(
        matches!(out.first_refusal.unwrap().2, EntryRefusal::Limit(w) if w.contains("maximum of 1 streams"))
    );
    let get = |name: &str| metric(&store, name);
    assert_eq!(get("nodepulse_logstore_refused_too_far_behind_total"), 1);
    assert_eq!(get("nodepulse_logstore_refused_out_of_bounds_total"), 1);
    assert_eq!(get("nodepulse_logstore_refused_line_too_long_total"), 1);
    assert_eq!(get("nodepulse_logstore_refused_stream_limit_total"), 1);
}

#[test]
fn memory_stays_under_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        max_memory_bytes: 64 << 10,
        block_bytes: 16 << 10,
        chunk_target_bytes: 1 << 20,
        ..small()
    };
    let store = LogStore::open(dir.path(), opts).unwrap();
    for i in 0..200 {
        fill(&store, &format!("s{i}"), i, 30);
    }
    let get = |name: &str| metric(&store, name);
    assert!(get("nodepulse_logstore_memory_bytes") <= 64 << 10);
    assert!(get("nodepulse_logstore_memory_pressure_flushes_total") > 0);
    assert_eq!(get("nodepulse_logstore_streams"), 200);
}

#[path = "tests_disk.rs"]
mod disk;

#[path = "tests_format.rs"]
mod format;
