//! Metric queries: each range aggregation is evaluated over the store ([`super::leaf`])
//! and written as series into a [`MemStore`] ([`super::materialize`]); the operators
//! above run there through the aggregator's PromQL evaluator ([`super::promql_text`]),
//! and the stand-in metric names are taken off the result.

use super::materialize::{ns_to_ms, to_samples};
use super::promql_text::{leaf_name, render};
use super::windows::Steps;
use super::{leaf, EvalError};
use crate::aggregator::logql::ast::MetricExpr;
use crate::aggregator::logql::pipeline::PipelineLimits;
use crate::aggregator::model::logs::LogReader;
use crate::aggregator::model::{Appender, Labels, MemStore, Sample};
use crate::aggregator::promql::{instant_query, range_query, QueryOptions, Value};

/// How a metric query runs.
#[derive(Clone, Debug, Default)]
pub struct MetricOptions {
    pub query: QueryOptions,
    pub pipeline: PipelineLimits,
}

/// `e` over `steps` (ns; the start and step are taken to whole milliseconds, which
/// PromQL works in). One step (`start == end`) is an instant query: a vector or scalar;
/// else a matrix.
pub fn evaluate(
    reader: &dyn LogReader,
    e: &MetricExpr,
    steps: Steps,
    opts: &MetricOptions,
) -> Result<Value, EvalError> {
    let steps = whole_ms(steps);
    let store = MemStore::new();
    for (i, agg) in e.range_aggs().into_iter().enumerate() {
        let batch: Vec<(Labels, Vec<Sample>)> = leaf::evaluate(reader, agg, steps, opts.pipeline)?
            .into_iter()
            .map(|(labels, values)| (named(labels, i), to_samples(&values, steps)))
            .collect();
        store
            .append(&batch)
            .map_err(|e| EvalError::Internal(e.to_string()))?;
    }
    let text = render(e);
    let (start, end, step) = (
        ns_to_ms(steps.start),
        ns_to_ms(steps.end),
        ns_to_ms(steps.step),
    );
    let value = if start == end {
        instant_query(&store, &text, start, &opts.query)?
    } else {
        range_query(&store, &text, start, end, step, &opts.query)?
    };
    Ok(unnamed(value))
}

/// Steps on whole milliseconds (at least one).
fn whole_ms(s: Steps) -> Steps {
    const MS: i64 = 1_000_000;
    let start = s.start.div_euclid(MS) * MS;
    Steps {
        start,
        end: start + (s.end - start).max(0) / MS * MS,
        step: (s.step / MS).max(1) * MS,
    }
}

fn named(labels: Labels, leaf: usize) -> Labels {
    let mut pairs = labels.to_pairs();
    pairs.retain(|(n, _)| n != "__name__");
    pairs.push(("__name__".into(), leaf_name(leaf)));
    Labels::new(pairs)
}

/// The result without the stand-in names (LogQL results carry no metric name).
fn unnamed(v: Value) -> Value {
    let strip = |l: Labels| {
        let mut pairs = l.to_pairs();
        pairs.retain(|(n, _)| n != "__name__");
        Labels::new(pairs)
    };
    match v {
        Value::Vector(v) => Value::Vector(
            v.into_iter()
                .map(|mut s| {
                    s.labels = strip(s.labels);
                    s
                })
                .collect(),
        ),
        Value::Matrix(m) => Value::Matrix(
            m.into_iter()
                .map(|mut s| {
                    s.labels = strip(s.labels);
                    s
                })
                .collect(),
        ),
        other => other,
    }
}
