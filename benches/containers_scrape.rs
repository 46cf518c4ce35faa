//! CPU of one scrape of the containers collector on a kubelet-shaped node: 110 pods
//! (the kubelet's maxPods default) × 3 containers plus a sandbox each, cgroup v2 with
//! the systemd driver, built in a temp dir (page cache warm after the first scrape).
//! Budget: ≤ 5 ms CPU per scrape. Run: `cargo bench --bench containers_scrape`.
//!
//! Criterion reports wall time per scrape; the collector is single-threaded, and the
//! bench also prints the thread's CPU time (getrusage RUSAGE_THREAD) per scrape.

#[path = "../tests/cgroup_tree/mod.rs"]
mod cgroup_tree;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nodepulse::agent::containers::logdir::LogDirNames;
use nodepulse::agent::containers::{ContainersCollector, ContainersSettings};
use nodepulse::agent::node::{Collector, HostPaths};
use nodepulse::exposition::{encode, normalize, Format, MetricFamily};
use std::sync::Arc;

/// The thread's (user, system) CPU seconds so far.
fn thread_cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(u.ru_utime), tv(u.ru_stime))
}

fn scrape(c: &ContainersCollector) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    c.collect(&mut out).expect("a scrape");
    out
}

fn containers_scrape(c: &mut Criterion) {
    // As the agent's start-up does: the collector holds files open within half of it.
    let _ = nodepulse::agent::fdlimit::raise();
    let tree = cgroup_tree::node::big_node(110, 3);
    let paths = HostPaths {
        procfs: tree.path("proc"),
        sysfs: tree.path("sys"),
        rootfs: tree.path(""),
    };
    let names = LogDirNames::new(tree.path("log/containers"), tree.path("log/pods"));
    let collector =
        ContainersCollector::new(&paths, Arc::new(names), &ContainersSettings::default());
    let samples: usize = scrape(&collector).iter().map(|f| f.samples.len()).sum();
    let mut body = Vec::new();
    encode(&normalize(scrape(&collector)).0, Format::Text, &mut body);
    println!(
        "110 pods x 3 containers (+ sandboxes): {samples} samples, {} bytes per scrape",
        body.len()
    );

    c.bench_function("containers collect 110x3", |b| {
        b.iter(|| black_box(scrape(&collector)))
    });
    c.bench_function("containers collect+normalize+encode 110x3", |b| {
        b.iter(|| {
            body.clear();
            let (families, _) = normalize(scrape(&collector));
            encode(&families, Format::Text, &mut body);
            black_box(body.len())
        })
    });

    let n = 200;
    let steps = [
        ("collect", 0),
        ("collect+normalize+encode", 1),
        (
            "collect+normalize+encode+gzip, as a scrape asking for gzip",
            2,
        ),
    ];
    for (what, step) in steps {
        let start = thread_cpu_seconds();
        for _ in 0..n {
            let families = scrape(&collector);
            if step >= 1 {
                body.clear();
                let (families, _) = normalize(families);
                encode(&families, Format::Text, &mut body);
            }
            if step >= 2 {
                black_box(nodepulse::gzip::compress_fast(&body));
            }
        }
        let end = thread_cpu_seconds();
        let (user, sys) = ((end.0 - start.0) / n as f64, (end.1 - start.1) / n as f64);
        println!(
            "CPU per scrape ({what}): {:.3} ms (user {:.3}, system {:.3}; getrusage, {n} scrapes)",
            (user + sys) * 1e3,
            user * 1e3,
            sys * 1e3
        );
    }
}

criterion_group!(benches, containers_scrape);
criterion_main!(benches);
