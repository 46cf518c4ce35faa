//! Targets of a job as Prometheus makes them: each static target gets the labels
//! `__address__`, `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
//! `__scrape_timeout__`, `__param_<name>` and `job`, plus the group's labels; then the
//! job's relabel_configs; a target whose labels are dropped or lack `__address__` is
//! left out; `instance` defaults to the address; the labels starting with `__` are
//! removed from the target's final labels.

use super::config::ScrapeConfig;
use super::relabel;
use crate::aggregator::model::Labels;
use promql_parser::util::display_duration;

/// One target to scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The labels before relabelling (Prometheus's `discoveredLabels`).
    pub discovered: Labels,
    /// The labels every sample of this target gets (job, instance, ...).
    pub labels: Labels,
    pub url: String,
}

/// The targets of `job`'s static configs, in configuration order, duplicates once.
pub fn targets(job: &ScrapeConfig) -> Vec<Target> {
    from_discovered(static_groups(job), job)
}

/// The label sets of `job`'s static targets (`__address__` and the group's labels).
pub fn static_groups(job: &ScrapeConfig) -> impl Iterator<Item = Vec<(String, String)>> + '_ {
    job.static_configs.iter().flat_map(|group| {
        group.targets.iter().map(move |address| {
            let mut pairs = vec![("__address__".to_owned(), address.clone())];
            pairs.extend(group.labels.iter().map(|(n, v)| (n.clone(), v.clone())));
            pairs
        })
    })
}

/// Targets from discovered label sets (`__address__` and meta labels): the job's labels
/// are added under them, then its relabel_configs run; duplicates once.
pub fn from_discovered(
    groups: impl IntoIterator<Item = Vec<(String, String)>>,
    job: &ScrapeConfig,
) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for discovered in groups {
        let mut pairs = vec![
            ("__scheme__".to_owned(), job.scheme.clone()),
            ("__metrics_path__".to_owned(), job.metrics_path.clone()),
            (
                "__scrape_interval__".to_owned(),
                display_duration(&job.interval),
            ),
            (
                "__scrape_timeout__".to_owned(),
                display_duration(&job.timeout),
            ),
            ("job".to_owned(), job.job_name.clone()),
        ];
        for (name, values) in &job.params {
            if let Some(first) = values.first() {
                pairs.push((format!("__param_{name}"), first.clone()));
            }
        }
        pairs.extend(discovered);
        if let Some(t) = target(Labels::new(pairs), job) {
            if !out.iter().any(|o| o.same(&t)) {
                out.push(t);
            }
        }
    }
    out
}

impl Target {
    /// The same target: same final labels and URL (as Prometheus hashes targets).
    pub fn same(&self, other: &Target) -> bool {
        self.labels == other.labels && self.url == other.url
    }
}

fn target(discovered: Labels, job: &ScrapeConfig) -> Option<Target> {
    let relabelled = relabel::process(discovered.to_pairs(), &job.relabel_configs)?;
    let labels = Labels::new(relabelled);
    let address = labels.get("__address__")?.to_owned();
    let scheme = labels.get("__scheme__").unwrap_or("http");
    let path = labels.get("__metrics_path__").unwrap_or("/metrics");
    let mut url = format!("{scheme}://{address}{path}");
    let params: Vec<String> = job
        .params
        .iter()
        .flat_map(|(name, values)| {
            let relabelled = labels.get(&format!("__param_{name}"));
            let values: Vec<&str> = match relabelled {
                Some(v) => vec![v],
                None => values.iter().map(String::as_str).collect(),
            };
            values
                .into_iter()
                .map(move |v| format!("{}={}", encode(name), encode(v)))
        })
        .collect();
    if !params.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&params.join("&"));
    }
    let mut pairs: Vec<(String, String)> = labels
        .iter()
        .filter(|(n, _)| !n.starts_with("__"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    if labels.get("instance").is_none() {
        pairs.push(("instance".into(), address));
    }
    Some(Target {
        discovered,
        labels: Labels::new(pairs),
        url,
    })
}

/// Percent-encoding of a query parameter (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
