//! Crash safety under group commit: a child process (this test binary, re-executed to
//! run the ignored `concurrent_crash_child`) appends from 8 threads at once, each
//! printing `ack T I` after its `append` returns (sharing fsyncs with the others); the
//! parent SIGKILLs it mid-stream, reopens the store and finds every sample of every
//! acknowledged batch of every thread.

use nodepulse::aggregator::model::{Appender, Labels, Querier, Sample};
use nodepulse::aggregator::tsdb::{Tsdb, TsdbOptions};
use std::collections::HashSet;

#[path = "common/crash.rs"]
mod crash;

const DIR_ENV: &str = "NODEPULSE_TSDB_GROUP_CRASH_DIR";
const THREADS: u64 = 8;
const SERIES: u64 = 20;
const KILL_AFTER: usize = 400;

/// Batch `i` of thread `t`: one sample for each of the thread's series.
fn batch(t: u64, i: u64) -> Vec<(Labels, Vec<Sample>)> {
    (0..SERIES)
        .map(|k| {
            let (t, k) = (t.to_string(), k.to_string());
            let labels = Labels::from_pairs(&[("__name__", "m"), ("t", &t), ("k", &k)]);
            let v = (i * 1000) as f64;
            (
                labels,
                vec![Sample {
                    t: i as i64 * 1000,
                    v,
                }],
            )
        })
        .collect()
}

#[test]
#[ignore = "the child half of concurrently_acknowledged_samples_survive_sigkill"]
fn concurrent_crash_child() {
    let dir = std::env::var(DIR_ENV).expect("run by the parent test");
    let tsdb = Tsdb::open(dir.as_ref(), TsdbOptions::default()).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let tsdb = &tsdb;
            s.spawn(move || {
                for i in 0..100_000 {
                    tsdb.append(&batch(t, i)).unwrap();
                    crash::ack(t, i);
                }
            });
        }
    });
}

#[test]
fn concurrently_acknowledged_samples_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let acked = crash::acks_until_killed("concurrent_crash_child", DIR_ENV, dir.path(), KILL_AFTER);

    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let mut stored = HashSet::new();
    for s in tsdb.select(&[], i64::MIN, i64::MAX).unwrap() {
        for x in &s.samples {
            stored.insert((s.labels.clone(), x.t, x.v.to_bits()));
        }
    }
    for &(t, i) in &acked {
        for (labels, samples) in batch(t, i) {
            let want = (labels, samples[0].t, samples[0].v.to_bits());
            assert!(stored.contains(&want), "thread {t} batch {i}: {want:?}");
        }
    }
    eprintln!(
        "acknowledged {} batches from {THREADS} threads; reopen: {:?}",
        acked.len(),
        tsdb.open_stats()
    );
}
