//! The aggregator and the real Prometheus (Debian's 2.42) side by side on one workload,
//! in one run (issue 5's budgets): both start at once on loopback with empty temp data
//! directories and no scrape jobs; the same remote_write requests go to both (see
//! `workload`, `ingest`); then, for each: RSS per active series (`VmRSS` after ingest
//! minus before, ÷ series), bytes per sample on disk (the whole data directory ÷ samples
//! sent, and blocks only ÷ the samples their `meta.json` counts), and p50/p99 latency of
//! a fixed set of range queries (see `queries`) whose answers are first checked to agree.
//! Prometheus cuts a block once its head spans more than 3 h, so the default sends 4 h
//! and waits (bounded) for the block.
//!
//! `cargo bench --bench aggregator_vs_prometheus`. Settings (environment):
//! `NODEPULSE_BENCH_SERIES` (10000), `NODEPULSE_BENCH_HOURS` (4),
//! `NODEPULSE_BENCH_QUERY_RUNS` (20), `NODEPULSE_BENCH_BLOCK_WAIT_SECS` (180),
//! `NODEPULSE_BENCH_AGGREGATOR` (an aggregator binary; default the one cargo built). Prints
//! one table, also as markdown. A measurement, not a test: nothing is asserted but that
//! both take every write and their answers have the same series. Without `prometheus`
//! installed it says how to install it and exits 0. Without `--bench` (`cargo test
//! --benches`) a tiny run.

#[path = "aggregator_vs_prometheus/cluster.rs"]
mod cluster;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/aggregator_vs_prometheus/compare.rs"]
mod compare;
#[path = "aggregator_vs_prometheus/ingest.rs"]
mod ingest;
#[path = "aggregator_vs_prometheus/probe.rs"]
mod probe;
#[path = "aggregator_vs_prometheus/queries.rs"]
mod queries;
#[path = "aggregator_vs_prometheus/report.rs"]
mod report;
#[path = "aggregator_vs_prometheus/workload.rs"]
mod workload;

use common::{peer, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The aggregator cargo built with this bench; `NODEPULSE_BENCH_AGGREGATOR` names another
/// build (e.g. an older one, to compare).
fn aggregator() -> PathBuf {
    std::env::var_os("NODEPULSE_BENCH_AGGREGATOR").map_or_else(
        || env!("CARGO_BIN_EXE_nodepulse-aggregator").into(),
        PathBuf::from,
    )
}
/// Prometheus compacts once its head spans more than 1.5 × its 2 h block range.
const COMPACTION_SPAN_HOURS: f64 = 3.0;

/// The run's size, from the environment.
struct Settings {
    series: usize,
    hours: f64,
    query_runs: usize,
    block_wait: Duration,
}

fn setting<T: std::str::FromStr>(name: &str, bench: T, quick: T, is_bench: bool) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) if is_bench => bench,
        Err(_) => quick,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let b = std::env::args().any(|a| a == "--bench");
        Settings {
            series: setting("NODEPULSE_BENCH_SERIES", 10_000, 300, b),
            hours: setting("NODEPULSE_BENCH_HOURS", 4.0, 1.0, b),
            query_runs: setting("NODEPULSE_BENCH_QUERY_RUNS", 20, 2, b),
            block_wait: Duration::from_secs(setting("NODEPULSE_BENCH_BLOCK_WAIT_SECS", 180, 60, b)),
        }
    }
}

/// The two servers and their data directories; index 0 is Prometheus.
pub struct Peers {
    pub servers: [Server; 2],
    pub dirs: [PathBuf; 2],
    _tmp: tempfile::TempDir,
}

fn start_peers(prometheus: &Path) -> Peers {
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tmp.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("writing config");
    let dirs = [tmp.path().join("prometheus"), tmp.path().join("ours")];
    let prom_args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dirs[0].display()),
        "--web.enable-remote-write-receiver".to_string(),
        "--log.level=warn".to_string(),
    ];
    let ours_args = [
        format!("--storage.path={}", dirs[1].display()),
        "--log.level=warn".to_string(),
    ];
    let strs = |v: &[String]| v.iter().map(String::clone).collect::<Vec<_>>();
    let (p, o) = (strs(&prom_args), strs(&ours_args));
    let spawn = |bin: PathBuf, args: Vec<String>| {
        std::thread::spawn(move || {
            Server::start(
                &bin,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                "/-/ready",
            )
        })
    };
    let (p, o) = (spawn(prometheus.to_path_buf(), p), spawn(aggregator(), o));
    Peers {
        servers: [
            p.join().expect("starting prometheus"),
            o.join().expect("starting the aggregator"),
        ],
        dirs,
        _tmp: tmp,
    }
}

fn main() {
    let s = Settings::from_env();
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let mut w = workload::Workload::new(s.series);
    let rounds = (s.hours * 3_600_000.0 / workload::STEP_MS as f64)
        .round()
        .max(1.0) as usize;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    // Ends a minute ago, aligned to the minute, so query steps are round.
    let end = now / 60_000 * 60_000 - 60_000;
    let start = end - rounds as i64 * workload::STEP_MS;
    let peers = start_peers(&prometheus);
    let rss_before = peers.servers.each_ref().map(|p| probe::rss_bytes(p.pid()));
    eprintln!("sending {} series × {rounds} scrapes to both ...", w.len());
    let urls = peers.servers.each_ref().map(|p| p.url("/api/v1/write"));
    let sent = ingest::send(&mut w, start, rounds, &urls);
    let waited = if s.hours > COMPACTION_SPAN_HOURS {
        eprintln!("waiting for blocks (up to {:?}) ...", s.block_wait);
        let dirs = peers.dirs.each_ref().map(PathBuf::as_path);
        let blocks = probe::wait_for_blocks(&dirs, s.block_wait, Duration::from_secs(30));
        let bases = peers.servers.each_ref().map(|p| p.url(""));
        // Both truncate the head, then the WAL, after writing the block; ours then
        // returns freed heap to the kernel. A second's grace covers that last step.
        let names = [
            "prometheus_tsdb_wal_truncations_total",
            "nodepulse_tsdb_wal_truncations_total",
        ];
        let settled = probe::wait_for_counters(&bases, &names, Duration::from_secs(60));
        std::thread::sleep(Duration::from_secs(1));
        blocks + settled
    } else {
        Duration::ZERO
    };
    let rss_after = peers.servers.each_ref().map(|p| probe::rss_bytes(p.pid()));
    for (name, p) in ["Prometheus", "ours"].iter().zip(&peers.servers) {
        eprintln!("{name}: RSS after ingest {}", probe::rss_parts(p.pid()));
    }
    let query_end = sent.last_round_ms / 60_000 * 60_000;
    let http = queries::client();
    let targets = [0, 1].map(|i| queries::Target {
        name: ["prometheus", "nodepulse-aggregator"][i],
        url: peers.servers[i].url(""),
    });
    eprintln!("checking that both answer the queries alike ...");
    let agreement: Vec<_> = queries::QUERIES
        .iter()
        .map(|q| queries::agree(&http, &targets, q, query_end))
        .collect();
    for (q, a) in queries::QUERIES.iter().zip(&agreement) {
        assert_eq!(
            a.series[0], a.series[1],
            "{}: series differ: {:?}",
            q.expr, a.difference
        );
    }
    eprintln!(
        "racing {} queries × {} runs ...",
        queries::QUERIES.len(),
        s.query_runs
    );
    let latencies = queries::race(&http, &targets, query_end, s.query_runs);
    let disk = peers.dirs.each_ref().map(|d| probe::disk(d));
    report::print(&report::Run {
        series: w.len(),
        sent: &sent,
        waited,
        rss: [rss_before, rss_after],
        disk,
        agreement: &agreement,
        latencies: &latencies,
        query_runs: s.query_runs,
    });
}
