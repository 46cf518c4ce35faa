//! Range-query evaluation in process, without HTTP: the side-by-side bench's query
//! shapes (rate + aggregation, histogram_quantile, a binary operation) over a MemStore
//! shaped like it (89 nodes × 4 CPUs × 8 modes of CPU counters, memory gauges, a
//! 12-bucket histogram per node), 4 h at 15 s. Prints the median of a few runs per query.
//! `cargo bench --bench promql_range` (`NODEPULSE_BENCH_RUNS`, default 5;
//! `NODEPULSE_BENCH_ONLY`: only the queries containing that text).

use nodepulse::aggregator::model::{Appender, Labels, MemStore, Sample};
use nodepulse::aggregator::promql::{range_query, QueryOptions, Value};
use std::time::Instant;

const NODES: usize = 89;
const SCRAPES: i64 = 960;
const STEP_MS: i64 = 15_000;
const T0: i64 = 1_700_000_000_000;

fn samples(node: usize, per_s: f64, counter: bool) -> Vec<Sample> {
    let off = (node as i64 * 157) % STEP_MS;
    let mut v = 0.0;
    (0..SCRAPES)
        .map(|i| {
            v = if counter {
                v + per_s * 15.0
            } else {
                per_s * (1.0 + (i % 7) as f64)
            };
            Sample {
                t: T0 + off + i * STEP_MS + (i * 7) % 5,
                v,
            }
        })
        .collect()
}

fn store() -> MemStore {
    let db = MemStore::new();
    let modes = [
        "idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice",
    ];
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    for n in 0..NODES {
        let inst = format!("10.0.{}.{}:9100", n / 200, n % 200);
        let mut batch = Vec::new();
        for cpu in 0..4 {
            for (m, mode) in modes.iter().enumerate() {
                let c = cpu.to_string();
                let l = [
                    ("__name__", "node_cpu_seconds_total"),
                    ("instance", inst.as_str()),
                    ("job", "node"),
                    ("cpu", c.as_str()),
                    ("mode", mode),
                ];
                batch.push((
                    Labels::from_pairs(&l),
                    samples(n, 0.1 * (m + 1) as f64, true),
                ));
            }
        }
        for name in [
            "node_memory_MemAvailable_bytes",
            "node_memory_MemTotal_bytes",
        ] {
            let l = [
                ("__name__", name),
                ("instance", inst.as_str()),
                ("job", "node"),
            ];
            batch.push((Labels::from_pairs(&l), samples(n, 4096.0, false)));
        }
        for h in ["/api/v1/query", "/metrics"] {
            for (i, le) in les.iter().enumerate() {
                let l = [
                    ("__name__", "http_request_duration_seconds_bucket"),
                    ("instance", inst.as_str()),
                    ("handler", h),
                    ("le", le),
                ];
                batch.push((Labels::from_pairs(&l), samples(n, (i + 1) as f64, true)));
            }
        }
        db.append(&batch).expect("append");
    }
    db
}

fn main() {
    let runs: usize = std::env::var("NODEPULSE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let db = store();
    let end = T0 + SCRAPES * STEP_MS;
    let queries = [
        (r#"sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#, 1, 15),
        ("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", 3, 60),
        ("histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))", 3, 60),
        ("avg by (mode) (rate(node_cpu_seconds_total[5m]))", 3, 15),
        ("max_over_time(node_cpu_seconds_total[10m]) > 0", 1, 60),
    ];
    let only = std::env::var("NODEPULSE_BENCH_ONLY").unwrap_or_default();
    let opts = QueryOptions::default();
    for (q, hours, step_s) in queries.into_iter().filter(|(q, ..)| q.contains(&only)) {
        let start = end - hours * 3_600_000;
        let mut times = Vec::new();
        let mut series = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let v = range_query(&db, q, start, end, step_s * 1000, &opts).expect("query");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if let Value::Matrix(m) = v {
                series = m.len();
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:>9.1} ms  {series:>5} series  {hours}h/{step_s}s  {q}",
            times[times.len() / 2]
        );
    }
}
