//! Group commit: one fsync acknowledges every write before it, concurrent appenders
//! share fsyncs and find every acknowledged sample after a reopen, a failed fsync fails
//! every waiter it did not cover.

use super::*;
use crate::aggregator::model::{Appender, Labels, Querier, Sample};
use crate::aggregator::tsdb::{Tsdb, TsdbOptions};
use std::sync::{Barrier, Condvar, Mutex};

/// Writes counted under a lock, as the WAL's `written`.
#[derive(Default)]
struct Writes {
    n: Mutex<u64>,
    all: Condvar,
}

#[test]
fn one_fsync_acknowledges_every_write_before_it() {
    const N: u64 = 8;
    let file = Arc::new(tempfile::tempfile().unwrap());
    let (gc, writes) = (GroupCommit::default(), Writes::default());
    std::thread::scope(|s| {
        for _ in 0..N {
            s.spawn(|| {
                let seq = {
                    let mut n = writes.n.lock().unwrap();
                    *n += 1;
                    writes.all.notify_all();
                    *n
                };
                // The leader's view of the WAL: taken once all N have written.
                let target = || {
                    let n = writes.all.wait_while(writes.n.lock().unwrap(), |n| *n < N);
                    SyncTarget {
                        file: file.clone(),
                        upto: *n.unwrap(),
                        segment: 0,
                        size: 0,
                    }
                };
                gc.wait_durable(seq, target, |_| panic!("no failure"))
                    .unwrap();
                assert!(gc.lock().synced >= seq, "acknowledged before its sync");
            });
        }
    });
    assert_eq!(gc.fsyncs(), 1);
}

#[test]
fn a_failed_fsync_fails_its_waiters_and_every_later_one() {
    // /dev/null has no fsync: EINVAL, as a disk that lost the pages would report EIO.
    let bad = Arc::new(File::open("/dev/null").unwrap());
    let target = || SyncTarget {
        file: bad.clone(),
        upto: 1,
        segment: 3,
        size: 10,
    };
    let gc = GroupCommit::default();
    let mut cut = None;
    assert!(gc.wait_durable(1, target, |d| cut = Some(d)).is_err());
    assert_eq!(cut, Some((0, 0)), "cut back to the last durable point");
    assert!(gc.wait_durable(2, target, |_| panic!("cut once")).is_err());
}

fn batch(thread: usize, i: usize) -> Vec<(Labels, Vec<Sample>)> {
    (0..10)
        .map(|k| {
            let (thread, k) = (thread.to_string(), k.to_string());
            let labels = Labels::from_pairs(&[("__name__", "m"), ("t", &thread), ("k", &k)]);
            let t = i as i64 * 15_000;
            (labels, vec![Sample { t, v: i as f64 }])
        })
        .collect()
}

#[test]
fn concurrent_appenders_share_fsyncs_and_every_ack_survives_a_reopen() {
    const THREADS: usize = 16;
    const BATCHES: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (tsdb, start) = (&tsdb, &start);
            s.spawn(move || {
                start.wait();
                for i in 0..BATCHES {
                    let out = tsdb.append(&batch(thread, i)).unwrap();
                    assert_eq!(out.appended, 10);
                }
            });
        }
    });
    let batches = (THREADS * BATCHES) as u64;
    let fsyncs = tsdb.wal_fsyncs();
    assert!(fsyncs < batches, "{fsyncs} fsyncs for {batches} batches");
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let all = tsdb.select(&[], i64::MIN, i64::MAX).unwrap();
    assert_eq!(all.len(), THREADS * 10);
    assert!(all.iter().all(|s| s.samples.len() == BATCHES));
}
