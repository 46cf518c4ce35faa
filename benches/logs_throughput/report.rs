//! What one run measured, and the tables the harness prints (markdown, pasted into
//! BENCHMARKS.md): one row per run, then the median of each column, then the budget.

/// One throughput run: the agent shipping the whole corpus, and `cat` of the same files.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub secs: f64,
    pub mib_s: f64,
    pub lines_s: f64,
    pub cpu_secs: f64,
    pub cpu_s_per_gib: f64,
    pub mib_s_per_core: f64,
    pub peak_rss_mib: f64,
    pub cat_mib_s: f64,
}

impl Throughput {
    pub fn new(mib: f64, messages: u64, secs: f64, cpu_secs: f64, peak_kib: u64, cat: f64) -> Self {
        Throughput {
            secs,
            mib_s: mib / secs,
            lines_s: messages as f64 / secs,
            cpu_secs,
            cpu_s_per_gib: cpu_secs / (mib / 1024.0),
            mib_s_per_core: mib / cpu_secs.max(f64::EPSILON),
            peak_rss_mib: peak_kib as f64 / 1024.0,
            cat_mib_s: cat,
        }
    }

    fn cells(&self) -> [f64; 8] {
        [
            self.secs,
            self.mib_s,
            self.lines_s,
            self.cpu_secs,
            self.cpu_s_per_gib,
            self.mib_s_per_core,
            self.peak_rss_mib,
            self.cat_mib_s,
        ]
    }
}

/// One latency run.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub written: u64,
    pub received: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub cpu_secs: f64,
    pub peak_rss_mib: f64,
}

impl Latency {
    fn cells(&self) -> [f64; 7] {
        [
            self.written as f64,
            self.received as f64,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.cpu_secs,
            self.peak_rss_mib,
        ]
    }
}

pub fn print_throughput(runs: &[Throughput]) {
    println!("| run | s | MiB/s | lines/s | agent CPU s | CPU s/GiB | MiB/s per core | peak RSS MiB | cat MiB/s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let rows: Vec<[f64; 8]> = runs.iter().map(Throughput::cells).collect();
    for (i, r) in rows.iter().enumerate() {
        println!("| {} | {} |", i + 1, cells(r));
    }
    println!("| median | {} |", cells(&median(&rows)));
}

pub fn print_latency(runs: &[Latency], rate: u64, secs: u64) {
    println!("\nLatency, write ─▶ acknowledged, {rate} lines/s for {secs} s:\n");
    println!(
        "| run | written | received | p50 ms | p99 ms | max ms | agent CPU s | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let rows: Vec<[f64; 7]> = runs.iter().map(Latency::cells).collect();
    for (i, r) in rows.iter().enumerate() {
        println!("| {} | {} |", i + 1, cells(r));
    }
    println!("| median | {} |", cells(&median(&rows)));
}

/// The budget of issue 3 against the medians.
pub fn print_budget(t: &[Throughput], l: &[Latency]) {
    let per_core = median_of(t.iter().map(|r| r.mib_s_per_core));
    let rss = t
        .iter()
        .map(|r| r.peak_rss_mib)
        .chain(l.iter().map(|r| r.peak_rss_mib))
        .fold(0.0, f64::max);
    let p99 = median_of(l.iter().map(|r| r.p99_ms));
    let verdict = |ok: bool| if ok { "ok" } else { "OVER BUDGET" };
    println!("\nBudget (medians; peak RSS: the highest of every run):");
    println!(
        "- MiB/s per core of agent CPU: {per_core:.1} (≥ 150) {}",
        verdict(per_core >= 150.0)
    );
    println!("- peak RSS: {rss:.1} MiB (≤ 64) {}", verdict(rss <= 64.0));
    println!(
        "- p99 write ─▶ acknowledged: {p99:.0} ms (≤ 1000) {}",
        verdict(p99 <= 1000.0)
    );
}

fn cells(row: &[f64]) -> String {
    let fmt = |v: &f64| match *v {
        v if v >= 1000.0 => format!("{v:.0}"),
        v => format!("{v:.2}"),
    };
    row.iter().map(fmt).collect::<Vec<_>>().join(" | ")
}

/// The median of each column.
fn median<const N: usize>(rows: &[[f64; N]]) -> [f64; N] {
    std::array::from_fn(|c| median_of(rows.iter().map(|r| r[c])))
}

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n % 2 {
        1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
