//! Time to detect (issue 7), side by side with a real Prometheus + Alertmanager in the
//! same run. Two metric scenarios, 20 trials each, run concurrently:
//! - threshold: a target in the bench serves `demo_value{trial="i"}`; trial i's value
//!   jumps from 1 to 100 at an instant drawn at random over at least one interval (so
//!   the trials are independent of the scrape and evaluation phases);
//! - killed target: trial i has a target of its own (job `kill`, label `trial="i"`),
//!   killed (listener closed, connections dropped) at an instant drawn the same way.
//!
//! Prometheus 2.42 and our aggregator scrape them with the same config and evaluate the
//! same rules (`demo_value > 50` and `up{job="kill"} == 0`, `for: 0s`), spread
//! round-robin over 5 groups so that a run samples 5 evaluation phases; both notify one
//! Alertmanager 0.25 (one group per alert, `group_wait: 0s`: its batching delay is out
//! of both paths) whose webhook is the bench's; ours also posts to the bench's webhook
//! directly. For each path: the time from a trial's crossing (or kill) to the webhook's
//! first receipt of its firing alert, p50/p99/max, and for the threshold at the median
//! how much of it was the wait for the next scrape. Logs (ours only: Prometheus has no
//! LogQL): the bench pushes lines of 20 pods to our `/loki/api/v1/push`, 4 % errors
//! jumping to 50 % at a random instant per pod, and a LogQL rule on the error share
//! over 10 s fires; the window alone makes ≈ 4.6 s.
//!
//! Two configurations, each a run of its own: the shipped defaults (ours are
//! Prometheus's: scrape and evaluate every 1m) and 1 s scrape/evaluation intervals.
//!
//! `cargo bench --bench time_to_detect` (builds the release aggregator with it;
//! `NODEPULSE_BENCH_AGGREGATOR` names another build). Settings: `NODEPULSE_BENCH_TRIALS`
//! (20), `NODEPULSE_BENCH_TTD_CONFIGS` (`defaults,1s`), `NODEPULSE_BENCH_SEED` (drawn).
//! Prints a markdown table and the budget's ratio (our median ≤ 0.5× Prometheus's); a
//! measurement: nothing is asserted. Without `--bench` (`cargo test --benches`): the 1 s
//! configuration with 2 trials of each scenario, and it panics unless every path
//! delivers every trial.
//! Peers are /usr/bin/prometheus and /usr/bin/prometheus-alertmanager; a missing one is
//! skipped with a note, or fails under `CI=true`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "time_to_detect/hook.rs"]
mod hook;
#[path = "time_to_detect/kill.rs"]
mod kill;
#[path = "time_to_detect/logs.rs"]
mod logs;
#[path = "time_to_detect/peers.rs"]
mod peers;
#[path = "time_to_detect/report.rs"]
mod report;
#[path = "time_to_detect/run.rs"]
mod run;
#[path = "time_to_detect/target.rs"]
mod target;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One configuration: its name, the interval written in the config (None: defaults)
/// and the period that interval means.
#[derive(Clone, Copy)]
pub struct Config {
    pub name: &'static str,
    pub interval: Option<&'static str>,
    pub period: Duration,
}

const CONFIGS: [Config; 2] = [
    Config {
        name: "defaults (1m)",
        interval: None,
        period: Duration::from_secs(60),
    },
    Config {
        name: "1s",
        interval: Some("1s"),
        period: Duration::from_secs(1),
    },
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not understood")),
        Err(_) => default,
    }
}

/// The aggregator cargo built with this bench, or `NODEPULSE_BENCH_AGGREGATOR`.
fn aggregator() -> PathBuf {
    std::env::var_os("NODEPULSE_BENCH_AGGREGATOR").map_or_else(
        || env!("CARGO_BIN_EXE_nodepulse-aggregator").into(),
        PathBuf::from,
    )
}

/// The configurations named in `NODEPULSE_BENCH_TTD_CONFIGS` (`defaults`, `1s`).
fn configs(is_bench: bool) -> Vec<Config> {
    let default = if is_bench { "defaults,1s" } else { "1s" };
    let names: String = env_or("NODEPULSE_BENCH_TTD_CONFIGS", default.to_owned());
    names
        .split(',')
        .map(|n| match n.trim() {
            "defaults" => CONFIGS[0],
            "1s" => CONFIGS[1],
            other => panic!("NODEPULSE_BENCH_TTD_CONFIGS: unknown configuration {other:?}"),
        })
        .collect()
}

fn main() {
    let is_bench = std::env::args().any(|a| a == "--bench");
    let trials = env_or("NODEPULSE_BENCH_TRIALS", if is_bench { 20 } else { 2 });
    let seed = env_or(
        "NODEPULSE_BENCH_SEED",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64,
    );
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let aggregator = aggregator();
    eprintln!("seed {seed}; aggregator {}", aggregator.display());
    let mut rows = Vec::new();
    let mut budgets = Vec::new();
    for (n, config) in configs(is_bench).into_iter().enumerate() {
        let setup = run::Setup {
            config,
            trials,
            seed: seed.wrapping_add(n as u64),
            aggregator: &aggregator,
            with_prometheus: true,
        };
        let result = run::run(&rt, &setup);
        if !is_bench {
            result.check_complete();
        }
        budgets.extend(result.budget_lines());
        rows.extend(result.rows);
    }
    println!("\n{}", report::table(&rows));
    for line in budgets {
        println!("{line}");
    }
}
