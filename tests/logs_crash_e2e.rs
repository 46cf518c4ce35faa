//! The crash test of issue 3: the agent binary is killed with SIGKILL at seeded random
//! points while lines are written to several containers without pause and their files
//! rotate (kubelet's rename rotation, and one copytruncate), also while it is down; it
//! is restarted each time. At the end nothing is lost, the lines of each (container,
//! stream) first arrived in the order written, and the lines sent again are bounded by
//! one batch per file per kill (small batches of 20 events, so the bound means
//! something). The checkpointer makes that bound hold: the sender starts a batch only
//! once the previous one's checkpoint is on disk.
//!
//! `NODEPULSE_CRASH_SEED=<n>` replays a run (the seed is printed); without it the seed
//! is fixed, so the test is the same on every run.

mod common;

use common::logs::{agent, assert_complete_in_order, wait_all, Container, Dirs};
use common::receivers::Receiver;
use std::fs::{self, File, OpenOptions};
use std::time::Duration;

/// Events per batch (`--logs.batch.max-events`).
const BATCH: usize = 20;
const KILLS: usize = 4;
const DEFAULT_SEED: u64 = 0x5eed_0003;
/// Generous: a loaded 2-core machine.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(120);

/// splitmix64: a few random numbers from a seed, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let Ok(text) = std::env::var("NODEPULSE_CRASH_SEED") else {
        return DEFAULT_SEED;
    };
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|e| panic!("NODEPULSE_CRASH_SEED={text:?}: {e}"))
}

/// The containers and what happens to their files.
struct Writer {
    containers: Vec<Container>,
    rng: Rng,
    rotations: u32,
    copytruncated: bool,
}

impl Writer {
    /// One step: now and then a rotation, then a few lines to every container.
    fn tick(&mut self) {
        for i in 0..self.containers.len() {
            if self.rng.below(30) == 0 {
                self.rotate(i);
            }
            let n = 1 + self.rng.below(4);
            self.containers[i].write(n, 40 + self.rng.below(80) as usize);
        }
    }

    /// kubelet's rename rotation; the first rotation of the last container is a
    /// copytruncate instead (logrotate's: copy, then truncate in place).
    fn rotate(&mut self, i: usize) {
        self.rotations += 1;
        let live = self.containers[i].file.clone();
        let rotated = live.with_file_name(format!("0.log.20240101-{:06}", self.rotations));
        if i + 1 == self.containers.len() && !self.copytruncated {
            self.copytruncated = true;
            fs::copy(&live, &rotated).unwrap();
            OpenOptions::new()
                .write(true)
                .open(&live)
                .unwrap()
                .set_len(0)
                .unwrap();
        } else {
            fs::rename(&live, &rotated).unwrap();
            File::create(&live).unwrap();
        }
    }

    /// Ticks every 20 ms for `duration`.
    async fn run_for(&mut self, duration: Duration) {
        let end = tokio::time::Instant::now() + duration;
        while tokio::time::Instant::now() < end {
            self.tick();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_while_files_rotate_loses_nothing() {
    let seed = seed();
    eprintln!("crash test seed: {seed:#x} (replay with NODEPULSE_CRASH_SEED={seed:#x})");
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let pods = [
        "default_web-1_1111-aaaa",
        "default_api-2_2222-bbbb",
        "kube-system_dns-3_3333-cccc",
    ];
    let names = ["web", "api", "dns"];
    let containers = pods
        .iter()
        .zip(names)
        .map(|(p, n)| Container::new(&d.pods, p, n));
    let mut w = Writer {
        containers: containers.collect(),
        rng: Rng(seed),
        rotations: 0,
        copytruncated: false,
    };
    let flags = [
        "--logs.batch.max-events=20",
        "--logs.batch.timeout=50ms",
        "--logs.partial-flush-timeout=30s",
    ];
    let receiver = Receiver::loki().await;
    for kill in 0..KILLS {
        let server = agent(&d, &receiver, &flags).await;
        let after = Duration::from_millis(200 + w.rng.below(1800));
        eprintln!("kill {kill}: after {after:?}");
        w.run_for(after).await;
        drop(server); // SIGKILL, and reaped
        let down = Duration::from_millis(w.rng.below(300));
        w.run_for(down).await;
    }
    let server = agent(&d, &receiver, &flags).await;
    w.run_for(Duration::from_millis(500)).await;
    // Make sure the copytruncate happened at least once.
    if !w.copytruncated {
        let last = w.containers.len() - 1;
        w.rotate(last);
        w.containers[last].write(5, 50);
    }
    let all: Vec<&Container> = w.containers.iter().collect();
    wait_all(&receiver, &all, &server, ARRIVAL_TIMEOUT).await;
    let repeats = assert_complete_in_order(&receiver, &all);
    let written: u64 = w.containers.iter().map(|c| c.lines).sum();
    eprintln!(
        "{written} lines, {} rotations, repeats per (container, stream): {repeats:?}",
        w.rotations
    );
    // At most one batch is ever delivered without its checkpoint on disk: per kill, a
    // file sees at most one batch again (and all files together, one batch too).
    for (i, c) in w.containers.iter().enumerate() {
        let n = repeats[2 * i] + repeats[2 * i + 1];
        assert!(
            n <= BATCH * KILLS,
            "{}: {n} lines sent again (seed {seed:#x})",
            c.name
        );
    }
    let total: usize = repeats.iter().sum();
    assert!(
        total <= BATCH * KILLS,
        "{total} lines sent again in all (seed {seed:#x})"
    );
}
