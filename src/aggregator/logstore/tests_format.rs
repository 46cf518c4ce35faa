//! On-disk format versions and block filters: a store written by chunk format 1
//! (`NPL1`, kept as a fixture) still opens and answers the same, with and without its
//! index, and so does one of format 3 (`NPL3`, a fixture too), needles of digits found
//! as before; a store of format 2 chunks takes format 4 ones beside them; line filters
//! skip blocks by their trigram filters and never lose a line, in either block layout.

use super::*;
use crate::aggregator::model::logs::{Direction, LogEntry};
use std::path::Path;

/// What the fixture store holds: stream `{app="a", ns="prod"}`, 3,000 entries a
/// millisecond apart, every fifth with structured metadata.
fn fixture_entries() -> Vec<LogEntry> {
    (0..3000i64)
        .map(|i| LogEntry {
            ts: NOW - 3600 * SEC + i * 1_000_000,
            line: format!(
                "GET /api/v1/orders/{} status={} took={}ms",
                i * 7919 % 10007,
                200 + i % 5,
                i % 97
            ),
            metadata: if i % 5 == 0 {
                vec![("trace_id".into(), format!("{:016x}", i * 0x9e37_79b9))]
            } else {
                vec![]
            },
        })
        .collect()
}

/// A copy of fixture store `name` in a temp dir (the store writes to its directory).
fn fixture_store(name: &str, keep_index: bool) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let dir = tempfile::tempdir().unwrap();
    for sub in ["chunks", "wal"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for f in std::fs::read_dir(src.join(sub)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.path().join(sub).join(f.file_name())).unwrap();
        }
    }
    if keep_index {
        std::fs::copy(src.join("index"), dir.path().join("index")).unwrap();
    }
    dir
}

/// Every entry of stream `app` with its metadata, in time order.
fn entries(store: &LogStore, app: &str, needles: &[&[u8]]) -> Vec<LogEntry> {
    let id = store.streams(&[], i64::MIN, i64::MAX);
    let id = id.iter().find(|s| s.labels == labels(app)).unwrap().id;
    let mut out = Vec::new();
    store
        .scan(
            id,
            i64::MIN,
            i64::MAX,
            Direction::Forward,
            needles,
            &mut |e| {
                out.push(LogEntry {
                    ts: e.ts,
                    line: e.line.to_string(),
                    metadata: e.metadata.to_vec(),
                });
                Flow::Continue
            },
        )
        .unwrap();
    out
}

#[test]
fn a_store_of_chunk_format_1_reads_as_written_with_or_without_its_index() {
    let want = fixture_entries();
    for keep_index in [true, false] {
        let dir = fixture_store("logstore_npl1", keep_index);
        let store = LogStore::open(dir.path(), small()).unwrap();
        assert_eq!(store.open_stats().load.corrupt, 0);
        assert_eq!(entries(&store, "a", &[]), want, "index kept: {keep_index}");
        let hits = entries(&store, "a", &[b"status=203 took=1ms"]);
        let model: Vec<_> = want
            .iter()
            .filter(|e| e.line.contains("status=203 took=1ms"))
            .cloned()
            .collect();
        assert!(!model.is_empty());
        assert_eq!(hits, model);
        // New pushes go to format 2 chunks beside the old ones.
        let late = LogEntry {
            ts: NOW - 60 * SEC,
            line: "after the upgrade".into(),
            metadata: vec![],
        };
        push(&store, "a", vec![late.clone()]);
        store.shutdown().unwrap();
        drop(store);
        let store = LogStore::open(dir.path(), small()).unwrap();
        let mut all = want.clone();
        all.push(late);
        assert_eq!(entries(&store, "a", &[]), all);
    }
}

/// Pushes `n` lines of 40 kinds to stream `app` (each kind in a run of lines, so
/// blocks hold few kinds); returns them.
fn kinds(store: &LogStore, app: &str, n: i64) -> Vec<LogEntry> {
    let es: Vec<LogEntry> = (0..n)
        .map(|i| LogEntry {
            ts: NOW - 3600 * SEC + i * SEC,
            line: format!("kind-{:02} request {} done in {}ms", i / 50 % 40, i, i % 13),
            metadata: vec![],
        })
        .collect();
    for part in es.chunks(100) {
        assert_eq!(push(store, app, part.to_vec()).refused, 0);
    }
    es
}

/// The magic of every chunk file in the store.
fn magics(dir: &Path) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir.join("chunks"))
        .unwrap()
        .map(|f| std::fs::read(f.unwrap().path()).unwrap()[..4].to_vec())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn a_store_of_chunk_format_3_reads_as_written_and_finds_needles_of_digits() {
    let want = fixture_entries();
    for keep_index in [true, false] {
        let dir = fixture_store("logstore_npl3", keep_index);
        assert_eq!(magics(dir.path()), vec![b"NPL3".to_vec()]);
        let store = LogStore::open(dir.path(), small()).unwrap();
        assert_eq!(store.open_stats().load.corrupt, 0);
        assert_eq!(entries(&store, "a", &[]), want, "index kept: {keep_index}");
        for needle in ["status=203 took=1ms", "203", "7919", "0", "took=96ms"] {
            let hits = entries(&store, "a", &[needle.as_bytes()]);
            let model: Vec<_> = want
                .iter()
                .filter(|e| e.line.contains(needle))
                .cloned()
                .collect();
            assert!(!model.is_empty(), "{needle}");
            assert_eq!(hits, model, "{needle}");
        }
    }
}

#[test]
fn a_store_of_format_2_chunks_takes_format_4_ones_and_reads_both() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = LogStoreOptions {
        block_layout: block::Layout::Columns,
        ..small()
    };
    let store = LogStore::open(dir.path(), v2.clone()).unwrap();
    let mut want = kinds(&store, "a", 1500);
    store.shutdown().unwrap();
    drop(store);
    assert_eq!(magics(dir.path()), vec![b"NPL2".to_vec()]);
    let v4 = LogStoreOptions {
        block_layout: block::Layout::Fields,
        ..small()
    };
    let store = LogStore::open(dir.path(), v4.clone()).unwrap();
    let late: Vec<LogEntry> = (0..1500)
        .map(|i| LogEntry {
            ts: NOW - 60 * SEC + i * 1000,
            line: format!("late {i} at 10.0.{}.{} id={:08x}", i % 3, i % 250, i * 7919),
            metadata: if i % 7 == 0 {
                vec![("k".into(), format!("v{i}"))]
            } else {
                vec![]
            },
        })
        .collect();
    for part in late.chunks(100) {
        assert_eq!(push(&store, "a", part.to_vec()).refused, 0);
    }
    want.extend(late);
    assert_eq!(entries(&store, "a", &[]), want, "in memory");
    store.shutdown().unwrap();
    drop(store);
    assert_eq!(magics(dir.path()), vec![b"NPL2".to_vec(), b"NPL4".to_vec()]);
    for opts in [v2, v4] {
        let store = LogStore::open(dir.path(), opts).unwrap();
        assert_eq!(store.open_stats().load.corrupt, 0);
        assert_eq!(entries(&store, "a", &[]), want);
        let hits = entries(&store, "a", &[b"id=0000"]);
        let model: Vec<_> = want
            .iter()
            .filter(|e| e.line.contains("id=0000"))
            .cloned()
            .collect();
        assert_eq!(hits, model);
    }
}

#[test]
fn a_line_filter_skips_blocks_by_their_filters_and_finds_every_line() {
    for layout in [block::Layout::Columns, block::Layout::Fields] {
        line_filter_skips_blocks(layout);
    }
}

fn line_filter_skips_blocks(layout: block::Layout) {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        block_layout: layout,
        ..small()
    };
    let store = LogStore::open(dir.path(), opts).unwrap();
    let es = kinds(&store, "a", 4000);
    for on_disk in [false, true] {
        if on_disk {
            store.shutdown().unwrap();
        }
        for needle in ["kind-17 ", "kind-17 request 3", "in 12ms", "absent!"] {
            let before = metric(&store, "nodepulse_logstore_scan_blocks_skipped_total");
            let want: Vec<_> = es
                .iter()
                .filter(|e| e.line.contains(needle))
                .cloned()
                .collect();
            let got = entries(&store, "a", &[needle.as_bytes()]);
            assert_eq!(got, want, "{needle} {layout:?}");
            let skipped = metric(&store, "nodepulse_logstore_scan_blocks_skipped_total");
            if needle != "in 12ms" {
                assert!(skipped > before, "{needle}: no block skipped");
            }
        }
    }
    assert!(metric(&store, "nodepulse_logstore_scan_blocks_read_total") > 0);
}
