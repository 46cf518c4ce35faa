//! The TSDB's ingestion: a realistic node-exporter-like set of 10,000 series (counters
//! with fractional increments, byte gauges, constant info-style series) scraped every
//! 15 s with a few ms of jitter, one append batch per scrape of a target. Two shapes:
//! 100 targets × 100 series (100-sample batches) and 20 targets × 500 series (a real
//! scrape's batch).
//!
//! Prints samples/s and µs per sample, by wall clock and by the appending thread's CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`), for:
//! - the WAL synced every second (CPU-bound: the one-core figure), one hour of data
//!   (240 scrapes = 2.4 M samples), batch generation outside the timed spans;
//! - the WAL synced per batch (the default), 1 appender and 16 concurrent appenders
//!   (group commit: fsyncs shared), fewer scrapes since fsync-bound.
//!
//! Then criterion times one whole scrape round (10,000 samples in 100 batches).
//!
//! Then, for 8 h of the same scrapes compacted into 2 h blocks: block bytes per sample.
//!
//! `cargo bench --bench tsdb`; without `--bench` (`cargo test --benches`) a short run.

#[path = "common/cpu_clock.rs"]
mod cpu_clock;

use cpu_clock::thread_cpu;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nodepulse::aggregator::model::{Appender, Labels, Sample};
use nodepulse::aggregator::tsdb::{SyncPolicy, Tsdb, TsdbOptions, WalOptions};
use std::time::{Duration, Instant};

const START: i64 = 1_700_000_000_000;
const SERIES: usize = 10_000;

type Batch = Vec<(Labels, Vec<Sample>)>;

struct Target {
    n: usize,
    series: Vec<Labels>,
    values: Vec<f64>,
}

fn targets(per_target: usize) -> Vec<Target> {
    (0..SERIES / per_target)
        .map(|n| {
            let instance = format!("10.0.{}.{}:9100", n / 250, n % 250);
            let series = (0..per_target)
                .map(|j| {
                    let name = format!("node_metric_{}", j % 20);
                    let idx = j.to_string();
                    Labels::from_pairs(&[
                        ("__name__", &name),
                        ("instance", &instance),
                        ("job", "node"),
                        ("idx", &idx),
                    ])
                })
                .collect();
            let values = (0..per_target)
                .map(|j| (j * 1_000_003 % 7919) as f64)
                .collect();
            Target { n, series, values }
        })
        .collect()
}

/// Scrape `k` of a target: counters (40%) grow by a fraction, gauges (30%) wander in
/// whole bytes, the rest stay constant.
fn scrape(target: &mut Target, k: i64) -> Batch {
    let n = target.n as i64;
    let t = START + k * 15_000 + ((n * 7 + k * 13) % 5) - 2;
    let mut out = Vec::with_capacity(target.series.len());
    for (j, labels) in target.series.iter().enumerate() {
        let h = (j as i64 * 31 + k * 17 + n) % 97;
        let v = &mut target.values[j];
        match j % 10 {
            0..=3 => *v += h as f64 * 0.01,
            4..=6 => *v += ((h - 48) * 4096) as f64,
            _ => {}
        }
        out.push((labels.clone(), vec![Sample { t, v: *v }]));
    }
    out
}

/// Wall and CPU time spent appending.
#[derive(Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

impl Spent {
    fn time(&mut self, f: impl FnOnce()) {
        let (w, c) = (Instant::now(), thread_cpu());
        f();
        self.cpu += thread_cpu() - c;
        self.wall += w.elapsed();
    }
}

fn open(dir: &std::path::Path, sync: SyncPolicy) -> Tsdb {
    let wal = WalOptions {
        sync,
        ..Default::default()
    };
    let opts = TsdbOptions {
        wal,
        ..Default::default()
    };
    Tsdb::open(dir, opts).unwrap()
}

/// One appender, `scrapes` rounds of every target; batches built round by round.
fn one_appender(scrapes: i64, per_target: usize, sync: SyncPolicy) {
    let dir = tempfile::tempdir().unwrap();
    let tsdb = open(dir.path(), sync);
    let mut targets = targets(per_target);
    let mut spent = Spent::default();
    for k in 0..scrapes {
        let round: Vec<Batch> = targets.iter_mut().map(|t| scrape(t, k)).collect();
        spent.time(|| {
            round.iter().for_each(|b| {
                tsdb.append(b).unwrap();
            })
        });
    }
    let label = format!("1 appender, {per_target}-sample batches, {sync:?}");
    report(&label, &tsdb, &spent, Some(spent.cpu));
}

/// `threads` appenders, each owning every `threads`-th target, all batches prebuilt.
fn many_appenders(threads: usize, scrapes: i64, per_target: usize, sync: SyncPolicy) {
    let dir = tempfile::tempdir().unwrap();
    let tsdb = open(dir.path(), sync);
    let mut targets = targets(per_target);
    let mut work: Vec<Vec<Batch>> = (0..threads).map(|_| Vec::new()).collect();
    for k in 0..scrapes {
        for t in targets.iter_mut() {
            work[t.n % threads].push(scrape(t, k));
        }
    }
    let mut spent = Spent::default();
    spent.time(|| {
        std::thread::scope(|s| {
            for batches in &work {
                let tsdb = &tsdb;
                s.spawn(move || {
                    batches.iter().for_each(|b| {
                        tsdb.append(b).unwrap();
                    })
                });
            }
        })
    });
    let label = format!("{threads} appenders, {per_target}-sample batches, {sync:?}");
    report(&label, &tsdb, &spent, None);
}

fn report(label: &str, tsdb: &Tsdb, spent: &Spent, cpu: Option<Duration>) {
    let st = tsdb.head_stats();
    let n = st.samples as f64;
    let per_s = |d: Duration| n / d.as_secs_f64();
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
    let cpu = cpu.map_or(String::new(), |c| {
        format!(
            "; thread CPU {:.0} samples/s, {:.3} µs/sample",
            per_s(c),
            us(c)
        )
    });
    println!(
        "tsdb: {label}: {} samples; wall {:.0} samples/s, {:.3} µs/sample{cpu}; {} fsyncs; \
         head chunks {:.2} B/sample; WAL {:.2} B/sample",
        st.samples,
        per_s(spent.wall),
        us(spent.wall),
        tsdb.wal_fsyncs(),
        st.chunk_bytes as f64 / n,
        tsdb.wal_bytes().unwrap() as f64 / n
    );
}

/// 8 h of scrapes of `n` nodes, compacted: the blocks' bytes per sample on disk.
fn blocks_8h(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Interval(Duration::from_secs(1)),
            ..Default::default()
        },
        compact_every: None,
        ..Default::default()
    };
    let tsdb = Tsdb::open(dir.path(), opts).unwrap();
    let mut nodes: Vec<Target> = targets(100).into_iter().take(n).collect();
    for k in 0..8 * 240 {
        for node in nodes.iter_mut() {
            tsdb.append(&scrape(node, k)).unwrap();
        }
    }
    tsdb.compact().unwrap();
    let blocks = tsdb.blocks();
    let samples: u64 = blocks.iter().map(|b| b.stats.num_samples).sum();
    let bytes = tsdb.metrics().blocks_bytes;
    println!(
        "tsdb: {n} nodes x 8 h compacted: {} blocks, {samples} samples, {:.3} bytes/sample on disk",
        blocks.len(),
        bytes as f64 / samples as f64
    );
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    blocks_8h(if full { SERIES / 100 } else { 10 });
    let (hour, synced) = if full { (240, 10) } else { (8, 2) };
    let second = SyncPolicy::Interval(Duration::from_secs(1));
    one_appender(hour, 100, second);
    one_appender(hour, 500, second);
    one_appender(synced, 100, SyncPolicy::EveryBatch);
    one_appender(synced, 500, SyncPolicy::EveryBatch);
    many_appenders(16, synced, 100, SyncPolicy::EveryBatch);
    many_appenders(16, synced * 5, 500, SyncPolicy::EveryBatch);
    let dir = tempfile::tempdir().unwrap();
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let mut targets = targets(100);
    let mut k = 0;
    let mut g = c.benchmark_group("tsdb");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("append one scrape round (100 batches x 100 samples)", |b| {
        b.iter(|| {
            for t in targets.iter_mut() {
                tsdb.append(&scrape(t, k)).unwrap();
            }
            k += 1;
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
