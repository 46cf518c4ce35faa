//! A tail's reading against the real log store (small blocks, so cursors cross block
//! cuts): the backlog, then each entry once, in time order, filtered by the pipeline.

use super::*;
use crate::aggregator::logql::{parse, Expr};
use crate::aggregator::logstore::{LogStore, LogStoreOptions};
use crate::aggregator::model::logs::{LogAppender, LogEntry, PushStream};
use crate::aggregator::model::Labels;

const NOW: i64 = 1_800_000_000_000_000_000;
const S: i64 = 1_000_000_000;

fn store() -> (LogStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        block_bytes: 1 << 10,
        chunk_target_bytes: 1 << 10,
        now: || NOW,
        ..Default::default()
    };
    (LogStore::open(dir.path(), opts).unwrap(), dir)
}

fn push(store: &LogStore, app: &str, entries: &[(i64, &str)]) {
    let stream = PushStream {
        labels: Labels::from_pairs(&[("app", app)]),
        entries: entries
            .iter()
            .map(|(ts, line)| LogEntry {
                ts: *ts,
                line: line.to_string(),
                metadata: vec![],
            })
            .collect(),
    };
    let outcome = store.push(vec![stream]).unwrap();
    assert_eq!(outcome.accepted as usize, entries.len());
}

fn follow(query: &str, start: i64, limit: usize) -> Follow {
    let Expr::Log(log) = parse(query).unwrap() else {
        panic!("not a log query: {query}")
    };
    Follow::new(log, start, limit).unwrap()
}

fn lines(kept: &[Kept]) -> Vec<String> {
    kept.iter().map(|k| k.line.clone()).collect()
}

#[test]
fn backlog_then_each_new_entry_once_in_time_order() {
    let (st, _dir) = store();
    let t0 = NOW - 60 * S;
    push(
        &st,
        "api",
        &[(t0, "a1"), (t0 + S, "a2"), (t0 + 2 * S, "a3")],
    );
    push(&st, "db", &[(t0 + S, "d1")]);
    let mut f = follow(r#"{app=~".+"}"#, t0 - S, 2);
    // Ties rank streams in label order: "d1" loses to "a2".
    assert_eq!(lines(&f.backlog(&st, NOW).unwrap()), ["a2", "a3"]);
    assert!(f.pass(&st, NOW, None).unwrap().lines.is_empty());

    // A tie with the newest entry read, a later one, and one in another stream.
    push(&st, "api", &[(t0 + 2 * S, "a3bis"), (t0 + 3 * S, "a4")]);
    push(&st, "db", &[(t0 + 2 * S + 1, "d2")]);
    assert_eq!(
        lines(&f.pass(&st, NOW, None).unwrap().lines),
        ["a3bis", "d2", "a4"]
    );
    assert!(f.pass(&st, NOW, None).unwrap().lines.is_empty());
}

#[test]
fn cursors_cross_block_cuts_without_repeats_or_gaps() {
    let (st, _dir) = store();
    let t0 = NOW - 3600 * S;
    let mut f = follow(r#"{app="api"}"#, t0, 10);
    assert!(f.backlog(&st, NOW).unwrap().is_empty());
    let mut want = Vec::new();
    let mut got = Vec::new();
    for round in 0..20i64 {
        let batch: Vec<(i64, String)> = (0..25i64)
            .map(|i| {
                (
                    t0 + round * 100 * S + i * S,
                    format!("line {round}-{i} {}", "x".repeat(40)),
                )
            })
            .collect();
        let refs: Vec<(i64, &str)> = batch.iter().map(|(t, l)| (*t, l.as_str())).collect();
        push(&st, "api", &refs);
        want.extend(batch.into_iter().map(|(_, l)| l));
        got.extend(lines(&f.pass(&st, NOW, None).unwrap().lines));
    }
    assert_eq!(got, want);
}

#[test]
fn a_pass_holds_back_entries_at_or_after_its_end() {
    let (st, _dir) = store();
    let t0 = NOW - 60 * S;
    let mut f = follow(r#"{app="api"}"#, t0, 10);
    f.backlog(&st, t0).unwrap();
    push(&st, "api", &[(t0 + S, "early"), (t0 + 5 * S, "late")]);
    assert_eq!(
        lines(&f.pass(&st, t0 + 5 * S, None).unwrap().lines),
        ["early"]
    );
    // Arrived late, but within the delay: still shown, in order.
    push(&st, "api", &[(t0 + 3 * S, "delayed")]);
    assert_eq!(
        lines(&f.pass(&st, t0 + 6 * S, None).unwrap().lines),
        ["delayed", "late"]
    );
}

#[test]
fn new_streams_and_the_pipeline_apply() {
    let (st, _dir) = store();
    let t0 = NOW - 60 * S;
    let q = r#"{app=~"api|web"} |= "error" | logfmt | level="high""#;
    let mut f = follow(q, t0, 10);
    push(
        &st,
        "api",
        &[
            (t0 + S, "error level=low"),
            (t0 + 2 * S, "error level=high"),
        ],
    );
    assert_eq!(lines(&f.backlog(&st, NOW).unwrap()), ["error level=high"]);
    push(
        &st,
        "web",
        &[
            (t0 + 3 * S, "error level=high web"),
            (t0 + 4 * S, "info level=high"),
        ],
    );
    push(&st, "other", &[(t0 + 3 * S, "error level=high other")]);
    let pass = f.pass(&st, NOW, None).unwrap();
    assert_eq!(lines(&pass.lines), ["error level=high web"]);
    let labels = &pass.lines[0].labels;
    assert_eq!(labels.get("app"), Some("web"));
    assert_eq!(labels.get("level"), Some("high"));
}

#[test]
fn a_pass_stops_at_its_bound_and_the_next_goes_on() {
    let (st, _dir) = store();
    let t0 = NOW - 3600 * S;
    let mut f = follow(r#"{app="api"}"#, t0, 1);
    f.backlog(&st, NOW).unwrap();
    let batch: Vec<(i64, String)> = (0..PASS_ENTRIES as i64 + 5)
        .map(|i| (t0 + i * 1000, format!("{i}")))
        .collect();
    let refs: Vec<(i64, &str)> = batch.iter().map(|(t, l)| (*t, l.as_str())).collect();
    push(&st, "api", &refs);
    let first = f.pass(&st, NOW, None).unwrap();
    assert!(first.more);
    assert_eq!(first.lines.len(), PASS_ENTRIES);
    let second = f.pass(&st, NOW, None).unwrap();
    assert!(!second.more);
    assert_eq!(
        lines(&second.lines),
        ["10000", "10001", "10002", "10003", "10004"]
    );
}

#[test]
fn only_streams_pushed_to_or_holding_entries_not_yet_due_are_read() {
    let (st, _dir) = store();
    let t0 = NOW - 60 * S;
    let mut f = follow(r#"{app=~".+"}"#, t0, 10);
    push(&st, "api", &[(t0 + S, "a1")]);
    push(&st, "db", &[(t0 + S, "d1"), (NOW + 10 * S, "d-future")]);
    assert_eq!(lines(&f.backlog(&st, NOW).unwrap()), ["a1", "d1"]);
    let nothing = Touched::default();
    assert!(f.pass(&st, NOW, Some(&nothing)).unwrap().lines.is_empty());

    push(&st, "api", &[(t0 + 2 * S, "a2")]);
    push(&st, "db", &[(t0 + 2 * S, "d2")]);
    let db: Touched = [Labels::from_pairs(&[("app", "db")])].into_iter().collect();
    assert_eq!(lines(&f.pass(&st, NOW, Some(&db)).unwrap().lines), ["d2"]);
    // db holds an entry not yet due: read when due, without a push.
    let later = NOW + 11 * S;
    let due = f.pass(&st, later, Some(&nothing)).unwrap();
    assert_eq!(lines(&due.lines), ["d-future"]);
    let api: Touched = [Labels::from_pairs(&[("app", "api")])]
        .into_iter()
        .collect();
    assert_eq!(
        lines(&f.pass(&st, later, Some(&api)).unwrap().lines),
        ["a2"]
    );
}
