//! The TSDB's ingestion: a realistic node-exporter-like set (100 nodes × 100 series:
//! counters with fractional increments, byte gauges, constant info-style series) scraped
//! every 15 s with a few ms of jitter, one append batch per scrape of a node, the WAL
//! synced per batch (the default policy) or every second.
//!
//! Prints, for one hour of data (240 scrapes × 10,000 series = 2.4 M samples): appends
//! per second on this thread, head chunk bytes per sample and WAL bytes per sample. Then
//! criterion times one whole scrape round (10,000 samples in 100 batches).
//!
//! Then, for 8 h of the same scrapes compacted into 2 h blocks: block bytes per sample.
//!
//! `cargo bench --bench tsdb`; without `--bench` (`cargo test --benches`) a short run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nodepulse::aggregator::model::{Appender, Labels, Sample};
use nodepulse::aggregator::tsdb::{SyncPolicy, Tsdb, TsdbOptions, WalOptions};
use std::time::{Duration, Instant};

const NODES: usize = 100;
const PER_NODE: usize = 100;
const START: i64 = 1_700_000_000_000;

struct Node {
    series: Vec<Labels>,
    values: Vec<f64>,
}

fn nodes() -> Vec<Node> {
    (0..NODES)
        .map(|n| {
            let instance = format!("10.0.{}.{}:9100", n / 250, n % 250);
            let series = (0..PER_NODE)
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
            let values = (0..PER_NODE)
                .map(|j| (j * 1_000_003 % 7919) as f64)
                .collect();
            Node { series, values }
        })
        .collect()
}

/// Scrape `k` of node `n`: counters (40%) grow by a fraction, gauges (30%) wander in
/// whole bytes, the rest stay constant.
fn scrape(node: &mut Node, n: usize, k: i64) -> Vec<(Labels, Vec<Sample>)> {
    let t = START + k * 15_000 + ((n as i64 * 7 + k * 13) % 5) - 2;
    let mut out = Vec::with_capacity(PER_NODE);
    for (j, labels) in node.series.iter().enumerate() {
        let h = (j as i64 * 31 + k * 17 + n as i64) % 97;
        let v = &mut node.values[j];
        match j % 10 {
            0..=3 => *v += h as f64 * 0.01,
            4..=6 => *v += ((h - 48) * 4096) as f64,
            _ => {}
        }
        out.push((labels.clone(), vec![Sample { t, v: *v }]));
    }
    out
}

fn hour(scrapes: i64, sync: SyncPolicy) {
    let dir = tempfile::tempdir().unwrap();
    let wal = WalOptions {
        sync,
        ..Default::default()
    };
    let tsdb = Tsdb::open(
        dir.path(),
        TsdbOptions {
            wal,
            ..Default::default()
        },
    )
    .unwrap();
    let mut nodes = nodes();
    let batches: Vec<Vec<_>> = (0..scrapes)
        .flat_map(|k| (0..NODES).map(move |n| (n, k)))
        .map(|(n, k)| scrape(&mut nodes[n], n, k))
        .collect();
    let started = Instant::now();
    for b in &batches {
        tsdb.append(b).unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let st = tsdb.head_stats();
    let wal = tsdb.wal_bytes().unwrap();
    let samples = st.samples as f64;
    println!(
        "tsdb: {} series x {scrapes} scrapes, {sync:?}: {:.0} samples/s appended ({} batches); \
         head chunks {:.2} bytes/sample ({} chunks); WAL {:.2} bytes/sample",
        st.series,
        samples / secs,
        batches.len(),
        st.chunk_bytes as f64 / samples,
        st.chunks,
        wal as f64 / samples
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
    let mut nodes: Vec<Node> = nodes().into_iter().take(n).collect();
    for k in 0..8 * 240 {
        for (i, node) in nodes.iter_mut().enumerate() {
            tsdb.append(&scrape(node, i, k)).unwrap();
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
    blocks_8h(if full { NODES } else { 10 });
    let scrapes = if full { 240 } else { 8 };
    hour(scrapes, SyncPolicy::Interval(Duration::from_secs(1)));
    hour(scrapes, SyncPolicy::EveryBatch);
    let dir = tempfile::tempdir().unwrap();
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let mut nodes = nodes();
    let mut k = 0;
    let mut g = c.benchmark_group("tsdb");
    g.throughput(Throughput::Elements((NODES * PER_NODE) as u64));
    g.bench_function("append one scrape round (100 batches x 100 samples)", |b| {
        b.iter(|| {
            for (n, node) in nodes.iter_mut().enumerate() {
                tsdb.append(&scrape(node, n, k)).unwrap();
            }
            k += 1;
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
