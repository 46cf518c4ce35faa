//! The log store on a realistic Kubernetes corpus ([`corpus`]). Each phase runs in its
//! own child process (so RSS is its own):
//!
//! - `codecs`: the corpus cut into 256 KiB blocks as the store encodes them; for zstd
//!   and deflate at two levels each, compressed/raw, compress and decompress MiB/s;
//!   then block format 4 (templates and variable columns, [`fields`]) beside format 2;
//! - `ingest`: 1 GiB of raw log pushed into a store (100 streams, 100 lines each a
//!   push, WAL fsynced per push), timed by wall clock and by the pushing thread's CPU;
//!   then shutdown (every chunk written; ingest again with its CPU counted in), stored
//!   bytes / raw bytes; then line-filter scans of every stream (`must_contain`) over
//!   the whole 1 GiB, in GiB/s of raw log; before and after, the machine's speed at the
//!   moment ([`reference`]: zstd-1 over a fixed 32 MiB, or the run's size when smaller), to
//!   compare runs by;
//! - `rss`: 10,000 streams pushed 200 lines each, then VmRSS and VmHWM.
//!
//! `cargo bench --bench logstore` (1 GiB; `LOGSTORE_BENCH_MIB=n` for another size,
//! `LOGSTORE_BENCH_BLOCK_KIB=n` for another block size than the store's default,
//! `LOGSTORE_BENCH_FORMAT=2` or `4` (3 writes 4) to ingest (and hold, in `rss`) in that chunk format
//! instead of the default (4),
//! `LOGSTORE_BENCH_ZSTD=n` to cut blocks with zstd level `n` instead of the store's default,
//! `LOGSTORE_BENCH_CODECS=fields` for only format 4's rows at 1 MiB blocks,
//! `LOGSTORE_BENCH_NEEDLES=500,kube-probe/1.29` for only those scans (comma-separated;
//! default the four: `payment declined`, `orderId=999999 `, `kube-probe/1.29`, `500`));
//! without `--bench` (`cargo test --benches`) a 16 MiB run.

mod corpus;
#[path = "../common/cpu_clock.rs"]
mod cpu_clock;
mod fields;
mod reference;

use corpus::Corpus;
use cpu_clock::thread_cpu;
use nodepulse::aggregator::logstore::block::{self, HeadEntry};
use nodepulse::aggregator::logstore::codec::Decompressor;
use nodepulse::aggregator::logstore::{bloom, chunk_file};
use nodepulse::aggregator::logstore::{Codec, LogStore, LogStoreOptions};
use nodepulse::aggregator::model::logs::{Direction, Flow, LogAppender, LogReader};
use std::process::Command;
use std::time::{Duration, Instant};

const START: i64 = 1_800_000_000_000_000_000;
const MIB: f64 = (1 << 20) as f64;

fn far_future() -> i64 {
    START + 100 * 86_400 * 1_000_000_000
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let mib: u64 = std::env::var("LOGSTORE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1024 } else { 16 });
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        match args[i + 1].as_str() {
            "codecs" if std::env::var("LOGSTORE_BENCH_CODECS").is_ok_and(|c| c == "fields") => {
                fields::measure(&corpus_blocks(mib.min(64), 4800).0);
            }
            "codecs" => {
                codecs(mib.min(64), 1200);
                codecs(mib.min(64), 2400); // ~512 KiB blocks
                codecs(mib.min(64), 4800); // ~1 MiB blocks
            }
            "ingest" => ingest(mib),
            _ => rss(if full { 10_000 } else { 500 }),
        }
        return;
    }
    for phase in ["codecs", "ingest", "rss"] {
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--phase", phase])
            .env("LOGSTORE_BENCH_MIB", mib.to_string())
            .args(full.then_some("--bench"))
            .status()
            .unwrap();
        assert!(status.success(), "phase {phase}: {status}");
    }
}

/// The corpus cut into blocks of `lines` entries, as entries and as format-2 blocks.
fn corpus_blocks(mib: u64, lines: usize) -> (Vec<Vec<HeadEntry>>, Vec<Vec<u8>>, u64) {
    let mut c = Corpus::new(1, START);
    let (mut blocks, mut raw_total) = (Vec::new(), 0u64);
    let mut entry_blocks = Vec::new();
    while raw_total < mib << 20 {
        let (push, _) = c.push(0..100, lines);
        for s in push {
            let entries: Vec<HeadEntry> = s
                .entries
                .into_iter()
                .map(|e| HeadEntry {
                    ts: e.ts,
                    line: e.line,
                    metadata: e.metadata,
                })
                .collect();
            let mut raw = Vec::new();
            block::encode(&entries, &mut raw);
            raw_total += raw.len() as u64;
            blocks.push(raw);
            entry_blocks.push(entries);
        }
    }
    (entry_blocks, blocks, raw_total)
}

fn codecs(mib: u64, lines: usize) {
    let (entry_blocks, blocks, raw_total) = corpus_blocks(mib, lines);
    println!(
        "codecs: {} blocks of {lines} lines, {:.1} MiB raw (block encoding)",
        blocks.len(),
        raw_total as f64 / MIB
    );
    anatomy(&blocks, raw_total);
    for codec in [
        Codec::Zstd(1),
        Codec::Zstd(3),
        Codec::Zstd(9),
        Codec::Deflate(1),
        Codec::Deflate(6),
    ] {
        let packed = measure(&format!("{codec:?}"), raw_total, &blocks, |b| {
            codec.compress(b)
        });
        decompress_speed(codec, &packed, &blocks, raw_total);
    }
    use zstd::zstd_safe::CParameter;
    for (name, p) in [
        ("zstd 1, min match 4", CParameter::MinMatch(4)),
        ("zstd 1, hash log 17", CParameter::HashLog(17)),
    ] {
        let mut z = zstd::bulk::Compressor::new(1).unwrap();
        z.set_parameter(p).unwrap();
        measure(name, raw_total, &blocks, |b| z.compress(b).unwrap());
    }
    fields::measure(&entry_blocks);
}

/// Compresses every block with `f`; prints the ratio and speed; returns the blocks.
fn measure(
    name: &str,
    raw_total: u64,
    blocks: &[Vec<u8>],
    mut f: impl FnMut(&[u8]) -> Vec<u8>,
) -> Vec<Vec<u8>> {
    let t = Instant::now();
    let packed: Vec<Vec<u8>> = blocks.iter().map(|b| f(b)).collect();
    let comp = t.elapsed();
    let size: usize = packed.iter().map(|p| p.len()).sum();
    println!(
        "  {name}: ratio {:.4}, compress {:.0} MiB/s",
        size as f64 / raw_total as f64,
        raw_total as f64 / MIB / comp.as_secs_f64()
    );
    packed
}

fn decompress_speed(codec: Codec, packed: &[Vec<u8>], blocks: &[Vec<u8>], raw_total: u64) {
    let (mut d, mut out) = (Decompressor::default(), Vec::new());
    let t = Instant::now();
    for (p, b) in packed.iter().zip(blocks) {
        d.decompress(codec, p, b.len(), &mut out).unwrap();
    }
    let dec = t.elapsed();
    println!(
        "    decompress {:.0} MiB/s",
        raw_total as f64 / MIB / dec.as_secs_f64()
    );
}

/// Where a block's bytes go: its header (times, lengths) and its lines, raw and each
/// compressed alone by zstd 1; distinct trigrams per block (what a bloom must hold);
/// and the previous block of the stream as a raw-content dictionary (an upper bound on
/// what a trained dictionary can give).
fn anatomy(blocks: &[Vec<u8>], raw_total: u64) {
    let (mut head, mut head_z, mut lines_z, mut dict_z) = (0usize, 0usize, 0usize, 0usize);
    let (mut trigrams, mut entries) = (Vec::new(), 0);
    let mut kinds = [(0usize, 0usize, 0usize); 5]; // raw, zstd-1, entries by log kind
    for (i, b) in blocks.iter().enumerate() {
        let n = block::decode_slots(b, block::Layout::Columns)
            .unwrap()
            .len();
        entries += n;
        let k = &mut kinds[i % 5]; // stream i % 100 is of kind i % 5
        let z = Codec::Zstd(1).compress(b).len();
        (k.0, k.1, k.2) = (k.0 + b.len(), k.1 + z, k.2 + n);
        let lines = block::lines(b).unwrap();
        let h = &b[..b.len() - lines.len()];
        head += h.len();
        head_z += Codec::Zstd(1).compress(h).len();
        lines_z += Codec::Zstd(1).compress(lines).len();
        // blocks go round the 100 streams: the stream's previous block is 100 back
        let prev = if i >= 100 {
            &blocks[i - 100][..]
        } else {
            &[][..]
        };
        let dict = &prev[prev.len().saturating_sub(64 << 10)..];
        let mut z = zstd::bulk::Compressor::with_dictionary(1, dict).unwrap();
        dict_z += z.compress(b).unwrap().len();
        if i < 500 {
            let set: std::collections::HashSet<&[u8]> = lines.windows(3).collect();
            trigrams.push(set.len());
        }
    }
    let r = |x: usize| x as f64 / raw_total as f64;
    println!(
        "  anatomy: header {:.4} of raw ({:.4} zstd-1 alone), lines {:.4} ({:.4} zstd-1 alone); with the previous 64 KiB as dictionary zstd-1 {:.4}",
        r(head), r(head_z), 1.0 - r(head), r(lines_z), r(dict_z)
    );
    println!(
        "  {entries} entries, {:.1} raw bytes each",
        raw_total as f64 / entries as f64
    );
    for (kind, (raw, z, n)) in kinds.iter().enumerate() {
        println!(
            "  kind {kind}: {:.1} raw bytes an entry, zstd-1 {:.4} ({:.1} bytes an entry)",
            *raw as f64 / *n as f64,
            *z as f64 / *raw as f64,
            *z as f64 / *n as f64
        );
    }
    let slots: Vec<Vec<block::Slot>> = blocks
        .iter()
        .map(|b| block::decode_slots(b, block::Layout::Columns).unwrap())
        .collect();
    let cpu = thread_cpu();
    let mut filters = 0;
    for (b, slots) in blocks.iter().zip(&slots) {
        let lines = slots.iter().map(|s| &b[s.start..s.start + s.len]);
        filters += bloom::build(lines).len();
    }
    println!(
        "  trigram filters: {:.4} of raw, built at {:.0} MiB/s (thread CPU)",
        filters as f64 / raw_total as f64,
        raw_total as f64 / MIB / (thread_cpu() - cpu).as_secs_f64()
    );
    trigrams.sort_unstable();
    println!(
        "  distinct trigrams per block: median {}, max {}",
        trigrams[trigrams.len() / 2],
        trigrams[trigrams.len() - 1]
    );
}

fn ingest(mib: u64) {
    reference::print("before the ingest", mib);
    let dir = tempfile::tempdir_in(
        std::env::var("LOGSTORE_BENCH_DIR")
            .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .unwrap();
    let mut opts = LogStoreOptions {
        now: far_future,
        ..Default::default()
    };
    format_from_env(&mut opts);
    if let Ok(kib) = std::env::var("LOGSTORE_BENCH_BLOCK_KIB") {
        opts.block_bytes = kib.parse::<usize>().unwrap() << 10; // to compare block sizes
    }
    let store = LogStore::open(dir.path(), opts.clone()).unwrap();
    let mut c = Corpus::new(2, START);
    let (mut raw, mut wall, mut cpu, mut pushes) = (0u64, Duration::ZERO, Duration::ZERO, 0);
    while raw < mib << 20 {
        let (push, bytes) = c.push(0..100, 100);
        let (t, u) = (Instant::now(), thread_cpu());
        let out = store.push(push).unwrap();
        (wall, cpu) = (wall + t.elapsed(), cpu + (thread_cpu() - u));
        assert_eq!(out.refused, 0);
        raw += bytes;
        pushes += 1;
    }
    let (t, u) = (Instant::now(), thread_cpu());
    store.shutdown().unwrap();
    let (shut, shut_cpu) = (t.elapsed(), thread_cpu() - u);
    let mibs = |d: Duration| raw as f64 / MIB / d.as_secs_f64();
    println!("ingest: {:.1} MiB raw in {pushes} pushes: wall {:.1} MiB/s, thread CPU {:.1} MiB/s; shutdown flush {:.2} s", raw as f64 / MIB, mibs(wall), mibs(cpu), shut.as_secs_f64());
    // the blocks still open when pushing stops are encoded, compressed and written by
    // the shutdown: counted in, every pushed byte has been stored
    println!(
        "  with the shutdown flush: thread CPU {:.1} MiB/s",
        mibs(cpu + shut_cpu)
    );
    let stored = dir_bytes(&dir.path().join("chunks"))
        + std::fs::metadata(dir.path().join("index")).unwrap().len();
    println!(
        "stored: {:.1} MiB chunks + index = {:.4} of raw",
        stored as f64 / MIB,
        stored as f64 / raw as f64
    );
    framing(dir.path(), raw);
    let pressure = store
        .metrics()
        .into_iter()
        .find(|r| r.0 == "nodepulse_logstore_memory_pressure_flushes_total")
        .unwrap()
        .3;
    println!("  chunks sealed by memory pressure: {pressure}");
    drop(store);
    let store = LogStore::open(dir.path(), opts).unwrap();
    for needle in scan_needles() {
        scan(&store, &needle, raw);
    }
    reference::print("after the scans", mib);
}

/// The scans' needles: `LOGSTORE_BENCH_NEEDLES` (comma-separated) or the four defaults.
fn scan_needles() -> Vec<String> {
    match std::env::var("LOGSTORE_BENCH_NEEDLES") {
        Ok(list) => list.split(',').map(str::to_string).collect(),
        Err(_) => [
            "payment declined",
            "orderId=999999 ",
            "kube-probe/1.29",
            "500",
        ]
        .map(str::to_string)
        .to_vec(),
    }
}

fn scan(store: &LogStore, needle: &str, raw: u64) {
    let streams = store.streams(&[], i64::MIN, i64::MAX);
    let blocks = || {
        let m = store.metrics();
        let get = |name: &str| m.iter().find(|r| r.0 == name).map_or(0, |r| r.3);
        (
            get("nodepulse_logstore_scan_blocks_read_total"),
            get("nodepulse_logstore_scan_blocks_skipped_total"),
        )
    };
    let before = blocks();
    let (t, u) = (Instant::now(), thread_cpu());
    let mut hits = 0u64;
    for s in &streams {
        store
            .scan(
                s.id,
                i64::MIN,
                i64::MAX,
                Direction::Forward,
                &[needle.as_bytes()],
                &mut |e| {
                    hits += e.line.contains(needle) as u64;
                    Flow::Continue
                },
            )
            .unwrap();
    }
    let (wall, cpu) = (t.elapsed(), thread_cpu() - u);
    let after = blocks();
    let gibs = |d: Duration| raw as f64 / MIB / 1024.0 / d.as_secs_f64();
    println!(
        "scan |= {needle:?}: {hits} lines; wall {:.2} GiB/s, thread CPU {:.2} GiB/s; blocks read {}, skipped {}",
        gibs(wall),
        gibs(cpu),
        after.0 - before.0,
        after.1 - before.1
    );
}

fn rss(streams: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = LogStoreOptions {
        now: far_future,
        ..Default::default()
    };
    format_from_env(&mut opts);
    let store = LogStore::open(dir.path(), opts).unwrap();
    let mut c = Corpus::new(3, START);
    let mut raw = 0;
    for _ in 0..10 {
        for first in (0..streams).step_by(1000) {
            let (push, bytes) = c.push(first..(first + 1000).min(streams), 20);
            store.push(push).unwrap();
            raw += bytes;
        }
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or("")
            .to_string()
    };
    let mem = store
        .metrics()
        .into_iter()
        .find(|r| r.0 == "nodepulse_logstore_memory_bytes")
        .unwrap()
        .3;
    println!(
        "rss: {streams} streams, {:.1} MiB raw pushed, {:.1} MiB of chunks in memory; {}; {}",
        raw as f64 / MIB,
        mem as f64 / MIB,
        field("VmRSS"),
        field("VmHWM")
    );
}

/// `LOGSTORE_BENCH_FORMAT`: the chunk format to write, to compare the formats;
/// `LOGSTORE_BENCH_ZSTD`: the zstd level to cut blocks with, to compare the levels.
fn format_from_env(opts: &mut LogStoreOptions) {
    if let Ok(l) = std::env::var("LOGSTORE_BENCH_ZSTD") {
        let level = l.parse().expect("LOGSTORE_BENCH_ZSTD: a zstd level");
        opts.codec = nodepulse::aggregator::logstore::Codec::Zstd(level);
        opts.codec.validate().expect("LOGSTORE_BENCH_ZSTD");
    }
    let n = std::env::var("LOGSTORE_BENCH_FORMAT").ok();
    if let Some(layout) = n
        .and_then(|n| n.parse().ok())
        .and_then(block::Layout::written_as)
    {
        opts.block_layout = layout;
    }
}

/// How the stored bytes split: compressed blocks, chunk-file headers, the index.
fn framing(dir: &std::path::Path, raw: u64) {
    let (mut files, mut blocks, mut total) = (0, 0u64, 0u64);
    for e in std::fs::read_dir(dir.join("chunks")).unwrap() {
        let (h, size) = chunk_file::read_header(&e.unwrap().path()).unwrap();
        files += 1;
        total += size;
        blocks += h.blocks.iter().map(|b| u64::from(b.len)).sum::<u64>();
    }
    let index = std::fs::metadata(dir.join("index")).unwrap().len();
    let r = |x: u64| x as f64 / raw as f64;
    println!(
        "  {files} chunk files: blocks {:.4} of raw, chunk headers {:.4}, index {:.4}",
        r(blocks),
        r(total - blocks),
        r(index)
    );
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}
