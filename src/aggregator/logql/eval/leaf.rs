//! One range aggregation over the store: the selected streams are scanned once over
//! the query's whole span, each entry goes through the pipeline (and unwrap) to a
//! sample — 1 per line, the line's bytes, or the unwrapped value — under its result
//! labels (reduced by the aggregation's `by`/`without`), and each series' samples are
//! aggregated over every step's window ([`super::windows`]). A series carrying
//! `__error__` fails the query as Loki's does.

use super::windows::{over_steps, RangeOp, Steps, Window};
use super::EvalError;
use crate::aggregator::logql::ast::{self, Grouping, RangeAgg};
use crate::aggregator::logql::pipeline::labels::ERROR;
use crate::aggregator::logql::pipeline::unwrap::Extractor;
use crate::aggregator::logql::pipeline::{required_substrings, Pipeline, PipelineLimits};
use crate::aggregator::model::logs::{Direction, EntryView, Flow, LogReader};
use crate::aggregator::model::Labels;
use fnv::FnvHashMap;
use promql_parser::label::MatchOp;

/// A series' per-step values (`None`: the window held nothing).
pub type StepValues = Vec<(Labels, Vec<Option<f64>>)>;

/// `agg` at every step.
pub fn evaluate(
    reader: &dyn LogReader,
    agg: &RangeAgg,
    steps: Steps,
    limits: PipelineLimits,
) -> Result<StepValues, EvalError> {
    let w = Window {
        range: agg.range,
        offset: agg.offset,
    };
    // Windows are (t - offset - range, t - offset]; scans are [start, end).
    let start = steps.start - w.offset - w.range + 1;
    let end = steps.end - w.offset + 1;
    let series = samples(reader, agg, start, end, limits)?;
    if agg.op == ast::RangeOp::AbsentOverTime {
        return Ok(absent(agg, series, steps, w));
    }
    if let Some(bad) = series.keys().find(|l| l.get(ERROR).is_some()) {
        return Err(EvalError::pipeline(bad));
    }
    let op = window_op(agg)?;
    Ok(series
        .into_iter()
        .map(|(labels, s)| {
            let values = over_steps(op, &s, steps, w);
            (labels, values)
        })
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .collect())
}

/// The window arithmetic of `agg` (its samples already hold 1, bytes or the value).
fn window_op(agg: &RangeAgg) -> Result<RangeOp, EvalError> {
    use ast::RangeOp as A;
    Ok(match agg.op {
        A::CountOverTime => RangeOp::Count,
        A::Rate | A::BytesRate => RangeOp::Rate,
        A::BytesOverTime | A::SumOverTime => RangeOp::Sum,
        A::AvgOverTime => RangeOp::Avg,
        A::MaxOverTime => RangeOp::Max,
        A::MinOverTime => RangeOp::Min,
        A::FirstOverTime => RangeOp::First,
        A::LastOverTime => RangeOp::Last,
        A::StdvarOverTime => RangeOp::StdVar,
        A::StddevOverTime => RangeOp::StdDev,
        A::QuantileOverTime => RangeOp::Quantile(agg.param.unwrap_or(f64::NAN)),
        A::AbsentOverTime => RangeOp::Count,
        A::RateCounter => RangeOp::RateCounter,
    })
}

/// Each result series' samples `(ts, value)` in time order.
fn samples(
    reader: &dyn LogReader,
    agg: &RangeAgg,
    start: i64,
    end: i64,
    limits: PipelineLimits,
) -> Result<FnvHashMap<Labels, Vec<(i64, f64)>>, EvalError> {
    let streams = reader.streams(&agg.log.matchers, start, end);
    let owned = required_substrings(&agg.log.stages);
    let hint: Vec<&[u8]> = owned.iter().map(|c| c.as_ref()).collect();
    let mut sampler = Sampler::new(agg, limits)?;
    let mut sink = Sink::new(agg.grouping.as_ref());
    for s in &streams {
        let mut visit = |e: EntryView| {
            if let Some((v, labels)) = sampler.sample(e, &s.labels) {
                sink.push(labels, e.ts, v);
            }
            Flow::Continue
        };
        reader.scan(s.id, start, end, Direction::Forward, &hint, &mut visit)?;
    }
    Ok(sink.finish())
}

/// An entry ─▶ its sample and result labels: 1 per line, the line's bytes, or the
/// unwrapped value.
enum Sampler {
    Lines { pipeline: Pipeline, bytes: bool },
    Unwrap(Extractor),
}

impl Sampler {
    fn new(agg: &RangeAgg, limits: PipelineLimits) -> Result<Sampler, EvalError> {
        Ok(match &agg.unwrap {
            Some(u) => Sampler::Unwrap(Extractor::new(&agg.log, u, limits)?),
            None => Sampler::Lines {
                pipeline: Pipeline::with_limits(&agg.log.stages, limits)?,
                bytes: matches!(
                    agg.op,
                    ast::RangeOp::BytesOverTime | ast::RangeOp::BytesRate
                ),
            },
        })
    }

    fn sample<'s>(&'s mut self, e: EntryView<'s>, stream: &Labels) -> Option<(f64, &'s Labels)> {
        match self {
            Sampler::Unwrap(x) => x.extract(e.ts, e.line, stream, e.metadata),
            Sampler::Lines { pipeline, bytes } => {
                let (line, labels) = pipeline.process(e.ts, e.line, stream, e.metadata)?;
                Some((if *bytes { line.len() as f64 } else { 1.0 }, labels))
            }
        }
    }
}

/// Label allocations whose grouping [`Sink`] remembers at once.
const GROUPED_CAP: usize = 4096;

/// Samples by result labels. The pipeline hands back the same `Labels` allocation while
/// a stream's labels do not change, so the grouping is worked out once per allocation.
struct Sink<'g> {
    grouping: Option<&'g Grouping>,
    grouped: FnvHashMap<usize, (Labels, Labels)>,
    series: FnvHashMap<Labels, Vec<(i64, f64)>>,
}

impl<'g> Sink<'g> {
    fn new(grouping: Option<&'g Grouping>) -> Self {
        Sink {
            grouping,
            grouped: FnvHashMap::default(),
            series: FnvHashMap::default(),
        }
    }

    fn push(&mut self, labels: &Labels, ts: i64, v: f64) {
        let grouping = self.grouping;
        if self.grouped.len() >= GROUPED_CAP && !self.grouped.contains_key(&labels.id()) {
            // Lines whose labels all differ (e.g. a parsed request id): bounded memory.
            self.grouped.clear();
        }
        let (_, key) = self
            .grouped
            .entry(labels.id())
            .or_insert_with(|| (labels.clone(), group(labels, grouping)));
        match self.series.get_mut(key) {
            Some(s) => s.push((ts, v)),
            None => {
                self.series.insert(key.clone(), vec![(ts, v)]);
            }
        }
    }

    /// Streams were scanned one after another: merge each series into time order
    /// (stable, so equal times keep scan order).
    fn finish(mut self) -> FnvHashMap<Labels, Vec<(i64, f64)>> {
        for s in self.series.values_mut() {
            s.sort_by_key(|&(t, _)| t);
        }
        self.series
    }
}

/// `by (..)` keeps only those labels, `without (..)` drops them; none keeps all. The
/// `__error__` label always stays, so an error is never grouped away.
fn group(labels: &Labels, g: Option<&Grouping>) -> Labels {
    let Some(g) = g else {
        return labels.clone();
    };
    let keep = |n: &str| n == ERROR || (g.labels.iter().any(|l| l == n) != g.without);
    labels.filtered(keep)
}

/// `absent_over_time`: 1 at each step whose window held no line of any series, with
/// the selector's equality matchers as labels (as Loki's absent).
fn absent(
    agg: &RangeAgg,
    series: FnvHashMap<Labels, Vec<(i64, f64)>>,
    steps: Steps,
    w: Window,
) -> StepValues {
    let mut all: Vec<(i64, f64)> = series.into_values().flatten().collect();
    all.sort_by_key(|&(t, _)| t);
    let present = over_steps(RangeOp::Count, &all, steps, w);
    let values: Vec<Option<f64>> = present.iter().map(|p| p.is_none().then_some(1.0)).collect();
    if values.iter().all(Option::is_none) {
        return Vec::new();
    }
    let labels = agg
        .log
        .matchers
        .iter()
        .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
        .map(|m| (m.name.clone(), m.value.clone()))
        .collect();
    vec![(Labels::new(labels), values)]
}
