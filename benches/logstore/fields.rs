//! The `codecs` phase's format-4 rows: the same blocks encoded as templates and variable
//! columns ([`fields`]), zstd 1 over each: stored / raw line bytes by log kind beside
//! format 2's, where the bytes go (each section compressed alone), encode speed and
//! decompress + rebuild speed (thread CPU), every line checked to come back as it was.

use super::{thread_cpu, MIB};
use nodepulse::aggregator::logstore::block::{self, HeadEntry};
use nodepulse::aggregator::logstore::codec::Decompressor;
use nodepulse::aggregator::logstore::{fields, Codec};

const KINDS: [&str; 5] = ["nginx", "envoy", "json", "klog", "java"];

/// `blocks[i]` is a block of stream `i % 100` (so of log kind `i % 5`).
pub fn measure(blocks: &[Vec<HeadEntry>]) {
    let line_bytes = |b: &Vec<HeadEntry>| b.iter().map(|e| e.line.len()).sum::<usize>();
    let raw: usize = blocks.iter().map(line_bytes).sum();
    let cpu = thread_cpu();
    let encoded: Vec<(Vec<u8>, fields::Sections)> = blocks
        .iter()
        .map(|b| {
            let mut out = Vec::new();
            let s = fields::encode(b, &mut out);
            (out, s)
        })
        .collect();
    let encode_cpu = thread_cpu() - cpu;
    let codec = Codec::Zstd(1);
    let packed: Vec<Vec<u8>> = encoded.iter().map(|(e, _)| codec.compress(e)).collect();
    let (mut v2, mut v3, mut by_raw) = ([0usize; 5], [0usize; 5], [0usize; 5]);
    for (i, b) in blocks.iter().enumerate() {
        let mut old = Vec::new();
        block::encode(b, &mut old);
        v2[i % 5] += codec.compress(&old).len();
        v3[i % 5] += packed[i].len();
        by_raw[i % 5] += line_bytes(b);
    }
    let ratio = |x: &[usize; 5], k: usize| x[k] as f64 / by_raw[k] as f64;
    let all = |x: &[usize; 5]| x.iter().sum::<usize>() as f64 / raw as f64;
    println!(
        "  format 4 (fields) + zstd 1: {:.4} of raw line bytes (format 2 + zstd 1: {:.4}); encode {:.0} MiB/s",
        all(&v3),
        all(&v2),
        raw as f64 / MIB / encode_cpu.as_secs_f64()
    );
    for (k, name) in KINDS.iter().enumerate() {
        println!(
            "    {name}: format 4 {:.4}, format 2 {:.4}",
            ratio(&v3, k),
            ratio(&v2, k)
        );
    }
    sections(&encoded, raw);
    rebuild(&encoded, &packed, blocks, raw);
}

/// Each section of every block compressed alone by zstd 1, over raw line bytes.
fn sections(encoded: &[(Vec<u8>, fields::Sections)], raw: usize) {
    let mut sizes = [0usize; 6];
    for (e, s) in encoded {
        for (i, (_, r)) in s.ranges().into_iter().enumerate() {
            sizes[i] += Codec::Zstd(1).compress(&e[r]).len();
        }
    }
    let names = encoded[0].1.ranges().map(|(n, _)| n);
    let parts: Vec<String> = names
        .iter()
        .zip(sizes)
        .map(|(n, s)| format!("{n} {:.4}", s as f64 / raw as f64))
        .collect();
    println!("    sections, each zstd-1 alone: {}", parts.join(", "));
}

/// Decompresses and rebuilds every block (timed), then checks every line.
fn rebuild(
    encoded: &[(Vec<u8>, fields::Sections)],
    packed: &[Vec<u8>],
    blocks: &[Vec<HeadEntry>],
    raw: usize,
) {
    let (mut d, mut dec) = (Decompressor::default(), fields::Decoder::default());
    let (mut unpacked, mut lines, mut slots) = (Vec::new(), Vec::new(), Vec::new());
    let cpu = thread_cpu();
    for (p, (e, _)) in packed.iter().zip(encoded) {
        d.decompress(Codec::Zstd(1), p, e.len(), &mut unpacked)
            .unwrap();
        dec.decode(&unpacked, &mut lines, &mut slots).unwrap();
    }
    let took = thread_cpu() - cpu;
    println!(
        "    decompress + rebuild lines {:.0} MiB/s",
        raw as f64 / MIB / took.as_secs_f64()
    );
    for ((e, _), b) in encoded.iter().zip(blocks) {
        dec.decode(e, &mut lines, &mut slots).unwrap();
        let got = slots
            .iter()
            .map(|s| (s.ts, &lines[s.start..s.start + s.len]));
        assert!(got.eq(b.iter().map(|e| (e.ts, e.line.as_bytes()))));
    }
}
