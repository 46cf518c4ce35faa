//! The aggregator's shared data model: label sets, samples, series, and the two faces of
//! storage — [`Querier`] (what PromQL and the HTTP API read through) and [`Appender`]
//! (what the scraper and the remote_write receiver write through). [`MemStore`] is the
//! plain in-memory implementation of both: the reference the TSDB is tested against.

use promql_parser::label::Matcher;
use std::fmt;
use std::sync::Arc;

/// Prometheus's staleness marker (`value.StaleNaN`): a NaN with exactly these bits.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is the staleness marker (other NaNs are ordinary values).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The staleness marker as a value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// The metric name's label.
pub const METRIC_NAME: &str = "__name__";

/// A label set: sorted by name, names unique, no empty values (Prometheus drops those).
/// Immutable and shared: a clone is a reference count, not a copy of every string
/// (PromQL clones label sets per series and step).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[(String, String)]>);

impl Labels {
    /// From pairs in any order; an empty value removes the label, the last of
    /// repeated names wins.
    pub fn new(mut pairs: Vec<(String, String)>) -> Self {
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last given comes first
        pairs.dedup_by(|later, first| later.0 == first.0);
        pairs.retain(|(_, v)| !v.is_empty());
        Labels(pairs.into())
    }

    /// From `(name, value)` string pairs (tests, literals).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// The metric name, if set.
    pub fn name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every matcher holds (an absent label matches as "", as in Prometheus).
    pub fn matches(&self, matchers: &[Matcher]) -> bool {
        matchers
            .iter()
            .all(|m| m.is_match(self.get(&m.name).unwrap_or("")))
    }

    /// The identity of this label set's shared allocation: equal for clones, so
    /// derived label sets can be memoised per set (the PromQL evaluator's `memo`).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }

    /// The pairs, sorted by name.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The pairs, moved out when this is the only reference, else copied.
    pub fn into_pairs(mut self) -> Vec<(String, String)> {
        match Arc::get_mut(&mut self.0) {
            Some(pairs) => pairs.iter_mut().map(std::mem::take).collect(),
            None => self.0.to_vec(),
        }
    }
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}`, as Prometheus prints a label set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}

/// One sample: milliseconds since the epoch and a value (stale markers included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

/// A series with samples in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// Storage could not answer or take data.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage data corrupt: {0}")]
    Corrupt(String),
    #[error("storage limit: {0}")]
    Limit(String),
}

/// The read side of storage.
pub trait Querier: Send + Sync {
    /// Every series whose labels satisfy all `matchers` and that has a sample in
    /// `mint..=maxt` (ms), with those samples in time order (stale markers included);
    /// series sorted by labels.
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError>;

    /// The sorted label names of the series `select` would return (all series when
    /// `matchers` is empty).
    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError>;

    /// The sorted values of label `name` over those series.
    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError>;
}

/// The sorted distinct label names of `sets` (what `Querier::label_names` answers).
pub fn label_names_of<'a>(sets: impl IntoIterator<Item = &'a Labels>) -> Vec<String> {
    let names: std::collections::BTreeSet<&str> = sets
        .into_iter()
        .flat_map(|l| l.iter().map(|(n, _)| n))
        .collect();
    names.into_iter().map(str::to_owned).collect()
}

/// The sorted distinct values of label `name` in `sets` (`Querier::label_values`).
pub fn label_values_of<'a>(name: &str, sets: impl IntoIterator<Item = &'a Labels>) -> Vec<String> {
    let values: std::collections::BTreeSet<&str> =
        sets.into_iter().filter_map(|l| l.get(name)).collect();
    values.into_iter().map(str::to_owned).collect()
}

/// What an append batch did: samples taken, and those refused as Prometheus refuses
/// them (older than the series' newest sample; same timestamp, another value).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub appended: u64,
    pub out_of_order: u64,
    pub duplicate: u64,
}

/// The write side of storage: one batch (a scrape, a remote_write request) at a time.
/// When `append` returns, the batch is as durable as the store's sync policy says.
pub trait Appender: Send + Sync {
    fn append(&self, batch: &[(Labels, Vec<Sample>)]) -> Result<AppendOutcome, StorageError>;
}

pub mod logs;
mod mem;
pub use mem::MemStore;

#[cfg(test)]
mod tests;
