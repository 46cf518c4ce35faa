//! The aggregator's shared data model: label sets, samples, series, and the two faces of
//! storage — [`Querier`] (what PromQL and the HTTP API read through) and [`Appender`]
//! (what the scraper and the remote_write receiver write through). [`MemStore`] is the
//! plain in-memory implementation of both: the reference the TSDB is tested against.

use promql_parser::label::Matcher;

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

mod labels;
pub use labels::Labels;
pub mod logs;
mod mem;
pub use mem::MemStore;

#[cfg(test)]
mod tests;
