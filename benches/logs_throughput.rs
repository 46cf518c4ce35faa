//! The log throughput harness (issue 3): the agent shipping N CRI files from a temp
//! `/var/log/pods`-shaped root to an in-process Loki-compatible receiver that
//! acknowledges and discards, measured for MiB/s, lines/s, agent CPU seconds per GiB
//! (utime+stime from `/proc/<pid>/stat`), MiB/s per core of CPU used and peak RSS
//! (`VmHWM`), next to `cat` of the same page-cached files (the physical limit); then a
//! latency phase: 1,000 lines/s for 30 s into a log the agent already follows, write
//! ─▶ acknowledged p50/p99/max.
//!
//! `cargo bench --bench logs_throughput`. Settings (environment):
//! `NODEPULSE_BENCH_AGENT` (an agent binary; default the release one cargo built),
//! `NODEPULSE_BENCH_LOG_FILES` (8), `NODEPULSE_BENCH_LOG_MIB` (1024),
//! `NODEPULSE_BENCH_LOG_RUNS` (1; the median is reported), `NODEPULSE_BENCH_LATENCY_SECS`
//! (30), `NODEPULSE_BENCH_LATENCY_RATE` (1000). The agent runs with its defaults but for
//! the temp directories. A measurement, not a test: nothing is asserted beyond every
//! line arriving. Without `--bench` (`cargo test --benches`) it runs a tiny version.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "logs_throughput/corpus.rs"]
mod corpus;
#[path = "logs_throughput/latency.rs"]
mod latency;
#[path = "logs_throughput/receiver.rs"]
mod receiver;
#[path = "logs_throughput/report.rs"]
mod report;

use common::Server;
use receiver::Receiver;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Settings {
    agent: PathBuf,
    files: usize,
    mib: u64,
    runs: usize,
    latency_secs: u64,
    latency_rate: u64,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let bench = std::env::args().any(|a| a == "--bench");
        let agent = std::env::var_os("NODEPULSE_BENCH_AGENT")
            .map_or_else(|| PathBuf::from(common::AGENT), PathBuf::from);
        Settings {
            agent,
            files: env_or("NODEPULSE_BENCH_LOG_FILES", 8),
            mib: env_or("NODEPULSE_BENCH_LOG_MIB", if bench { 1024 } else { 8 }),
            runs: env_or("NODEPULSE_BENCH_LOG_RUNS", 1),
            latency_secs: env_or("NODEPULSE_BENCH_LATENCY_SECS", if bench { 30 } else { 3 }),
            latency_rate: env_or("NODEPULSE_BENCH_LATENCY_RATE", 1000),
        }
    }
}

fn main() {
    let s = Settings::from_env();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let started = Instant::now();
    let corpus = corpus::write(tmp.path(), s.files, s.mib << 20).expect("writing the corpus");
    let mib = corpus.bytes as f64 / (1 << 20) as f64;
    println!(
        "Corpus: {} files, {mib:.1} MiB, {} raw lines, {} messages (written in {:.1} s); agent {}",
        corpus.files.len(),
        corpus.raw_lines,
        corpus.messages,
        started.elapsed().as_secs_f64(),
        s.agent.display()
    );
    let mut throughput = Vec::new();
    let mut latencies = Vec::new();
    for run in 0..s.runs {
        let cat = cat_mib_s(&corpus.files, corpus.bytes);
        let data = tmp.path().join(format!("data-{run}"));
        throughput.push(ship_corpus(&s, tmp.path(), &data, &corpus, cat));
        let root = tmp.path().join(format!("latency-{run}"));
        latencies.push(latency_run(&s, &root));
    }
    println!();
    report::print_throughput(&throughput);
    report::print_latency(&latencies, s.latency_rate, s.latency_secs);
    report::print_budget(&throughput, &latencies);
}

/// `cat` of the files (run once to have them page-cached, then timed), its output read
/// here and counted: MiB/s.
fn cat_mib_s(files: &[PathBuf], bytes: u64) -> f64 {
    let once = || {
        let start = Instant::now();
        let mut child = Command::new("cat")
            .args(files)
            .stdout(Stdio::piped())
            .spawn()
            .expect("running cat");
        let mut out = child.stdout.take().expect("cat's stdout");
        let (mut buf, mut got) = (vec![0u8; 1 << 20], 0u64);
        loop {
            match out.read(&mut buf).expect("reading cat's output") {
                0 => break,
                n => got += n as u64,
            }
        }
        assert!(child.wait().expect("cat").success());
        assert_eq!(got, bytes, "cat read every byte");
        start.elapsed().as_secs_f64()
    };
    once();
    bytes as f64 / (1 << 20) as f64 / once()
}

/// The agent's flags: defaults but for the temp directories.
fn agent_args(receiver: &Receiver, root: &Path, data: &Path) -> Vec<String> {
    let containers = root.join("containers");
    std::fs::create_dir_all(&containers).expect("the containers dir");
    std::fs::create_dir_all(data).expect("the data dir");
    vec![
        format!("--sink.loki.url={}", receiver.push_url()),
        format!("--logs.pods-dir={}", root.join("pods").display()),
        format!("--logs.containers-dir={}", containers.display()),
        format!("--data-dir={}", data.display()),
        "--logs.start-at=beginning".into(),
        "--kube.api=off".into(),
        "--node-name=bench-node".into(),
    ]
}

fn start_agent(s: &Settings, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&s.agent, &args, "/readyz")
}

/// CPU seconds (utime+stime) and peak RSS (VmHWM, KiB) of `pid` so far.
fn usage(pid: u32) -> (f64, u64) {
    let p = procfs::process::Process::new(pid as i32).expect("the agent's /proc entry");
    let stat = p.stat().expect("/proc/<pid>/stat");
    let cpu = (stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64;
    let hwm = p.status().ok().and_then(|s| s.vmhwm).unwrap_or(0);
    (cpu, hwm)
}

/// Waits until the receiver counted `n` entries; panics with the agent's log after
/// `timeout`.
fn wait_for(receiver: &Receiver, n: u64, agent: &Server, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while receiver.entries() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} lines arrived; the agent's log:\n{}",
            receiver.entries(),
            agent.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ship_corpus(
    s: &Settings,
    root: &Path,
    data: &Path,
    corpus: &corpus::Corpus,
    cat: f64,
) -> report::Throughput {
    let receiver = Receiver::start(false);
    let args = agent_args(&receiver, root, data);
    let start = Instant::now();
    let agent = start_agent(s, &args);
    let timeout = Duration::from_secs(120 + s.mib);
    wait_for(&receiver, corpus.messages, &agent, timeout);
    let done = receiver
        .counts
        .last_ack
        .lock()
        .unwrap()
        .unwrap_or_else(Instant::now);
    let secs = done.duration_since(start).as_secs_f64();
    let (cpu, hwm) = usage(agent.pid());
    let mib = corpus.bytes as f64 / (1 << 20) as f64;
    let r = report::Throughput::new(mib, corpus.messages, secs, cpu, hwm, cat);
    println!("throughput run: {r:?}");
    r
}

fn latency_run(s: &Settings, root: &Path) -> report::Latency {
    let probe_log = latency::create_probe_log(root).expect("the probe log");
    let receiver = Receiver::start(true);
    let args = agent_args(&receiver, root, &root.join("data"));
    let agent = start_agent(s, &args);
    std::thread::sleep(Duration::from_secs(2));
    let written =
        latency::write_probes(&probe_log, s.latency_rate, s.latency_secs).expect("probes");
    wait_for(&receiver, written, &agent, Duration::from_secs(60));
    let (cpu, hwm) = usage(agent.pid());
    let mut ns = std::mem::take(&mut *receiver.counts.latencies_ns.lock().unwrap());
    let received = ns.len() as u64;
    let (p50_ms, p99_ms, max_ms) = latency::percentiles(&mut ns);
    let r = report::Latency {
        written,
        received,
        p50_ms,
        p99_ms,
        max_ms,
        cpu_secs: cpu,
        peak_rss_mib: hwm as f64 / 1024.0,
    };
    println!("latency run: {r:?}");
    r
}
