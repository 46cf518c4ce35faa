//! The store's unit tests on disk: restarts, WAL damage and truncation, retention,
//! damaged chunk files.

use super::*;
use crate::aggregator::logstore::chunk_file;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

#[test]
fn a_restart_gives_the_same_answers_from_wal_chunks_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        wal_max_bytes: 64 << 10,
        ..small()
    };
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    let a = fill(&store, "a", 4, 3000);
    let b = fill(&store, "b", 5, 500);
    store.flush_queue().unwrap();
    drop(store); // some chunks on disk, some only in the WAL
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    assert!(store.open_stats().replay.records > 0);
    assert_eq!((all(&store, "a"), all(&store, "b")), (a.clone(), b.clone()));
    store.shutdown().unwrap();
    drop(store);
    let store = LogStore::open(dir.path(), opts).unwrap();
    assert_eq!(store.open_stats().replay.records, 0);
    assert_eq!(
        store.open_stats().load.headers_read,
        0,
        "the index knew every chunk"
    );
    assert_eq!((all(&store, "a"), all(&store, "b")), (a, b));
}

#[test]
fn a_torn_wal_tail_is_cut_counted_and_the_rest_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let model = fill(&store, "a", 6, 300);
    drop(store);
    let wal = dir.path().join("wal").join("00000000");
    fs::OpenOptions::new()
        .append(true)
        .open(&wal)
        .unwrap()
        .write_all(&[16, 200, 0, 0, 0, 1, 2])
        .unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    assert_eq!(store.open_stats().replay.torn_bytes, 7);
    assert_eq!(all(&store, "a"), model);
    assert_eq!(metric(&store, "nodepulse_logstore_wal_torn_bytes_total"), 7);
}

fn chunk_of(dir: &Path, app: &str) -> std::path::PathBuf {
    let mut files: Vec<_> = fs::read_dir(dir.join("chunks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .find(|p| chunk_file::read_header(p).is_ok_and(|(h, _)| h.labels == labels(app)))
        .unwrap()
}

/// The entries a chunk file holds, read straight from it.
fn chunk_lines(path: &Path) -> Vec<(i64, String)> {
    let file = fs::read(path).unwrap();
    let h = chunk_file::parse(&file, file.len() as u64).unwrap();
    let (mut dec, mut raw, mut out) = (codec::Decompressor::default(), Vec::new(), Vec::new());
    for b in &h.blocks {
        let data = &chunk_file::block_bytes(&file, b).unwrap()[b.bloom_len as usize..];
        dec.decompress(h.codec, data, b.raw_len as usize, &mut raw)
            .unwrap();
        let (lines, slots) = block::decode_lines(&raw, h.layout).unwrap();
        for s in slots {
            out.push((
                s.ts,
                String::from_utf8(lines[s.start..s.start + s.len].to_vec()).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn a_damaged_chunk_file_is_set_aside_by_name_and_the_rest_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let a = fill(&store, "a", 7, 1000);
    let b = fill(&store, "b", 8, 1000);
    store.shutdown().unwrap();
    let victim = chunk_of(dir.path(), "a");
    let lost = chunk_lines(&victim);
    let size = fs::metadata(&victim).unwrap().len();
    let mut bytes = fs::read(&victim).unwrap();
    bytes[size as usize - 3] ^= 0x40; // inside the last block
    fs::write(&victim, &bytes).unwrap();
    let rest: Vec<_> = a.iter().filter(|e| !lost.contains(e)).cloned().collect();
    assert!(!lost.is_empty() && !rest.is_empty());
    let got = all(&store, "a");
    let first_diff = got.iter().zip(&rest).position(|(x, y)| x != y);
    assert_eq!(
        (got.len(), first_diff),
        (rest.len(), None),
        "{:?}",
        first_diff.map(|i| (&got[i], &rest[i]))
    );
    assert!(all(&store, "b") == b);
    assert!(!victim.exists() && victim.with_extension("corrupt").exists());
    assert_eq!(metric(&store, "nodepulse_logstore_chunks_corrupt_total"), 1);
    // A garbage file the index does not know is refused at open; the rest loads.
    fs::write(
        chunk_file::path(&dir.path().join("chunks"), 1 << 40),
        b"NPL1 garbage",
    )
    .unwrap();
    drop(store);
    let store = LogStore::open(dir.path(), small()).unwrap();
    assert_eq!(store.open_stats().load.corrupt, 1);
    assert!((all(&store, "a"), all(&store, "b")) == (rest, b));
}

static CLOCK: AtomicI64 = AtomicI64::new(NOW);

fn moving_clock() -> i64 {
    CLOCK.load(Relaxed)
}

#[test]
fn retention_deletes_whole_chunks_by_age_then_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        retention: Duration::from_secs(3600),
        now: moving_clock,
        ..small()
    };
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    push(&store, "old", vec![entry(NOW - 50 * 60 * SEC, "old line")]);
    push(&store, "new", vec![entry(NOW, "new line")]);
    let out = push(&store, "new", vec![entry(NOW - 61 * 60 * SEC, "too old")]);
    assert_eq!(out.first_refusal.unwrap().2, EntryRefusal::OutOfBounds);
    store.shutdown().unwrap();
    CLOCK.store(NOW + 20 * 60 * SEC, Relaxed);
    store.maintain().unwrap();
    let everything = store.streams(&[], i64::MIN, i64::MAX);
    assert_eq!(
        everything
            .iter()
            .map(|s| s.labels.clone())
            .collect::<Vec<_>>(),
        vec![labels("new")]
    );
    assert_eq!(fs::read_dir(dir.path().join("chunks")).unwrap().count(), 1);
    assert_eq!(
        metric(&store, "nodepulse_logstore_chunks_deleted_age_total"),
        1
    );
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        retention_bytes: 20 << 10,
        ..small()
    };
    let store = LogStore::open(dir.path(), opts).unwrap();
    let model = fill(&store, "a", 9, 3000);
    store.shutdown().unwrap();
    store.apply_retention(NOW).unwrap();
    let disk = metric(&store, "nodepulse_logstore_disk_bytes");
    assert!(disk <= 20 << 10 && disk > 10 << 10, "{disk}");
    let kept = all(&store, "a");
    assert!(!kept.is_empty() && kept.len() < model.len());
    assert!(kept.iter().all(|e| model.contains(e)));
    assert_eq!(kept.last(), model.last(), "the newest are kept");
}

/// Two pushes to one stream, all in the open head block, then a clean shutdown: both
/// pushes are there after reopening (the e2e test `logs_to_aggregator` lost the first).
#[test]
fn a_shutdown_after_two_pushes_to_one_stream_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogStoreOptions {
        now: clock,
        ..LogStoreOptions::default()
    };
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    let t = NOW - 3600 * SEC;
    let first: Vec<LogEntry> = (0..200)
        .map(|i| entry(t + i, &format!("line {i}")))
        .collect();
    let second: Vec<LogEntry> = (200..300)
        .map(|i| entry(t + i, &format!("line {i}")))
        .collect();
    push(&store, "a", first);
    push(&store, "a", second);
    let want = all(&store, "a");
    assert_eq!(want.len(), 300);
    store.shutdown().unwrap();
    drop(store);
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    assert_eq!(all(&store, "a"), want, "after shutdown");
    drop(store);
    let store = LogStore::open(dir.path(), opts).unwrap();
    assert_eq!(all(&store, "a"), want, "after a second open");
}

/// The very first WAL record of a store is replayed like any other (its sequence
/// number once equalled "nothing flushed", 0, and replay skipped it: the e2e test lost
/// the agent's first batch to a SIGKILL).
#[test]
fn the_first_push_survives_a_crash_before_any_flush() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path(), small()).unwrap();
    let t = NOW - 3600 * SEC;
    push(&store, "a", vec![entry(t, "first")]);
    push(&store, "a", vec![entry(t + 1, "second")]);
    push(&store, "b", vec![entry(t + 2, "other")]);
    drop(store); // nothing flushed: everything is in the WAL only
    let store = LogStore::open(dir.path(), small()).unwrap();
    assert_eq!(store.open_stats().replay.records, 3);
    let a: Vec<String> = all(&store, "a").into_iter().map(|(_, l)| l).collect();
    assert_eq!(a, ["first", "second"]);
    assert_eq!(all(&store, "b").len(), 1);
}
