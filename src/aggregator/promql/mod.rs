//! PromQL: the values a query yields, its errors and limits. The evaluator over
//! promql-parser's AST (`instant_query`, `range_query`) reads through
//! [`crate::aggregator::model::Querier`] with Prometheus's semantics.

use crate::aggregator::model::{Labels, Series, StorageError};
use std::time::Duration;

mod eval;
pub use eval::{instant_query, range_query};

/// A query's limits, as Prometheus's flags set them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOptions {
    /// How far back an instant selector looks for a sample (`--query.lookback-delta`, 5m).
    pub lookback: Duration,
    /// Samples a query may hold in memory at once (`--query.max-samples`, 50,000,000).
    pub max_samples: usize,
    /// Wall time a query may take (`--query.timeout`, 2m).
    pub timeout: Duration,
    /// Points (steps) a range query may have (Prometheus refuses more than 11,000).
    pub max_points: usize,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            lookback: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_points: 11_000,
        }
    }
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    pub labels: Labels,
    /// Milliseconds since the epoch: the evaluation time.
    pub t: i64,
    pub v: f64,
}

/// A query's result, as the HTTP API's `resultType` names them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<InstantSample>),
    Matrix(Vec<Series>),
}

/// Why a query failed; the HTTP API maps each kind to Prometheus's `errorType`.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The expression does not parse, or a parameter is wrong (`bad_data`, 400).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed, e.g. many-to-many matching (`execution`, 422).
    #[error("{0}")]
    Execution(String),
    /// `timeout` (503).
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// `max_samples` exceeded (`execution`, 422).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Storage failed (`internal`, 500).
    #[error(transparent)]
    Storage(#[from] StorageError),
}
