//! Our XOR chunk against Prometheus's own: `promtool tsdb create-blocks-from openmetrics`
//! writes a block of our random series; every chunk in its chunks file must decode to
//! the samples we wrote and re-encode, with our encoder, to the very same bytes.
//! Needs `promtool` (`apt-get install prometheus`): skipped when missing, unless CI=true.

use nodepulse::aggregator::tsdb::chunk::{XorEncoder, XorIter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn promtool() -> Option<PathBuf> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found && std::env::var("CI").as_deref() == Ok("true") {
        panic!("promtool missing (apt-get install prometheus) and CI=true");
    }
    found.then(|| PathBuf::from("promtool"))
}

/// A small deterministic generator (xorshift), so the corpus is the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Go's `math.NaN()`, what Prometheus parses "NaN" to.
const GO_NAN: u64 = 0x7ff8_0000_0000_0001;

fn value(rng: &mut Rng, i: u64, prev: f64) -> f64 {
    match rng.next() % 12 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => -0.0,
        4 => prev,
        5 => f64::from_bits(rng.next() >> 2),
        6 => (rng.next() % 1000) as f64 / 8.0,
        _ => prev + (i % 97) as f64 * 0.25,
    }
}

fn step(rng: &mut Rng) -> i64 {
    match rng.next() % 10 {
        0 => 1 + (rng.next() % 10_000_000) as i64, // a long gap (wide dod buckets)
        1 => 1 + (rng.next() % 3000) as i64,
        2..=5 => 15_000 + (rng.next() % 40) as i64 - 20,
        _ => 15_000,
    }
}

/// The OpenMetrics text and, per series, the samples as (ms, value bits).
fn corpus() -> (String, BTreeMap<String, Vec<(i64, u64)>>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = String::from("# TYPE m gauge\n");
    let mut want = BTreeMap::new();
    for s in 0..12 {
        let (mut t, mut v) = (1_600_000_000_000i64, 0.0f64);
        let mut samples = Vec::new();
        for i in 0..700 {
            t += step(&mut rng);
            v = value(&mut rng, i, if v.is_finite() { v } else { 1.0 });
            text += &format!("m{{s=\"{s}\"}} {} {}.{:03}\n", om(v), t / 1000, t % 1000);
            samples.push((t, if v.is_nan() { GO_NAN } else { v.to_bits() }));
        }
        want.insert(s.to_string(), samples);
    }
    text += "# EOF\n";
    (text, want)
}

fn om(v: f64) -> String {
    match v {
        _ if v.is_nan() => "NaN".into(),
        f64::INFINITY => "+Inf".into(),
        f64::NEG_INFINITY => "-Inf".into(),
        _ => format!("{v:?}"),
    }
}

/// The chunks of a block's `chunks/NNNNNN` files: after the 8-byte header, each chunk is
/// uvarint length, encoding byte, data, CRC32 (Castagnoli, not checked here).
fn block_chunks(block: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(block.join("chunks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        let mut at = 8;
        while at < bytes.len() {
            let (mut len, mut shift) = (0usize, 0);
            loop {
                let b = bytes[at];
                at += 1;
                len |= ((b & 0x7f) as usize) << shift;
                shift += 7;
                if b < 0x80 {
                    break;
                }
            }
            assert_eq!(bytes[at], 1, "XOR encoding");
            out.push(bytes[at + 1..at + 1 + len].to_vec());
            at += 1 + len + 4;
        }
    }
    out
}

#[test]
fn prometheus_chunks_decode_and_re_encode_to_the_same_bytes() {
    let Some(promtool) = promtool() else {
        eprintln!("skipped: promtool not installed (apt-get install prometheus)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (text, want) = corpus();
    std::fs::write(dir.path().join("in.om"), text).unwrap();
    let out = dir.path().join("blocks");
    let status = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(dir.path().join("in.om"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut decoded: Vec<(i64, u64)> = Vec::new();
    let mut chunks = 0;
    for block in std::fs::read_dir(&out).unwrap() {
        for chunk in block_chunks(&block.unwrap().path()) {
            let samples: Vec<(i64, u64)> = XorIter::new(&chunk)
                .unwrap()
                .map(|s| s.map(|s| (s.t, s.v.to_bits())).unwrap())
                .collect();
            let mut enc = XorEncoder::default();
            for &(t, v) in &samples {
                enc.append(t, f64::from_bits(v));
            }
            assert_eq!(enc.bytes(), &chunk[..], "re-encoded chunk {chunks} differs");
            decoded.extend(samples);
            chunks += 1;
        }
    }
    let mut all: Vec<(i64, u64)> = want.into_values().flatten().collect();
    all.sort_by_key(|&(t, v)| (t, v));
    decoded.sort_by_key(|&(t, v)| (t, v));
    assert!(chunks > 60, "only {chunks} chunks");
    assert_eq!(decoded.len(), all.len());
    assert_eq!(decoded, all);
}
