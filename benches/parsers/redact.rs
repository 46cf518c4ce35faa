//! Benches of redaction and app-log lifting on 200-byte messages. Redaction sees every
//! line, so the no-secret path (one `RegexSet` pass, borrowed result) is the one that
//! must stay far under the pipeline's 150 MiB/s per core budget.

use criterion::{black_box, Criterion, Throughput};
use nodepulse::agent::logs::applog::{self, DEFAULT_MAX_LIFT_BYTES};
use nodepulse::agent::logs::redact::{RedactConfig, Redactor};

/// A 200-byte JSON message as zap writes it, padded with spaces.
fn json_line() -> String {
    let m = r#"{"level":"info","ts":"2024-05-01T12:00:00.123Z","caller":"server/handler.go:142","msg":"request served","method":"GET","path":"/api/v1/items/12345","status":200,"duration_ms":12.5,"trace_id":"a1b2c3"}"#;
    format!("{m:<200}")
}

/// A 200-byte logfmt message with a password in it.
fn secret_line() -> String {
    let m = r#"time="2024-05-01T12:00:00Z" level=warn msg="connecting to db" host=db.prod.svc port=5432 user=app password=hunter2-s3cret sslmode=require attempt=3 elapsed=1.25s"#;
    format!("{m:<200}")
}

/// A 32 KiB message (a long line joined from P pieces) of ordinary words with one word a
/// rule looks for ("token") and no secret: the prefilter passes it to the `RegexSet`,
/// which scans the whole line.
fn keyword_line() -> String {
    let words = "request served upstream cache miss order customer latency retry pool ";
    let mut m = words.repeat(32 * 1024 / words.len() / 2);
    m.push_str("token refreshed ");
    while m.len() < 32 * 1024 {
        m.push_str(words);
    }
    m.truncate(32 * 1024);
    m
}

fn bench_one(c: &mut Criterion, name: &str, line: &str, f: impl Fn(&str)) {
    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Bytes(line.len() as u64));
    g.bench_function(format!("{name} ({} B)", line.len()), |b| {
        b.iter(|| f(black_box(line)))
    });
    g.finish();
}

pub fn benches(c: &mut Criterion) {
    let r = Redactor::new(&RedactConfig::default()).expect("defaults are valid");
    let stats = std::cell::RefCell::new(r.new_stats());
    let (json, secret) = (json_line(), secret_line());
    bench_one(c, "redact no secret", &json, |l| {
        black_box(r.redact(l, &mut stats.borrow_mut()));
    });
    bench_one(c, "redact with secret", &secret, |l| {
        black_box(r.redact(l, &mut stats.borrow_mut()));
    });
    bench_one(c, "redact keyword, no secret", &keyword_line(), |l| {
        black_box(r.redact(l, &mut stats.borrow_mut()));
    });
    bench_one(c, "applog::lift json", &json, |l| {
        black_box(applog::lift(l, DEFAULT_MAX_LIFT_BYTES));
    });
    bench_one(c, "applog::lift logfmt", &secret, |l| {
        black_box(applog::lift(l, DEFAULT_MAX_LIFT_BYTES));
    });
    bench_one(c, "redact+lift json", &json, |l| {
        let red = r.redact(l, &mut stats.borrow_mut());
        black_box(applog::lift(&red, DEFAULT_MAX_LIFT_BYTES));
    });
}
