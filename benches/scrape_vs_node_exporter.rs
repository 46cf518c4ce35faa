//! The agent and node_exporter side by side on this machine: CPU time per scrape (from
//! /proc/<pid>/stat), scrape latency and memory (/proc/<pid>/status), against the
//! budget (agent CPU per scrape ≤ 0.25× node_exporter's, RSS ≤ 0.5×).
//!
//! `cargo bench --bench scrape_vs_node_exporter`; `NODEPULSE_BENCH_SCRAPES=N` sets the
//! scrapes per target (default 200). `NODEPULSE_BENCH_WEB=tls` gives every target the
//! same `--web.config.file` (TLS with a private CA's certificate, one bcrypt basic-auth
//! user) and scrapes over HTTPS with the user, connections kept as Prometheus keeps them. node_exporter runs twice: with its defaults, and
//! restricted to the agent's collectors (like for like). Scrapes alternate between the
//! targets and carry Prometheus 2.42's headers (OpenMetrics preferred, gzip). A
//! measurement, not a test: nothing is asserted. Without `--bench` (`cargo test
//! --benches`) it only runs a few scrapes.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{parse_body, peer, spawn_agent, Http, Server, EQUIVALENT_FLAGS, PROMETHEUS_ACCEPT};
use std::time::{Duration, Instant};

const WARM_UP: usize = 10;
const HEADERS: [(&str, &str); 2] = [("accept", PROMETHEUS_ACCEPT), ("accept-encoding", "gzip")];

/// One scraped process and what was measured on it.
struct Target {
    label: String,
    server: Server,
    http: Http,
    /// `https://127.0.0.1:<port>/metrics` under `NODEPULSE_BENCH_WEB=tls`.
    url: String,
    collectors: usize,
    latencies: Vec<Duration>,
    series: usize,
    cpu_ticks: u64,
}

impl Target {
    fn new(label: &str, server: Server, web: &Option<Web>) -> Target {
        let (http, url) = match web {
            None => (Http::new(), server.url("/metrics")),
            Some(w) => (
                Http::with(w.client()),
                format!("https://127.0.0.1:{}/metrics", server.port),
            ),
        };
        Target {
            label: label.to_owned(),
            server,
            http,
            url,
            collectors: 0,
            latencies: Vec::new(),
            series: 0,
            cpu_ticks: 0,
        }
    }

    /// One timed scrape; the body is decoded and counted after the clock stops.
    fn scrape(&mut self) -> String {
        let start = Instant::now();
        let resp = self.http.get(&self.url, &HEADERS);
        self.latencies.push(start.elapsed());
        assert_eq!(resp.status, 200, "{} /metrics", self.label);
        let body = resp.text();
        self.series += body
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        body
    }

    fn process(&self) -> procfs::process::Process {
        procfs::process::Process::new(self.server.pid() as i32).expect("the target's /proc entry")
    }

    fn cpu_ticks_now(&self) -> u64 {
        let stat = self.process().stat().expect("/proc/<pid>/stat");
        stat.utime + stat.stime
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = match std::env::var("NODEPULSE_BENCH_SCRAPES") {
        Ok(v) => v.parse().expect("NODEPULSE_BENCH_SCRAPES is a number"),
        Err(_) if bench => 200,
        Err(_) => 3,
    };
    let Some(ne_bin) = peer("prometheus-node-exporter") else {
        return;
    };
    let collectors = {
        let agent = spawn_agent(&EQUIVALENT_FLAGS);
        collector_names(&parse_body(
            &common::get(&agent.url("/metrics"), &[]).text(),
        ))
    };
    let web = Web::from_env();
    let mut restricted = vec!["--collector.disable-defaults".to_owned()];
    restricted.extend(collectors.iter().map(|c| format!("--collector.{c}")));
    restricted.extend(EQUIVALENT_FLAGS.iter().map(|f| f.to_string()));
    let restricted: Vec<&str> = restricted.iter().map(String::as_str).collect();
    let agent_args: Vec<&str> = EQUIVALENT_FLAGS.to_vec();
    let start = |program: &std::path::Path, args: &[&str], ready: &str| match &web {
        None => Server::start(program, args, ready),
        Some(w) => {
            let mut args = args.to_vec();
            args.push(&w.flag);
            Server::start_answering(program, &args, ready, 400)
        }
    };
    let mut targets = vec![
        Target::new(
            "nodepulse-agent",
            start(std::path::Path::new(common::AGENT), &agent_args, "/readyz"),
            &web,
        ),
        Target::new("node_exporter, defaults", start(&ne_bin, &[], "/"), &web),
        Target::new(
            "node_exporter, agent's collectors",
            start(&ne_bin, &restricted, "/"),
            &web,
        ),
    ];
    measure(&mut targets, n);
    report(&targets, n);
}

/// `NODEPULSE_BENCH_WEB=tls`: a web configuration (certificates made by openssl in a
/// temporary directory) and how to reach a server that uses it.
struct Web {
    dir: tempfile::TempDir,
    flag: String,
}

impl Web {
    fn from_env() -> Option<Web> {
        match std::env::var("NODEPULSE_BENCH_WEB").as_deref() {
            Ok("tls") => {}
            Ok(other) => panic!("NODEPULSE_BENCH_WEB={other}: only tls is known"),
            Err(_) => return None,
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let d = dir.path();
        common::certs::make_certs(d);
        let web = d.join("web.yml");
        let yaml = format!(
            "tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\n\
             basic_auth_users:\n  prom: {1}\n",
            d.display(),
            common::certs::PASSWORD_HASH
        );
        std::fs::write(&web, yaml).expect("writing the web configuration");
        let flag = format!("--web.config.file={}", web.display());
        Some(Web { dir, flag })
    }

    /// A client trusting the CA, sending the user ("am-secret" is the hash's password).
    fn client(&self) -> reqwest::blocking::Client {
        let pem = std::fs::read(self.dir.path().join("ca.pem")).expect("ca.pem");
        let ca = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
        let mut headers = reqwest::header::HeaderMap::new();
        let basic = "Basic cHJvbTphbS1zZWNyZXQ="; // prom:am-secret
        headers.insert("authorization", basic.parse().expect("a header value"));
        reqwest::blocking::Client::builder()
            .no_gzip()
            .add_root_certificate(ca)
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("building an HTTPS client")
    }
}

/// The collectors a scrape reports on (node_scrape_collector_success labels).
fn collector_names(parsed: &nodepulse::exposition::parse::Parsed) -> Vec<String> {
    parsed
        .samples
        .iter()
        .filter(|s| s.name == "node_scrape_collector_success")
        .flat_map(|s| s.labels.iter().filter(|(n, _)| n == "collector"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// Warms up, then scrapes every target `n` times, round-robin, keeping CPU deltas.
fn measure(targets: &mut [Target], n: usize) {
    for t in targets.iter_mut() {
        let body = (0..WARM_UP).map(|_| t.scrape()).last().unwrap_or_default();
        t.collectors = collector_names(&parse_body(&body)).len();
        t.latencies.clear();
        t.series = 0;
        t.cpu_ticks = t.cpu_ticks_now();
    }
    for _ in 0..n {
        for t in targets.iter_mut() {
            t.scrape();
        }
    }
    for t in targets.iter_mut() {
        t.cpu_ticks = t.cpu_ticks_now() - t.cpu_ticks;
    }
}

/// What one row of the table says about a target.
struct Row {
    cpu_ms: f64,
    rss_mib: f64,
    peak_mib: f64,
}

fn row(t: &Target, n: usize) -> Row {
    let status = t.process().status().expect("/proc/<pid>/status");
    let mib = |kb: Option<u64>| kb.unwrap_or(0) as f64 / 1024.0;
    Row {
        cpu_ms: t.cpu_ticks as f64 * 1000.0 / procfs::ticks_per_second() as f64 / n as f64,
        rss_mib: mib(status.vmrss),
        peak_mib: mib(status.vmhwm),
    }
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn report(targets: &[Target], n: usize) {
    let ticks = procfs::ticks_per_second();
    println!("\n## Scrape cost: nodepulse-agent vs node_exporter\n");
    println!("{}", machine());
    println!(
        "{n} scrapes per target, alternating, Prometheus 2.42 headers (OpenMetrics, gzip). \
         CPU resolution: 1 tick = {} ms, so ±{:.3} ms per scrape.\n",
        1000 / ticks,
        1000.0 / ticks as f64 / n as f64
    );
    println!("| target | collectors | series/scrape | CPU ms/scrape | p50 ms | p99 ms | max ms | RSS MiB | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let rows: Vec<Row> = targets.iter().map(|t| row(t, n)).collect();
    for (t, r) in targets.iter().zip(&rows) {
        let mut lat = t.latencies.clone();
        lat.sort();
        println!(
            "| {} | {} | {} | {:.3} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} |",
            t.label,
            t.collectors,
            t.series / n.max(1),
            r.cpu_ms,
            percentile_ms(&lat, 50.0),
            percentile_ms(&lat, 99.0),
            percentile_ms(&lat, 100.0),
            r.rss_mib,
            r.peak_mib
        );
    }
    println!("\n| agent ÷ | CPU/scrape (budget ≤ 0.25) | RSS (budget ≤ 0.5) | peak RSS |");
    println!("|---|---|---|---|");
    for (t, r) in targets.iter().zip(&rows).skip(1) {
        println!(
            "| {} | {} | {} | {:.3} |",
            t.label,
            ratio(rows[0].cpu_ms, r.cpu_ms, 0.25),
            ratio(rows[0].rss_mib, r.rss_mib, 0.5),
            rows[0].peak_mib / r.peak_mib
        );
    }
}

/// `agent ÷ other` with its verdict against `budget`.
fn ratio(agent: f64, other: f64, budget: f64) -> String {
    if other <= 0.0 {
        return "n/a (below the CPU resolution)".into();
    }
    let r = agent / other;
    format!("{r:.3} {}", if r <= budget { "ok" } else { "OVER" })
}

/// CPU count and model, and kernel release.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {cpus} × {model}, Linux {}, agent {}.",
        kernel.trim(),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    )
}
