//! Criterion benches of the collectors' pure parsers and of the encoder, on real-shaped
//! inputs. Run: `cargo bench --bench parsers`.

mod disk;
mod net;
mod proc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nodepulse::agent::node::loadavg;
use nodepulse::exposition::{encode, Format, MetricFamily};

fn parsers(c: &mut Criterion) {
    c.bench_function("loadavg::parse", |b| {
        b.iter(|| loadavg::parse(black_box("0.05 0.10 0.04 1/84 2829\n")))
    });
}

fn encoder(c: &mut Criterion) {
    let mut f = MetricFamily::counter(
        "node_cpu_seconds_total",
        "Seconds the CPUs spent in each mode.",
    );
    for cpu in 0..64 {
        for mode in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ] {
            f.push(&[("cpu", &cpu.to_string()), ("mode", mode)], 12345.67);
        }
    }
    let families = vec![f];
    let mut out = Vec::with_capacity(64 * 1024);
    c.bench_function("encode 512 series text", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&families), Format::Text, &mut out);
        })
    });
}

criterion_group!(
    benches,
    parsers,
    encoder,
    proc::benches,
    net::benches,
    disk::benches
);
criterion_main!(benches);
