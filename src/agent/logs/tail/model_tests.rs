//! The rotation model test: random sequences of writes, kubelet rename rotations,
//! copytruncates, deletions of rotated files, new containers and slow reads (small poll
//! budgets) run against real files in a temp dir; a model records the lines written per
//! container. After a final drain every line must have been read exactly once, in order
//! per container. Slow reads make double (and triple) rotations before the reader catches
//! up common (Loki #14462). A rotated file is only deleted once the reader has had a sync
//! since it appeared: before that, nothing could have opened it, and its loss would be
//! real, not a bug.

use super::*;
use crate::agent::logs::checkpoint::{CheckpointStore, DEFAULT_RETENTION};
use crate::agent::logs::discover::{scan, DiscoverConfig};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// SplitMix64: a small deterministic generator, so a failing seed replays exactly.
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

struct Container {
    dir: PathBuf,
    written: Vec<Vec<u8>>,
    /// Rotated files created since the reader's last sync (not deletable yet).
    unsynced: Vec<PathBuf>,
}

impl Container {
    fn live(&self) -> PathBuf {
        self.dir.join("0.log")
    }
}

struct World {
    pods: PathBuf,
    containers: Vec<Container>,
    stamp: u32,
    tailer: Tailer,
    store: CheckpointStore,
    read: Vec<Vec<Vec<u8>>>,
}

impl World {
    fn new(root: &Path, seed: u64) -> World {
        let pods = root.join("pods");
        fs::create_dir_all(&pods).unwrap();
        let store = CheckpointStore::open(&root.join("data"), DEFAULT_RETENTION).unwrap();
        let config = TailConfig {
            start_at: StartAt::Beginning,
            max_line_bytes: 1 << 20,
            max_hold: Duration::from_secs(3600),
            read_buf_bytes: 7 + (seed % 61) as usize,
            max_open_files: 1024,
        };
        World {
            pods,
            containers: Vec::new(),
            stamp: 0,
            tailer: Tailer::new(config),
            store,
            read: Vec::new(),
        }
    }

    fn add_container(&mut self) {
        let n = self.containers.len();
        let dir = self.pods.join(format!("ns_pod-{n}.x_uid-{n}/app"));
        fs::create_dir_all(&dir).unwrap();
        self.containers.push(Container {
            dir,
            written: Vec::new(),
            unsynced: Vec::new(),
        });
        self.read.push(Vec::new());
    }

    fn write(&mut self, rng: &mut Rng, c: usize) {
        let k = 1 + rng.below(5);
        let c_ = &mut self.containers[c];
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(c_.live())
            .unwrap();
        for _ in 0..k {
            let pad = "x".repeat(rng.below(80) as usize);
            let line = format!("c{c} #{} {pad}\n", c_.written.len()).into_bytes();
            f.write_all(&line).unwrap();
            c_.written.push(line);
        }
    }

    fn rotated_name(&mut self, c: usize) -> PathBuf {
        self.stamp += 1;
        self.containers[c]
            .dir
            .join(format!("0.log.20240101-{:06}", self.stamp))
    }

    /// kubelet: rename `0.log` to `0.log.<ts>`, then the runtime reopens a new `0.log`.
    fn rename_rotate(&mut self, rng: &mut Rng, c: usize) {
        let to = self.rotated_name(c);
        let c_ = &mut self.containers[c];
        if fs::rename(c_.live(), &to).is_ok() {
            c_.unsynced.push(to);
            if rng.below(2) == 0 {
                fs::File::create(c_.live()).unwrap();
            }
        }
    }

    /// logrotate's copytruncate; nothing is written between the copy and the truncation.
    fn copy_truncate(&mut self, c: usize) {
        let to = self.rotated_name(c);
        let c_ = &mut self.containers[c];
        if fs::copy(c_.live(), &to).is_ok() {
            OpenOptions::new()
                .write(true)
                .open(c_.live())
                .unwrap()
                .set_len(0)
                .unwrap();
            c_.unsynced.push(to);
        }
    }

    fn delete_oldest_rotated(&mut self, c: usize) {
        let c_ = &self.containers[c];
        let mut rotated: Vec<PathBuf> = fs::read_dir(&c_.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".log.") && !c_.unsynced.contains(p))
            .collect();
        rotated.sort();
        if let Some(oldest) = rotated.first() {
            fs::remove_file(oldest).unwrap();
        }
    }

    fn sync(&mut self) {
        let found = scan(&DiscoverConfig::new(self.pods.clone(), None)).unwrap();
        self.tailer.sync(&found, &mut self.store);
        for c in &mut self.containers {
            c.unsynced.clear();
        }
    }

    fn poll(&mut self, budget: usize) -> u64 {
        let mut out = Vec::new();
        let n = self.tailer.poll(budget, &mut out);
        for line in out.into_iter().filter(|l| !l.is_end_of_file()) {
            let text = String::from_utf8(line.bytes.to_vec()).unwrap();
            let c: usize = text[1..text.find(' ').unwrap()].parse().unwrap();
            assert!(line.path.starts_with(&self.containers[c].dir), "{text}");
            self.read[c].push(line.bytes.to_vec());
        }
        n
    }

    fn drain(&mut self) {
        let mut idle = 0;
        while idle < 3 {
            self.sync();
            idle = if self.poll(1 << 20) == 0 { idle + 1 } else { 0 };
        }
    }

    fn check(&self, seed: u64) {
        for (c, cont) in self.containers.iter().enumerate() {
            let read = &self.read[c];
            let first_bad = read.iter().zip(&cont.written).position(|(r, w)| r != w);
            assert!(
                first_bad.is_none() && read.len() == cont.written.len(),
                "seed {seed} container {c}: wrote {} read {}, first difference at {:?}: {:?}",
                cont.written.len(),
                read.len(),
                first_bad,
                first_bad.map(|i| String::from_utf8_lossy(&read[i]).into_owned()),
            );
        }
    }
}

fn run(seed: u64, steps: usize) -> TailStats {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut w = World::new(dir.path(), seed);
    w.add_container();
    w.write(&mut rng, 0);
    w.sync();
    for _ in 0..steps {
        let c = rng.below(w.containers.len() as u64) as usize;
        let op = rng.below(100);
        if std::env::var("MODEL_TRACE").is_ok() {
            eprintln!(
                "c{c} op {op} written {}",
                w.containers.get(c).map_or(0, |x| x.written.len())
            );
        }
        match op {
            0..=39 => w.write(&mut rng, c),
            40..=49 => w.rename_rotate(&mut rng, c),
            50..=56 => w.copy_truncate(c),
            57..=63 => w.delete_oldest_rotated(c),
            64..=66 if w.containers.len() < 4 => w.add_container(),
            _ => {
                w.sync();
                let budget = 1 + rng.below(120) as usize;
                w.poll(budget);
            }
        }
    }
    w.drain();
    w.check(seed);
    w.tailer.stats()
}

/// 300 seeds by default; `MODEL_SEED=n` replays one, `MODEL_SEEDS=n` runs n.
fn seeds() -> std::ops::Range<u64> {
    let var = |name| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    match (var("MODEL_SEED"), var("MODEL_SEEDS")) {
        (Some(s), _) => s..s + 1,
        (None, Some(n)) => 0..n,
        (None, None) => 0..300,
    }
}

#[test]
fn every_line_is_read_exactly_once_in_order_through_rotations() {
    let mut totals = TailStats::default();
    for seed in seeds() {
        let s = run(seed, 120);
        totals.rotations += s.rotations;
        totals.truncations += s.truncations;
        totals.lines_read += s.lines_read;
        assert_eq!(s.files_let_go, 0, "seed {seed}");
    }
    // The sequences did exercise what they are for.
    if seeds().count() >= 300 {
        assert!(
            totals.rotations > 300 && totals.truncations > 100,
            "{totals:?}"
        );
    }
}

/// Loki #14462: two rotations before the reader has read the first file; the middle
/// file was never opened, is only on disk, and must not be lost.
#[test]
fn double_rotation_while_the_reader_is_slow_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    let mut w = World::new(dir.path(), 7);
    w.add_container();
    for _ in 0..10 {
        w.write(&mut rng, 0);
    }
    w.sync();
    w.poll(10);
    for _ in 0..2 {
        w.rename_rotate(&mut rng, 0);
        w.write(&mut rng, 0);
    }
    w.sync();
    w.poll(10);
    w.rename_rotate(&mut rng, 0);
    w.write(&mut rng, 0);
    w.drain();
    w.check(7);
    // The middle file was never live for the reader: two rotations seen, one file met
    // already rotated.
    assert_eq!(w.tailer.stats().rotations, 2);
}
