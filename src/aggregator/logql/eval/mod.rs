//! LogQL evaluation over the log store ([`LogReader`](crate::aggregator::model::logs::LogReader)):
//! log queries' lines ([`lines`]); metric queries ([`metric`]): range aggregations step
//! by step ([`leaf`], [`windows`]), whose values the PromQL evaluator reads
//! ([`materialize`]) for the operators above them ([`promql_text`]).

pub mod leaf;
pub mod lines;
pub mod materialize;
pub mod metric;
pub mod promql_text;
pub mod rate_counter;
pub mod windows;

use crate::aggregator::logql::pipeline::PipelineError;
use crate::aggregator::model::logs::LogStoreError;
use crate::aggregator::model::Labels;
use crate::aggregator::promql::QueryError;

/// Why a LogQL query failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A series carries `__error__` (Loki's pipeline error, a 400).
    #[error("pipeline error: '{error}' for series: '{series}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"{error}\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n")]
    Pipeline { error: String, series: String },
    #[error(transparent)]
    Compile(#[from] PipelineError),
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] LogStoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl EvalError {
    fn pipeline(series: &Labels) -> EvalError {
        let error = series
            .get(crate::aggregator::logql::pipeline::labels::ERROR)
            .unwrap_or_default()
            .to_string();
        EvalError::Pipeline {
            error,
            series: series.to_string(),
        }
    }
}

#[cfg(test)]
#[path = "metric_tests.rs"]
mod metric_tests;
