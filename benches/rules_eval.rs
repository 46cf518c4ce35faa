//! One rule group's evaluation in process, over a MemStore: 1,000 `load` gauges
//! (10 min at 15 s) read by 20 alerting rules (thresholds, `for`, templated labels and
//! annotations, about a third of the series active) and 5 recording rules; the group is
//! evaluated at 40 successive 15 s slots (what an evaluation after every scrape costs).
//! Prints the median and the slowest evaluation, over the MemStore (a linear scan per
//! selector: the reference store) and over the TSDB (postings index, WAL).
//! `cargo bench --bench rules_eval` (`NODEPULSE_BENCH_RUNS`, default 40;
//! `NODEPULSE_BENCH_ONLY=TSDB` or `=MemStore`: one store only).

use nodepulse::aggregator::model::{Appender, Labels, MemStore, Querier, Sample};
use nodepulse::aggregator::rules::{file, Alert, AlertSink, Group, RuleContext, RuleOptions};
use nodepulse::aggregator::tsdb::{Tsdb, TsdbOptions};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

const SERIES: usize = 1_000;
const T0: i64 = 1_700_000_000_000;
const STEP_MS: i64 = 15_000;

struct Discard;

impl AlertSink for Discard {
    fn send(&self, _: Vec<Alert>) {}
}

fn data(points: i64) -> Vec<(Labels, Vec<Sample>)> {
    (0..SERIES)
        .map(|i| {
            let (inst, job) = (format!("node-{i}"), format!("job-{}", i % 10));
            let labels =
                Labels::from_pairs(&[("__name__", "load"), ("instance", &inst), ("job", &job)]);
            let samples = (0..points)
                .map(|k| Sample {
                    t: T0 + k * STEP_MS,
                    v: ((i * 37 + k as usize * 11) % 100) as f64,
                })
                .collect();
            (labels, samples)
        })
        .collect()
}

fn rules() -> String {
    let mut y = String::from("groups:\n- name: bench\n  interval: 15s\n  rules:\n");
    for k in 0..5 {
        let _ = write!(
            y,
            "  - record: job:load:avg{k}\n    expr: avg by (job) (load) + {k}\n"
        );
    }
    for k in 0..20 {
        let _ = write!(
            y,
            "  - alert: Load{k}\n    expr: load > {}\n    for: 1m\n    labels: {{severity: warning, node: \"{{{{ $labels.instance }}}}\"}}\n    annotations: {{summary: \"{{{{ $labels.instance }}}} load {{{{ $value }}}}\"}}\n",
            60 + k
        );
    }
    y
}

fn main() {
    let runs: i64 = std::env::var("NODEPULSE_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let mem = Arc::new(MemStore::new());
    run("MemStore", mem.clone(), mem, runs);
    let dir = tempfile::tempdir().expect("temp dir");
    let tsdb = Arc::new(Tsdb::open(dir.path(), TsdbOptions::default()).expect("tsdb"));
    run("TSDB", tsdb.clone(), tsdb, runs);
}

fn run(name: &str, q: Arc<dyn Querier>, app: Arc<dyn Appender>, runs: i64) {
    if std::env::var("NODEPULSE_BENCH_ONLY").is_ok_and(|only| only != name) {
        return;
    }
    app.append(&data(40 + runs)).expect("append");
    let ctx = Arc::new(RuleContext {
        metrics: q,
        appender: app,
        logs: None,
        sink: Arc::new(Discard),
        opts: RuleOptions::default(),
    });
    let def = file::parse("bench.yml", &rules()).expect("rules").remove(0);
    let mut group = Group::new("bench.yml", def, ctx, true).expect("group");
    let mut took: Vec<f64> = (0..runs)
        .map(|k| {
            let start = Instant::now();
            group.eval(T0 + (40 + k) * STEP_MS);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    took.sort_by(f64::total_cmp);
    println!(
        "rules_eval ({name}): {SERIES} series, 25 rules: median {:.2} ms, max {:.2} ms over {runs} evaluations",
        took[took.len() / 2],
        took[took.len() - 1]
    );
}
