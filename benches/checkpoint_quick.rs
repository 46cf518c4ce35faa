//! The checkpoint write the sender waits for after each acknowledged batch: the quick
//! file, with a store of 6,000 entries (12 rounds of 500 pods under the old day-long
//! retention). Two ways, in the same build: `whole`, the whole store encoded and
//! written (what every quick write did before changes.rs); `changes`, the entries
//! changed since the last durable write (a busy second: 50 files acknowledged) and
//! nothing else. Each round advances one file's offset, takes the snapshot (under the
//! store's lock in the agent) and writes the quick file (a slot written in place, no
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

/// What one way cost over the rounds.
struct Measured {
    /// Taking the snapshot (encoding, under the store's lock in the agent).
    encode: Vec<Duration>,
    /// Encoding and writing (what the sender waits for).
    total: Vec<Duration>,
    bytes: usize,
}

fn median_p99(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    (times[times.len() / 2], p99)
}

fn measure(whole: bool, entries: u64, rounds: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = store(dir.path(), entries);
    let (mut encode, mut total) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
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
        encode.push(start.elapsed());
        snapshot.write_quick().unwrap();
        total.push(start.elapsed());
        bytes = snapshot.len();
    }
    Measured {
        encode,
        total,
        bytes,
    }
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
        let m = measure(whole, entries, rounds);
        let (encode, encode_p99) = median_p99(m.encode);
        let (total, total_p99) = median_p99(m.total);
        println!(
            "  {name:>8}: snapshot median {encode:?} (p99 {encode_p99:?}); snapshot + write median {total:?} (p99 {total_p99:?}); {} bytes",
            m.bytes
        );
    }
}
