//! The throughput corpus: N kubelet-layout CRI files of realistic line lengths, written
//! once into a temp log root and shared by every run.
//!
//! The mix (by line, seeded, so every run and machine gets the same bytes): a third
//! short access-log lines (60–150 B), two fifths JSON app logs (zap/logrus-shaped,
//! 180–450 B), a sixth medium text lines (300–1000 B), 5 % long lines (2–8 KiB), 1 %
//! lines carrying a secret the default redaction rules replace, and 1 % messages longer
//! than containerd's 16 KiB split, written as P pieces ended by an F piece. A tenth of
//! the lines are on stderr.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// containerd's default split size for long lines (`max_container_log_line_size`).
const SPLIT: usize = 16 * 1024;
/// Filler text sliced at random offsets, so bodies vary (snappy sees realistic data):
/// ordinary log words, and now and then (one word in 20,000: about one long line in
/// twenty) a word a redaction rule looks for, so some lines that hold no secret still
/// go through the rules.
const WORDS: &[&str] = &[
    "request",
    "served",
    "upstream",
    "cache",
    "miss",
    "hit",
    "order",
    "customer",
    "id",
    "latency",
    "retry",
    "connection",
    "pool",
    "timeout",
    "queue",
    "worker",
    "shard",
    "replica",
    "lease",
    "renewed",
    "checkout",
    "payment",
    "inventory",
    "session",
    "refresh",
    "cluster",
    "node",
    "kubelet",
    "probe",
    "ready",
    "warming",
    "the",
    "a",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "from",
    "after",
    "before",
    "while",
    "failed",
    "succeeded",
    "started",
    "stopped",
    "received",
    "sent",
    "bytes",
    "items",
    "user",
    "account",
    "tenant",
    "region",
    "zone",
    "database",
    "query",
    "rows",
    "index",
    "table",
    "commit",
    "rollback",
    "transaction",
    "handler",
    "route",
    "status",
    "code",
    "error",
    "warning",
    "deadline",
    "exceeded",
    "context",
    "canceled",
    "backoff",
    "attempt",
    "message",
    "event",
    "topic",
    "partition",
    "offset",
    "consumer",
    "producer",
    "batch",
    "flush",
    "compaction",
    "segment",
    "snapshot",
    "restore",
    "volume",
    "mount",
    "disk",
    "memory",
    "cpu",
    "throttled",
    "evicted",
    "scheduled",
    "pending",
    "running",
    "completed",
    "image",
    "pulled",
    "container",
    "restarted",
    "health",
    "check",
    "ok",
    "not",
    "found",
    "invalid",
    "argument",
    "config",
    "reloaded",
    "version",
    "build",
];
const RARE_WORDS: &[&str] = &["token", "bearer", "authorization", "secret"];

/// What was written: the files and what a receiver should count.
pub struct Corpus {
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// Raw lines in the files (P pieces count one each).
    pub raw_lines: u64,
    /// Whole messages: what the agent ships (P pieces are joined).
    pub messages: u64,
}

/// xorshift64*: deterministic, no dependency, good enough to pick line shapes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo) as u64) as usize
    }
}

/// Writes `files` files of about `total_bytes` in all under `<root>/pods`.
pub fn write(root: &Path, files: usize, total_bytes: u64) -> io::Result<Corpus> {
    let filler = filler();
    let mut corpus = Corpus {
        files: Vec::new(),
        bytes: 0,
        raw_lines: 0,
        messages: 0,
    };
    let per_file = total_bytes / files.max(1) as u64;
    for i in 0..files.max(1) {
        let dir = root.join(format!("pods/bench_app-{i}_uid-{i:04}/app"));
        fs::create_dir_all(&dir)?;
        let path = dir.join("0.log");
        let mut out = FileWriter::new(File::create(&path)?, i as u64);
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
        while out.bytes < per_file {
            write_message(&mut out, &mut rng, &filler)?;
        }
        out.inner.flush()?;
        // On disk before any run: writeback of a fresh GiB would otherwise stall the
        // harness's own writes in the first latency phase (seen as a ~1 s p99).
        out.inner.get_ref().sync_all()?;
        corpus.bytes += out.bytes;
        corpus.raw_lines += out.raw_lines;
        corpus.messages += out.messages;
        corpus.files.push(path);
    }
    Ok(corpus)
}

/// One file being written, with a fake clock for the CRI timestamps.
struct FileWriter {
    inner: BufWriter<File>,
    clock_ns: u64,
    bytes: u64,
    raw_lines: u64,
    messages: u64,
    line: Vec<u8>,
}

impl FileWriter {
    fn new(file: File, i: u64) -> FileWriter {
        FileWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            clock_ns: 1_764_936_000_000_000_000 + i * 1_000,
            bytes: 0,
            raw_lines: 0,
            messages: 0,
            line: Vec::with_capacity(64 * 1024),
        }
    }

    /// Writes one CRI line `<time> <stream> <P|F> <message>\n`.
    fn cri(&mut self, stream: &str, partial: bool, message: &[u8]) -> io::Result<()> {
        self.clock_ns += 1_000 + self.clock_ns % 977;
        self.line.clear();
        cri_prefix(&mut self.line, self.clock_ns, stream, partial);
        self.line.extend_from_slice(message);
        self.line.push(b'\n');
        self.inner.write_all(&self.line)?;
        self.bytes += self.line.len() as u64;
        self.raw_lines += 1;
        self.messages += u64::from(!partial);
        Ok(())
    }
}

fn write_message(out: &mut FileWriter, rng: &mut Rng, filler: &str) -> io::Result<()> {
    let stream = if rng.below(10) == 0 {
        "stderr"
    } else {
        "stdout"
    };
    let pick = rng.below(100);
    let message = match pick {
        0..35 => short(rng, filler),
        35..75 => json(rng, filler),
        75..93 => text(rng, filler, 300, 1000),
        93..98 => text(rng, filler, 2048, 8192),
        98 => secret(rng, filler),
        _ => return partial(out, rng, filler, stream),
    };
    out.cri(stream, false, message.as_bytes())
}

/// A message longer than the runtime's split, as P pieces and a final F piece.
fn partial(out: &mut FileWriter, rng: &mut Rng, filler: &str, stream: &str) -> io::Result<()> {
    let message = text(rng, filler, SPLIT + 100, 3 * SPLIT);
    let bytes = message.as_bytes();
    let mut pieces = bytes.chunks(SPLIT).peekable();
    while let Some(piece) = pieces.next() {
        out.cri(stream, pieces.peek().is_some(), piece)?;
    }
    Ok(())
}

fn short(rng: &mut Rng, filler: &str) -> String {
    let status = [200, 200, 200, 201, 204, 304, 404, 500][rng.below(8) as usize];
    format!(
        "10.244.{}.{} - - \"GET /api/v1/{}/{} HTTP/1.1\" {status} {} \"-\" \"kube-probe/1.31\" {}ms",
        rng.below(255),
        rng.below(255),
        words(rng, filler, 8, 20).replace(' ', "-"),
        rng.below(100_000),
        rng.below(20_000),
        rng.below(900)
    )
}

fn json(rng: &mut Rng, filler: &str) -> String {
    let level = ["info", "info", "info", "debug", "warn", "error"][rng.below(6) as usize];
    format!(
        "{{\"level\":\"{level}\",\"ts\":1764936000.{:06},\"caller\":\"server/handler.go:{}\",\
         \"msg\":\"{}\",\"method\":\"POST\",\"path\":\"/api/v1/orders/{}\",\"status\":200,\
         \"duration_ms\":{}.{},\"trace_id\":\"{:016x}{:016x}\",\"span_id\":\"{:016x}\",\
         \"detail\":\"{}\"}}",
        rng.below(1_000_000),
        rng.below(400),
        words(rng, filler, 12, 40),
        rng.below(1_000_000),
        rng.below(500),
        rng.below(10),
        rng.next(),
        rng.next(),
        rng.next(),
        words(rng, filler, 20, 180)
    )
}

fn text(rng: &mut Rng, filler: &str, lo: usize, hi: usize) -> String {
    let len = rng.range(lo, hi);
    let mut s = format!(
        "2026-12-05 13:00:00,{:03} INFO  [worker-{}] c.e.orders.OrderService - ",
        rng.below(1000),
        rng.below(64)
    );
    s.push_str(&words(rng, filler, len.saturating_sub(s.len()), len));
    s
}

fn secret(rng: &mut Rng, filler: &str) -> String {
    format!(
        "connecting to db host=pg-{} user=app password={:x} {}",
        rng.below(8),
        rng.next(),
        words(rng, filler, 40, 100)
    )
}

/// `lo..hi` bytes of filler text from a random offset (ASCII, so any cut is UTF-8).
fn words(rng: &mut Rng, filler: &str, lo: usize, hi: usize) -> String {
    let len = rng.range(lo, hi.max(lo + 1));
    let start = rng.below((filler.len() - len) as u64) as usize;
    filler[start..start + len].to_owned()
}

/// 256 KiB of words, enough for the longest line of any shape.
fn filler() -> String {
    let mut rng = Rng::new(42);
    let mut s = String::with_capacity(4 * SPLIT * 4);
    while s.len() < 4 * SPLIT * 4 - 16 {
        let word = match rng.below(20_000) {
            0 => RARE_WORDS[rng.below(RARE_WORDS.len() as u64) as usize],
            _ => WORDS[rng.below(WORDS.len() as u64) as usize],
        };
        s.push_str(word);
        s.push(' ');
    }
    s
}

/// Appends `<RFC3339Nano UTC> <stream> <P|F> ` for `ns` since the epoch.
pub fn cri_prefix(out: &mut Vec<u8>, ns: u64, stream: &str, partial: bool) {
    let secs = ns / 1_000_000_000;
    let (y, m, d) = nodepulse::civil::civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    let tag = if partial { 'P' } else { 'F' };
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z {stream} {tag} ",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ns % 1_000_000_000
    );
}
