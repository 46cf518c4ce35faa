//! Compaction, WAL truncation, retention and recovery against `MemStore`: whatever step
//! a restart follows, every sample is queryable exactly once.

use super::tests::{assert_same, batches, label_sets, Rng};
use super::*;
use crate::aggregator::model::{MemStore, Querier, Series};
use std::sync::atomic::{AtomicBool, Ordering};

const RANGE: i64 = 2 * 3600 * 1000;
/// A multiple of the block range.
const START: i64 = RANGE * 236_111;
const STEP: i64 = 15_000;

/// Synced every second, not per batch: 1,920 fsyncs per test would be the test's time.
fn opts() -> TsdbOptions {
    TsdbOptions {
        compact_every: None,
        wal: WalOptions {
            sync: SyncPolicy::Interval(std::time::Duration::from_secs(1)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// 20 series scraped every 15 s for `hours`, into both stores.
fn fill(tsdb: &Tsdb, mem: &MemStore, hours: i64) {
    let sets: Vec<Labels> = (0..20)
        .map(|i| Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]))
        .collect();
    for k in 0..hours * 3600 * 1000 / STEP {
        let batch: Vec<_> = (sets.iter().enumerate())
            .map(|(i, l)| {
                (
                    l.clone(),
                    vec![Sample {
                        t: START + k * STEP,
                        v: (k * i as i64) as f64,
                    }],
                )
            })
            .collect();
        assert_eq!(tsdb.append(&batch).unwrap(), mem.append(&batch).unwrap());
    }
}

fn all(q: &dyn Querier) -> Vec<Series> {
    q.select(&[], i64::MIN, i64::MAX).unwrap()
}

fn ranges() -> Vec<(i64, i64)> {
    let mut out = vec![
        (i64::MIN, i64::MAX),
        (START + RANGE - 30_000, START + RANGE + 30_000),
    ];
    out.extend((0..8).map(|h| (START + h * 3_600_000, START + h * 3_600_000 + 600_000)));
    out
}

#[test]
fn random_batches_answer_as_memstore_after_compaction_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mem, sets) = (MemStore::new(), label_sets());
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    for batch in batches(&mut Rng(0x9e37_79b9_7f4a_7c15), &sets, 600) {
        assert_eq!(tsdb.append(&batch).unwrap(), mem.append(&batch).unwrap());
    }
    let st = tsdb.compact().unwrap();
    assert!(st.blocks_written >= 2, "{st:?}");
    let ranges = [
        (i64::MIN, i64::MAX),
        (1_000_000, 9_000_000),
        (7_000_000, 7_400_000),
        (20_000_000, 40_000_000),
    ];
    assert_same(&tsdb, &mem, &ranges);
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    assert_eq!(tsdb.open_stats().blocks_loaded, st.blocks_written);
    assert_eq!(tsdb.open_stats().skipped_samples, 0);
    assert_same(&tsdb, &mem, &ranges);
}

#[test]
fn eight_hours_compact_into_blocks_and_a_smaller_wal_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&tsdb, &mem, 8);
    let wal_before = tsdb.wal_bytes().unwrap();
    let st = tsdb.compact().unwrap();
    assert_eq!((st.blocks_written, st.head_series_dropped), (3, 0));
    assert!(st.wal_segments_deleted >= 1, "{st:?}");
    let wal_after = tsdb.wal_bytes().unwrap();
    assert!(
        wal_after * 3 < wal_before,
        "WAL {wal_before} -> {wal_after}"
    );
    let spans: Vec<_> = tsdb
        .blocks()
        .iter()
        .map(|b| (b.min_time - START, b.max_time - START))
        .collect();
    assert_eq!(
        spans,
        vec![(0, RANGE), (RANGE, 2 * RANGE), (2 * RANGE, 3 * RANGE)]
    );
    assert_eq!(tsdb.head_stats().samples, 20 * 480);
    assert_eq!(all(&tsdb), all(&mem));
    assert_same_ranges(&tsdb, &mem);
    // Nothing left to do: a second call writes nothing.
    assert_eq!(tsdb.compact().unwrap().blocks_written, 0);
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    let o = tsdb.open_stats();
    assert_eq!(
        (o.blocks_loaded, o.skipped_samples, o.samples_in_blocks),
        (3, 0, 0)
    );
    assert_eq!(all(&tsdb), all(&mem));
    assert_eq!(tsdb.head_stats().samples, 20 * 480);
    // Older than the head's min valid time: refused and counted.
    let old = (
        Labels::from_pairs(&[("__name__", "m"), ("i", "0")]),
        vec![Sample { t: START, v: 1.0 }],
    );
    assert_eq!(tsdb.append(&[old]).unwrap().out_of_order, 1);
    assert_eq!(tsdb.metrics().out_of_bounds_samples, 1);
}

fn assert_same_ranges(tsdb: &Tsdb, mem: &MemStore) {
    for (lo, hi) in ranges() {
        assert_eq!(
            tsdb.select(&[], lo, hi).unwrap(),
            mem.select(&[], lo, hi).unwrap(),
            "{lo}..{hi}"
        );
    }
}

#[test]
fn a_crash_between_block_write_and_truncation_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&tsdb, &mem, 8);
    // Steps 1 and 2 of a compaction by hand, then the "crash" (no truncation).
    tsdb.inner.write_head().set_min_valid(START + RANGE);
    let copies = tsdb.inner.read_head().snapshot(START, START + RANGE);
    block::write(dir.path(), START, START + RANGE, &copies).unwrap();
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    let o = tsdb.open_stats();
    assert_eq!(
        (o.blocks_loaded, o.samples_in_blocks, o.skipped_samples),
        (1, 20 * 480, 0)
    );
    assert_eq!(all(&tsdb), all(&mem));
    assert_same_ranges(&tsdb, &mem);
    // The next compaction carries on from there.
    assert_eq!(tsdb.compact().unwrap().blocks_written, 2);
    assert_eq!(all(&tsdb), all(&mem));
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    assert_eq!(all(&tsdb), all(&mem));
}

#[test]
fn a_crash_after_the_checkpoint_before_segment_deletion_replays_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&tsdb, &mem, 8);
    let seg = dir.path().join("wal/00000000");
    let kept = std::fs::read(&seg).unwrap();
    tsdb.compact().unwrap();
    drop(tsdb);
    assert!(!seg.exists());
    std::fs::write(&seg, kept).unwrap(); // as if the deletion never ran
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    let o = tsdb.open_stats();
    assert_eq!((o.skipped_samples, o.samples_in_blocks), (0, 0));
    assert_eq!(all(&tsdb), all(&mem));
    // Unfinished block directories and checkpoints are cleaned up at open; directories
    // that are not blocks (the log store's, a user's `x.tmp`) are left alone, uncounted.
    let unfinished = dir.path().join("01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp");
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::create_dir_all(dir.path().join("logs/chunks")).unwrap();
    std::fs::create_dir_all(dir.path().join("x.tmp")).unwrap();
    std::fs::write(dir.path().join("wal/checkpoint.00000009.tmp"), b"x").unwrap();
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    assert!(!unfinished.exists());
    assert!(!dir.path().join("wal/checkpoint.00000009.tmp").exists());
    assert!(dir.path().join("logs/chunks").exists() && dir.path().join("x.tmp").exists());
    assert_eq!(tsdb.metrics().blocks_failed, 0);
    assert_eq!(all(&tsdb), all(&mem));
}

#[test]
fn queries_during_compaction_see_every_sample_once() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&tsdb, &mem, 8);
    let want = all(&mem);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut rounds = 0;
            while !done.load(Ordering::Acquire) || rounds == 0 {
                assert_eq!(all(&tsdb), want);
                rounds += 1;
            }
        });
        tsdb.compact().unwrap();
        done.store(true, Ordering::Release);
        reader.join().unwrap();
    });
    assert_eq!(all(&tsdb), want);
}

#[test]
fn retention_deletes_whole_blocks_by_time_and_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let four_hours = TsdbOptions {
        retention_ms: 4 * 3600 * 1000,
        ..opts()
    };
    let tsdb = Tsdb::open(dir.path(), four_hours).unwrap();
    fill(&tsdb, &mem, 8);
    assert_eq!(tsdb.compact().unwrap().blocks_deleted, 1); // 0..2h ends before 8h - 4h
    assert_eq!(tsdb.metrics().retention_deletions_time, 1);
    let first = tsdb.blocks()[0].min_time;
    assert_eq!(first, START + RANGE);
    assert_eq!(all(&tsdb), mem.select(&[], first, i64::MAX).unwrap());
    let (wal, blocks) = (tsdb.wal_bytes().unwrap(), tsdb.metrics().blocks_bytes);
    drop(tsdb);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3); // 2 blocks + wal
                                                                   // Room for the WAL and one block: the older block goes.
    let sized = TsdbOptions {
        retention_bytes: wal + blocks / 2 + 16,
        ..opts()
    };
    let tsdb = Tsdb::open(dir.path(), sized).unwrap();
    assert_eq!(tsdb.compact().unwrap().blocks_deleted, 1);
    assert_eq!(tsdb.metrics().retention_deletions_size, 1);
    assert_eq!(tsdb.blocks()[0].min_time, START + 2 * RANGE);
    assert_eq!(
        all(&tsdb),
        mem.select(&[], START + 2 * RANGE, i64::MAX).unwrap()
    );
}

#[test]
fn a_damaged_block_is_refused_and_counted_and_the_others_open() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&tsdb, &mem, 8);
    tsdb.compact().unwrap();
    let newest = tsdb.blocks()[2].ulid.clone();
    drop(tsdb);
    let index = dir.path().join(&newest).join("index");
    let len = std::fs::metadata(&index).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap();
    f.set_len(len / 2).unwrap();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    assert_eq!(
        (
            tsdb.open_stats().blocks_loaded,
            tsdb.open_stats().blocks_failed
        ),
        (2, 1)
    );
    assert_eq!(tsdb.metrics().blocks_failed, 1);
    let lost = (START + 2 * RANGE, START + 3 * RANGE - 1);
    let want: Vec<Series> = all(&mem)
        .into_iter()
        .map(|mut s| {
            s.samples.retain(|x| x.t < lost.0 || x.t > lost.1);
            s
        })
        .collect();
    assert_eq!(all(&tsdb), want);
}

#[test]
fn a_series_that_stopped_is_dropped_from_the_head_and_comes_back_under_a_new_ref() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemStore::new();
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    let gone = Labels::from_pairs(&[("__name__", "gone")]);
    let early = vec![(gone.clone(), vec![Sample { t: START, v: 1.0 }])];
    assert_eq!(tsdb.append(&early).unwrap(), mem.append(&early).unwrap());
    fill(&tsdb, &mem, 8);
    let st = tsdb.compact().unwrap();
    assert_eq!(st.head_series_dropped, 1);
    assert_eq!(tsdb.head_stats().series, 20);
    let late = vec![(
        gone.clone(),
        vec![Sample {
            t: START + 8 * 3_600_000,
            v: 2.0,
        }],
    )];
    assert_eq!(tsdb.append(&late).unwrap(), mem.append(&late).unwrap());
    assert_eq!(tsdb.head_stats().series, 21);
    assert_eq!(all(&tsdb), all(&mem));
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts()).unwrap();
    assert_eq!(tsdb.open_stats().skipped_samples, 0);
    assert_eq!(all(&tsdb), all(&mem));
}
