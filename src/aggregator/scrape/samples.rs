//! A scrape body's samples → labelled samples, as Prometheus's scrape loop makes them:
//! the target's labels are attached (a scraped label of the same name is kept as
//! `exported_<name>` unless `honor_labels`), metric_relabel_configs run last, and the
//! synthesized series (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`).

use super::relabel::{self, RelabelConfig};
use crate::aggregator::model::{Labels, METRIC_NAME};
use crate::exposition::parse::ParsedSample;

/// The labels of one scraped sample on `target`; `None` when metric relabelling drops it.
pub fn sample_labels(
    s: &ParsedSample,
    target: &Labels,
    honor_labels: bool,
    metric_relabel: &[RelabelConfig],
) -> Option<Labels> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(s.labels.len() + target.len() + 1);
    pairs.push((METRIC_NAME.to_owned(), s.name.clone()));
    pairs.extend(s.labels.iter().filter(|(_, v)| !v.is_empty()).cloned());
    let has = |pairs: &[(String, String)], name: &str| pairs.iter().any(|(n, _)| n == name);
    if honor_labels {
        for (n, v) in target.iter() {
            if !has(&pairs, n) {
                pairs.push((n.to_owned(), v.to_owned()));
            }
        }
    } else {
        let mut conflicts: Vec<(String, String)> = Vec::new();
        for (n, v) in target.iter() {
            if let Some(i) = pairs.iter().position(|(pn, _)| pn == n) {
                conflicts.push(pairs.remove(i));
            }
            pairs.push((n.to_owned(), v.to_owned()));
        }
        // Shorter names first, each renamed with as many `exported_` as it takes.
        conflicts.sort_by_key(|(n, _)| n.len());
        for (name, value) in conflicts {
            let mut renamed = name;
            loop {
                renamed = format!("exported_{renamed}");
                if !has(&pairs, &renamed) {
                    pairs.push((renamed, value));
                    break;
                }
            }
        }
    }
    let pairs = relabel::process(pairs, metric_relabel)?;
    let labels = Labels::new(pairs);
    (!labels.is_empty()).then_some(labels)
}

/// The five series Prometheus writes for every scrape of a target.
pub struct Report {
    pub up: bool,
    pub duration_seconds: f64,
    pub scraped: u64,
    pub post_relabel: u64,
    pub series_added: u64,
}

/// Names of the synthesized series, in the order Prometheus writes them.
pub const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

impl Report {
    /// `(labels, value)` of each synthesized series on `target`.
    pub fn series(&self, target: &Labels) -> Vec<(Labels, f64)> {
        let values = [
            if self.up { 1.0 } else { 0.0 },
            self.duration_seconds,
            self.scraped as f64,
            self.post_relabel as f64,
            self.series_added as f64,
        ];
        REPORT_NAMES
            .iter()
            .zip(values)
            .map(|(name, v)| (report_labels(name, target), v))
            .collect()
    }
}

/// The labels of synthesized series `name` on `target`.
pub fn report_labels(name: &str, target: &Labels) -> Labels {
    let mut pairs = target.to_pairs();
    pairs.push((METRIC_NAME.to_owned(), name.to_owned()));
    Labels::new(pairs)
}
