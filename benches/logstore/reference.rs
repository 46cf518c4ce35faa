//! The machine's speed at the moment, to read a run's figures by: a fixed piece of work
//! that no change to the store alters (zstd level 1 over up to 32 MiB of the corpus's
//! lines, 1 MiB at a time, compressed, then decompressed), timed by the thread's CPU. On a
//! shared VM one binary runs up to 40 % slower from one hour to the next; two runs are
//! compared fairly by their figures' ratios to this one.

use super::corpus::Corpus;
use super::{thread_cpu, MIB, START};

/// Prints the reference speeds over `mib` MiB (at most 32), marked `when`.
pub fn print(when: &str, mib: u64) {
    let blocks = lines(mib.clamp(1, 32) as usize);
    let raw: usize = blocks.iter().map(Vec::len).sum();
    let cpu = thread_cpu();
    let packed: Vec<Vec<u8>> = blocks
        .iter()
        .map(|b| zstd::bulk::compress(b, 1).expect("zstd compresses any input"))
        .collect();
    let compress = thread_cpu() - cpu;
    let mut d = zstd::bulk::Decompressor::new().expect("a zstd context");
    let mut out = Vec::with_capacity(2 << 20);
    let cpu = thread_cpu();
    for p in &packed {
        out.clear();
        d.decompress_to_buffer(p, &mut out)
            .expect("what it compressed");
    }
    let decompress = thread_cpu() - cpu;
    let mibs = |d: std::time::Duration| raw as f64 / MIB / d.as_secs_f64();
    println!(
        "reference ({when}): zstd-1 compress {:.0} MiB/s, decompress {:.0} MiB/s (thread CPU)",
        mibs(compress),
        mibs(decompress)
    );
}

/// `mib` MiB of the corpus's lines (its fixed seed), in blocks of 1 MiB.
fn lines(mib: usize) -> Vec<Vec<u8>> {
    let mut c = Corpus::new(7, START);
    let mut blocks = vec![Vec::with_capacity(1 << 20)];
    while blocks.len() <= mib {
        let (push, _) = c.push(0..100, 100);
        for e in push.into_iter().flat_map(|s| s.entries) {
            let last = blocks.last_mut().expect("one block at least");
            last.extend_from_slice(e.line.as_bytes());
            last.push(b'\n');
            if last.len() >= 1 << 20 {
                blocks.push(Vec::with_capacity(1 << 20));
            }
        }
    }
    blocks.truncate(mib);
    blocks
}
