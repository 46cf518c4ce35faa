//! Criterion benches of the collectors' pure parsers, of the encoder and of the Loki push
//! encoding, on real-shaped inputs. Run: `cargo bench --bench parsers`.

mod disk;
mod elasticsearch;
mod logs;
mod loki;
mod net;
mod proc;
mod redact;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nodepulse::agent::config::{AgentConfig, FileConfig, Flags};
use nodepulse::agent::node::{self, loadavg, HostPaths};
use nodepulse::agent::Agent;
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

/// Each collector reading this host's real /proc and /sys (a collector whose files this
/// host lacks fails; its cost still counts).
fn collectors_on_this_host(c: &mut Criterion) {
    let settings = Default::default();
    let mut out = Vec::with_capacity(256);
    for collector in node::build(&HostPaths::default(), &settings) {
        c.bench_function(&format!("collect {} on this host", collector.name()), |b| {
            b.iter(|| {
                out.clear();
                let _ = collector.collect(&mut out);
            })
        });
    }
}

/// One whole scrape as `/metrics` serves it (all collectors, normalize, encode), without
/// HTTP and gzip.
fn whole_scrape(c: &mut Criterion) {
    let config =
        AgentConfig::merge(Flags::default(), FileConfig::default()).expect("defaults are valid");
    let agent = Agent::new(&config);
    for format in [Format::Text, Format::OpenMetrics] {
        c.bench_function(&format!("scrape this host {format:?}"), |b| {
            b.iter(|| agent.scrape(format))
        });
    }
}

criterion_group!(
    benches,
    parsers,
    encoder,
    proc::benches,
    net::benches,
    disk::benches,
    elasticsearch::benches,
    logs::benches,
    loki::benches,
    redact::benches,
    collectors_on_this_host,
    whole_scrape
);
criterion_main!(benches);
