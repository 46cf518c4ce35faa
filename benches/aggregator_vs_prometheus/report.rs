//! The run's one table, printed as markdown (the lead pastes it into BENCHMARKS.md):
//! the workload, then a row per figure with Prometheus's and ours side by side and
//! whether the budget (ours ≤ Prometheus's) holds, then per-query latencies.

use super::ingest::Sent;
use super::probe::Disk;
use super::queries::{percentile_ms, Agreement, QUERIES};
use std::time::Duration;

/// Everything measured, index 0 being Prometheus and 1 ours.
pub struct Run<'a> {
    pub series: usize,
    pub sent: &'a Sent,
    pub waited: Duration,
    /// `[before, after]` ingest, each `[prometheus, ours]`, bytes.
    pub rss: [[u64; 2]; 2],
    pub disk: [Disk; 2],
    pub agreement: &'a [Agreement],
    pub latencies: &'a [[Vec<Duration>; 2]],
    pub query_runs: usize,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn budget(prom: f64, ours: f64) -> &'static str {
    if ours.is_nan() || prom.is_nan() {
        "n/a"
    } else if ours <= prom {
        "met"
    } else {
        "**not met**"
    }
}

fn row(out: &mut String, what: &str, prom: f64, ours: f64, unit: &str, judged: bool) {
    let show = |v: f64| {
        if v.is_nan() {
            "n/a".to_string()
        } else {
            format!("{v:.2}{unit}")
        }
    };
    let verdict = if judged { budget(prom, ours) } else { "" };
    out.push_str(&format!(
        "| {what} | {} | {} | {verdict} |\n",
        show(prom),
        show(ours)
    ));
}

/// The figures table.
fn figures(r: &Run, out: &mut String) {
    let samples = r.sent.samples as f64;
    out.push_str("| | Prometheus 2.42 | nodepulse-aggregator | budget (ours ≤ Prometheus) |\n|---|---|---|---|\n");
    for i in 0..2 {
        let name = ["before ingest", "after ingest"][i];
        let [p, o] = r.rss[i];
        row(out, &format!("RSS {name} (MiB)"), mib(p), mib(o), "", false);
    }
    let per_series = |i: usize| r.rss[1][i].saturating_sub(r.rss[0][i]) as f64 / r.series as f64;
    row(
        out,
        "RSS per active series (bytes)",
        per_series(0),
        per_series(1),
        "",
        true,
    );
    let total = |i: usize| r.disk[i].total_bytes as f64 / samples;
    row(
        out,
        "data dir bytes per sample sent",
        total(0),
        total(1),
        "",
        true,
    );
    let blocks = |i: usize| {
        let d = &r.disk[i];
        if d.block_samples == 0 {
            f64::NAN
        } else {
            d.block_bytes as f64 / d.block_samples as f64
        }
    };
    row(
        out,
        "blocks bytes per sample in blocks",
        blocks(0),
        blocks(1),
        "",
        true,
    );
    for i in 0..2 {
        let d = &r.disk[i];
        let who = ["Prometheus", "ours"][i];
        out.push_str(&format!(
            "| {who}: data dir / blocks / samples in blocks | {:.1} MiB / {} blocks {:.1} MiB / {} | | |\n",
            mib(d.total_bytes),
            d.blocks,
            mib(d.block_bytes),
            d.block_samples
        ));
    }
    let secs = |i: usize| r.sent.elapsed[i].as_secs_f64();
    row(
        out,
        "ingest wall time, both at once (s; not a budget)",
        secs(0),
        secs(1),
        "",
        false,
    );
}

/// Per-query latencies, and the sum of the medians.
fn latencies(r: &Run, out: &mut String) {
    out.push_str(&format!(
        "\n| range query ({} runs each, alternating) | range / step | series | Prometheus p50 / p99 (ms) | ours p50 / p99 (ms) | p50 budget |\n|---|---|---|---|---|---|\n",
        r.query_runs
    ));
    let mut sums = [0.0; 2];
    for ((q, a), l) in QUERIES.iter().zip(r.agreement).zip(r.latencies) {
        let [p50, p99] = [50.0, 99.0].map(|p| [percentile_ms(&l[0], p), percentile_ms(&l[1], p)]);
        sums[0] += p50[0];
        sums[1] += p50[1];
        let same = match &a.difference {
            None => String::new(),
            Some(_) => " (values differ)".into(),
        };
        out.push_str(&format!(
            "| `{}` | {}h / {}s | {}{same} | {:.1} / {:.1} | {:.1} / {:.1} | {} |\n",
            q.expr.replace('|', "\\|"),
            q.hours,
            q.step_s,
            a.series[0],
            p50[0],
            p99[0],
            p50[1],
            p99[1],
            budget(p50[0], p50[1])
        ));
    }
    out.push_str(&format!(
        "| **sum of p50s** | | | {:.1} | {:.1} | {} |\n",
        sums[0],
        sums[1],
        budget(sums[0], sums[1])
    ));
}

/// Prints the whole report, and any answer that differed.
pub fn print(r: &Run) {
    let mut out = format!(
        "\n{} series, {} scrapes at 15 s ({:.1} h), {} samples to each server in {} remote_write requests; waited {:.0} s for blocks.\n\n",
        r.series,
        r.sent.rounds,
        r.sent.rounds as f64 * 15.0 / 3600.0,
        r.sent.samples,
        r.sent.requests,
        r.waited.as_secs_f64()
    );
    figures(r, &mut out);
    latencies(r, &mut out);
    println!("```markdown{out}```");
    for (q, a) in QUERIES.iter().zip(r.agreement) {
        if let Some(d) = &a.difference {
            println!("answers differ on {}: {d}", q.expr);
        }
    }
}
