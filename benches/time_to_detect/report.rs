//! The run's figures: per path, the times from each trial's crossing to the webhook's
//! first receipt of its firing alert (p50, p99 and max by nearest rank; trials that
//! never arrived counted apart), split at the median into the wait for the scraper's
//! next scrape and the rest (evaluation and sending), printed as a markdown table with
//! the budget's ratio.

use std::time::Duration;

/// One path's figures in one configuration.
pub struct Row {
    pub config: String,
    pub path: String,
    pub times: Vec<Duration>,
    /// Metric trials: from the crossing to the scraper's next scrape (empty for logs).
    pub scrape_waits: Vec<Duration>,
    /// Trials whose alert never arrived (or arrived before the crossing: a false alarm).
    pub missing: usize,
}

impl Row {
    /// The `q` quantile (0 < q ≤ 1) by nearest rank; None without data.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        quantile(&self.times, q)
    }
}

fn quantile(times: &[Duration], q: f64) -> Option<Duration> {
    let mut t = times.to_vec();
    t.sort();
    let rank = ((q * t.len() as f64).ceil() as usize).max(1);
    t.get(rank - 1).copied()
}

/// Each trial's time after its scrape (detection minus scrape wait), p50.
fn after_scrape_p50(r: &Row) -> Option<Duration> {
    let rest: Vec<Duration> = r
        .times
        .iter()
        .zip(&r.scrape_waits)
        .map(|(t, w)| t.saturating_sub(*w))
        .collect();
    quantile(&rest, 0.5)
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "–".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()))
}

/// The table, one row per path.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| configuration | path | trials | p50 | p99 | max | scrape wait p50 | after scrape p50 | missing |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.config,
            r.path,
            r.times.len(),
            secs(r.quantile(0.5)),
            secs(r.quantile(0.99)),
            secs(r.quantile(1.0)),
            secs(quantile(&r.scrape_waits, 0.5)),
            secs(after_scrape_p50(r)),
            r.missing
        );
    }
    out
}

/// `ours` median ÷ `theirs` median, as the budget states it (≤ 0.5).
pub fn ratio(ours: &Row, theirs: &Row) -> Option<f64> {
    let (o, t) = (ours.quantile(0.5)?, theirs.quantile(0.5)?);
    Some(o.as_secs_f64() / t.as_secs_f64())
}

/// A line per budget comparison: `label: ours / theirs = r (budget ≤ 0.5: met|missed)`.
pub fn budget_line(label: &str, ours: &Row, theirs: &Row) -> String {
    match ratio(ours, theirs) {
        Some(r) => {
            let verdict = if r <= 0.5 { "met" } else { "missed" };
            format!("{label}: median ratio {r:.2} (budget ≤ 0.5: {verdict})")
        }
        None => format!("{label}: no median to compare"),
    }
}
