//! The corpus's data set: ten streams over one hour from a seeded generator, lines in
//! logfmt, JSON (nested objects, an array, a key needing sanitising, malformed lines),
//! nginx access lines, CoreDNS-like lines and plain text, with numbers, Go durations
//! (`12ms`, `1.5s`, `1m2.5s`) and byte sizes (`3KB`, `2KiB`). Every timestamp is unique
//! across the whole set (the stream's index + 1 is the last nanosecond digit), so "newest
//! first" and `limit` have one right answer; only the `cron` stream sits exactly on whole
//! 5 minutes (T0 to T0+1h inclusive), where the steps of metric rows fall, so the
//! `(t − range, t]` window bounds are tested too.

use crate::rng::Rng;
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

pub const S: i64 = 1_000_000_000;
/// 2026-01-01T00:00:00Z: a fixed start, so a failure prints the same times every run.
pub const T0: i64 = 1_767_225_600 * S;
pub const HOUR: i64 = 3600 * S;

/// One stream as pushed.
pub struct Stream {
    pub labels: Labels,
    /// `(ts ns, line)` in time order.
    pub entries: Vec<(i64, String)>,
}

impl Stream {
    /// `{a="x", b="y"}` as a push request carries it.
    pub fn selector(&self) -> String {
        let pairs: Vec<String> = self
            .labels
            .iter()
            .map(|(n, v)| format!("{n}={v:?}"))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Logfmt,
    Json,
    Nginx,
    Dns,
    Batch,
    /// `tick n=<i>` at exactly T0 + i·5 min.
    Tick,
}

/// namespace, app, pod, container, extra stream labels, lines, kind.
type Spec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    usize,
    Kind,
);

const SPECS: [Spec; 11] = [
    ("shop", "api", "api-0", "api", &[], 45, Kind::Logfmt),
    ("shop", "api", "api-1", "api", &[], 40, Kind::Logfmt),
    ("shop", "checkout", "checkout-0", "app", &[], 40, Kind::Json),
    ("shop", "checkout", "checkout-1", "app", &[], 35, Kind::Json),
    ("ingress", "nginx", "nginx-0", "nginx", &[], 50, Kind::Nginx),
    ("ingress", "nginx", "nginx-1", "nginx", &[], 40, Kind::Nginx),
    (
        "kube-system",
        "coredns",
        "coredns-0",
        "coredns",
        &[],
        30,
        Kind::Dns,
    ),
    // A `level` stream label that logfmt's `level` field collides with (`level_extracted`).
    (
        "monitoring",
        "worker",
        "worker-0",
        "worker",
        &[("level", "info")],
        30,
        Kind::Logfmt,
    ),
    (
        "monitoring",
        "worker",
        "worker-1",
        "sidecar",
        &[],
        30,
        Kind::Json,
    ),
    ("default", "batch", "batch-0", "job", &[], 20, Kind::Batch),
    ("default", "cron", "cron-0", "cron", &[], 13, Kind::Tick),
];

/// The whole data set (same seed, same lines).
pub fn dataset() -> Vec<Stream> {
    let mut rng = Rng::new(0x5eed_1065);
    SPECS
        .iter()
        .enumerate()
        .map(|(k, spec)| stream(&mut rng, k as i64, spec))
        .collect()
}

fn stream(rng: &mut Rng, k: i64, &(ns, app, pod, container, extra, n, kind): &Spec) -> Stream {
    let mut labels: Labels = [
        ("namespace", ns),
        ("app", app),
        ("pod", pod),
        ("container", container),
    ]
    .iter()
    .chain(extra)
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    labels.retain(|_, v| !v.is_empty());
    let slot = HOUR / n as i64;
    let entries = (0..n as i64)
        .map(|i| {
            let ts = match kind {
                Kind::Tick => T0 + i * 300 * S,
                // Whole milliseconds inside the line's slot, plus the stream's nanosecond.
                _ => {
                    T0 + i * slot + rng.below((slot / 1_000_000) as u64) as i64 * 1_000_000 + k + 1
                }
            };
            (ts, line(rng, kind, ts))
        })
        .collect();
    Stream { labels, entries }
}

fn line(rng: &mut Rng, kind: Kind, ts: i64) -> String {
    match kind {
        Kind::Logfmt => logfmt_line(rng),
        Kind::Json => json_line(rng),
        Kind::Nginx => nginx_line(rng, ts),
        Kind::Dns => dns_line(rng),
        Kind::Batch => batch_line(rng),
        Kind::Tick => format!("tick n={}", (ts - T0) / (300 * S)),
    }
}

const METHODS: [&str; 4] = ["GET", "GET", "POST", "DELETE"];
const PATHS: [&str; 4] = ["/cart", "/items", "/login", "/checkout/pay"];
const STATUSES: [u32; 7] = [200, 200, 201, 204, 404, 500, 503];

fn level(rng: &mut Rng) -> &'static str {
    match rng.below(20) {
        0..=11 => "info",
        12..=16 => "warn",
        _ => "error",
    }
}

fn duration(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => format!("{}ms", 1 + rng.below(999)),
        6..=7 => format!("{}.{}s", rng.below(3), rng.below(10)),
        8 => format!("{}us", 1 + rng.below(900)),
        _ => format!("1m{}.5s", rng.below(60)),
    }
}

fn size(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{}B", rng.below(1000)),
        1 => format!("{}KB", 1 + rng.below(50)),
        2 => format!("{}KiB", 1 + rng.below(8)),
        _ => format!("{}.{}MB", rng.below(3), 1 + rng.below(9)),
    }
}

/// `level=... method=... path=... status=... duration=... size=... msg="..."`; one
/// line in ten has no `duration` (an unwrap of it fails there).
fn logfmt_line(rng: &mut Rng) -> String {
    let msg = rng.pick(&["request done", "upstream slow", "cache miss"]);
    let mut l = format!(
        "level={} method={} path={} status={}",
        level(rng),
        rng.pick(&METHODS),
        rng.pick(&PATHS),
        rng.pick(&STATUSES)
    );
    if rng.below(10) != 0 {
        l += &format!(" duration={}", duration(rng));
    }
    l + &format!(" size={} msg=\"{msg}\"", size(rng))
}

/// A nested JSON object, or (one in eight) a line that is not JSON.
fn json_line(rng: &mut Rng) -> String {
    match rng.below(16) {
        0 => return "panic: runtime error: invalid memory address".to_string(),
        1 => return "{level:error msg:unquoted}".to_string(),
        _ => {}
    }
    let latency = rng.below(100_000) as f64 / 100.0;
    let amount = rng.below(10_000) as f64 / 4.0;
    format!(
        r#"{{"level":"{}","msg":"{}","req":{{"method":"{}","path":"{}","latency_ms":{latency},"headers":{{"user-agent":"{}"}}}},"items":{},"amount":{amount},"ok":{},"tags":["a","b"],"duration":"{}","size":"{}"}}"#,
        level(rng),
        rng.pick(&["payment ok", "payment declined", r#"cart \"saved\""#]),
        rng.pick(&METHODS),
        rng.pick(&PATHS),
        rng.pick(&["curl/8.5", "Mozilla/5.0"]),
        rng.below(12),
        rng.below(2) == 0,
        duration(rng),
        size(rng),
    )
}

/// `10.0.0.7 - - [01/Jan/2026:00:12:34 +0000] "GET /cart HTTP/1.1" 200 5123 "-" "curl/8.5" 0.012`
fn nginx_line(rng: &mut Rng, ts: i64) -> String {
    let secs = (ts - T0) / S;
    format!(
        r#"10.0.{}.{} - - [01/Jan/2026:00:{:02}:{:02} +0000] "{} {} HTTP/1.1" {} {} "-" "{}" 0.{:03}"#,
        rng.below(3),
        1 + rng.below(20),
        secs / 60,
        secs % 60,
        rng.pick(&METHODS),
        rng.pick(&PATHS),
        rng.pick(&STATUSES),
        rng.below(20_000),
        rng.pick(&["curl/8.5", "Mozilla/5.0", "kube-probe/1.29"]),
        rng.below(1000),
    )
}

/// `[INFO] A example.com. NOERROR 1.5ms`
fn dns_line(rng: &mut Rng) -> String {
    format!(
        "[{}] {} {} {} {}",
        rng.pick(&["INFO", "INFO", "ERROR"]),
        rng.pick(&["A", "AAAA", "SRV"]),
        rng.pick(&["example.com.", "kubernetes.default.svc.", "api.shop.svc."]),
        rng.pick(&["NOERROR", "NOERROR", "NXDOMAIN", "SERVFAIL"]),
        duration(rng),
    )
}

fn batch_line(rng: &mut Rng) -> String {
    let id = 100 + rng.below(900);
    match rng.below(4) {
        0 => format!(
            "job {id} failed: {}",
            rng.pick(&["timeout", "OOMKilled", "exit code 2"])
        ),
        _ => format!(
            "job {id} finished in {}.{}s, processed {} items",
            rng.below(9),
            rng.below(10),
            rng.below(500)
        ),
    }
}
