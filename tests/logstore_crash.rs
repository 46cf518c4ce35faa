//! Crash safety of the log store: a child process (this test binary, re-executed to
//! run the ignored `logstore_crash_child`) pushes from 4 threads at once — small blocks,
//! chunks and WAL limit, so chunks are written and the WAL truncated while it runs —
//! printing `ack T I` after each `push` returns; the parent SIGKILLs it mid-stream,
//! reopens the store and finds every line of every acknowledged push, once — with
//! blocks of chunk format 2 (lines as pushed) and of format 4 (the default: templates
//! and columns).

use nodepulse::aggregator::logstore::block::Layout;
use nodepulse::aggregator::logstore::{LogStore, LogStoreOptions};
use nodepulse::aggregator::model::logs::{
    Direction, Flow, LogAppender, LogEntry, LogReader, PushStream,
};
use nodepulse::aggregator::model::Labels;
use std::collections::HashMap;
use std::path::Path;

#[path = "common/crash.rs"]
mod crash;

const DIR_ENV: &str = "NODEPULSE_LOGSTORE_CRASH_DIR";
const THREADS: u64 = 4;
const STREAMS: u64 = 3;
const LINES: u64 = 10;
const KILL_AFTER: usize = 300;
const START: i64 = 1_800_000_000_000_000_000;

fn now() -> i64 {
    START + 86_400_000_000_000
}

/// The store lives in `<dir>/store`; a file `<dir>/fields` asks for format 4 blocks
/// (the child learns its directory from the environment only).
fn opts(store: &Path) -> LogStoreOptions {
    let fields = store.parent().is_some_and(|d| d.join("fields").exists());
    LogStoreOptions {
        block_layout: if fields {
            Layout::Fields
        } else {
            Layout::Columns
        },
        block_bytes: 4 << 10,
        chunk_target_bytes: 4 << 10,
        wal_max_bytes: 256 << 10,
        now,
        ..Default::default()
    }
}

/// Push `i` of thread `t`: `LINES` lines for each of the thread's streams.
fn push(t: u64, i: u64) -> Vec<PushStream> {
    (0..STREAMS)
        .map(|k| PushStream {
            labels: Labels::from_pairs(&[("thread", &t.to_string()), ("k", &k.to_string())]),
            entries: (0..LINES)
                .map(|n| LogEntry {
                    ts: START + (i * LINES + n) as i64 * 1_000_000,
                    line: format!(
                        "thread {t} push {i} stream {k} line {n} level=info msg=\"request served\""
                    ),
                    metadata: vec![("n".into(), n.to_string())],
                })
                .collect(),
        })
        .collect()
}

#[test]
#[ignore = "the child half of acknowledged_lines_survive_sigkill"]
fn logstore_crash_child() {
    let dir = std::env::var(DIR_ENV).expect("run by the parent test");
    let store = LogStore::open(dir.as_ref(), opts(dir.as_ref())).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = &store;
            s.spawn(move || {
                for i in 0..1_000_000 {
                    assert_eq!(store.push(push(t, i)).unwrap().accepted, STREAMS * LINES);
                    crash::ack(t, i);
                }
            });
        }
    });
}

#[test]
fn acknowledged_lines_survive_sigkill() {
    survive_sigkill(false);
}

#[test]
fn acknowledged_lines_survive_sigkill_in_block_format_4() {
    survive_sigkill(true);
}

fn survive_sigkill(fields: bool) {
    let top = tempfile::tempdir().unwrap();
    if fields {
        std::fs::write(top.path().join("fields"), b"").unwrap();
    }
    let dir = top.path().join("store");
    std::fs::create_dir(&dir).unwrap();
    let acked = crash::acks_until_killed("logstore_crash_child", DIR_ENV, &dir, KILL_AFTER);
    let magics: Vec<Vec<u8>> = std::fs::read_dir(dir.join("chunks"))
        .unwrap()
        .filter_map(|f| std::fs::read(f.unwrap().path()).ok())
        .filter_map(|b| b.get(..4).map(<[u8]>::to_vec))
        .collect();
    let want = if fields { b"NPL4" } else { b"NPL2" };
    assert!(
        magics.iter().any(|m| m == want),
        "no chunk file of that format"
    );
    let store = LogStore::open(&dir, opts(&dir)).unwrap();
    let mut stored: HashMap<(Labels, String), u32> = HashMap::new();
    for s in store.streams(&[], i64::MIN, i64::MAX) {
        store
            .scan(
                s.id,
                i64::MIN,
                i64::MAX,
                Direction::Forward,
                &[],
                &mut |e| {
                    *stored
                        .entry((s.labels.clone(), e.line.to_string()))
                        .or_default() += 1;
                    Flow::Continue
                },
            )
            .unwrap();
    }
    for &(t, i) in &acked {
        for ps in push(t, i) {
            for e in ps.entries {
                let n = stored.get(&(ps.labels.clone(), e.line.clone()));
                assert_eq!(n, Some(&1), "thread {t} push {i}: {}", e.line);
            }
        }
    }
    assert!(stored.values().all(|&n| n == 1), "a line stored twice");
    eprintln!(
        "acknowledged {} pushes; reopen: {:?}",
        acked.len(),
        store.open_stats()
    );
}
