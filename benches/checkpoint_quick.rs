//! The checkpoint write the sender waits for after each acknowledged batch: the quick
//! file, with a store of 6,000 entries (12 rounds of 500 pods under the old day-long
//! retention). Two ways, in the same build: `whole`, the whole store encoded and
//! written (what every quick write did before changes.rs); `changes`, the entries
//! changed since the last durable write (a busy second: 50 files acknowledged) and
//! nothing else. Each round advances one file's offset, takes the snapshot (under the
//! store's lock in the agent) and writes `checkpoints.quick.json` (tmp + rename, no
//! fsync). A measurement, not a test: nothing is asserted.
//!
//! `cargo bench --bench checkpoint_quick`; `NODEPULSE_BENCH_ENTRIES=N` sets the store's
//! size. Without `--bench` (`cargo test --benches`) it runs a few rounds.

use nodepulse::agent::logs::checkpoint::{CheckpointStore, FileId, Probe, DEFAULT_RETENTION};
use std::path::Path;
use std::time::{Duration, Instant};

/// Files acknowledged since the last durable write, in the `changes` case.
const BUSY: usize = 50;

fn store(dir: &Path, entries: u64) -> (CheckpointStore, Vec<FileId>) {
    let mut store = CheckpointStore::open(dir, DEFAULT_RETENTION).unwrap();
    let ids = (0..entries)
        .map(|i| {
            let head = format!("2024-01-01T00:00:00.000000000Z stdout F pod {i} started\n");
            let probe = Probe {
                dev: 2049,
                ino: 1_000_000 + i,
                head: head.as_bytes().to_vec(),
            };
            let path = format!("/var/log/pods/ns_pod-{i}_0123456789abcdef/app/0.log");
            let id = store.resolve(&probe, Path::new(&path));
            store.advance(&id, head.len() as u64).unwrap();
            id
        })
        .collect();
    store.persist().unwrap();
    (store, ids)
}

/// Median and 99th percentile of `rounds` quick writes, and the bytes of the last.
fn measure(whole: bool, entries: u64, rounds: usize) -> (Duration, Duration, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store(dir.path(), entries);
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for round in 0..rounds {
        let id = &ids[round % BUSY];
        let offset = store.get(id).unwrap() + 100;
        store.advance(id, offset).unwrap();
        let start = Instant::now();
        let snapshot = match whole {
            true => store.snapshot(),
            false => store.snapshot_quick(),
        };
        let snapshot = snapshot.expect("an advanced store has a snapshot");
        snapshot.write_quick().unwrap();
        times.push(start.elapsed());
        bytes = snapshot.len();
    }
    times.sort();
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    (times[times.len() / 2], p99, bytes)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let entries = std::env::var("NODEPULSE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6000);
    let rounds = if bench { 500 } else { 5 };
    println!("quick checkpoint write, {entries} entries, {rounds} rounds");
    for (name, whole) in [("whole", true), ("changes", false)] {
        let (median, p99, bytes) = measure(whole, entries, rounds);
        println!("  {name:>8}: median {median:?}, p99 {p99:?}, {bytes} bytes written");
    }
}
