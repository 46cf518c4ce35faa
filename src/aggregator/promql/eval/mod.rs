//! The evaluator: walks promql-parser's AST once per evaluation step, reading through a
//! [`Querier`]. [`instant_query`] evaluates at one time, [`range_query`] at every step
//! and gathers the steps into series, as Prometheus's `/query` and `/query_range` do.
//! Selected series are fetched once per selector for the whole query (see `selectors`);
//! in a range query, selectors and range functions over them are worked out for all
//! steps at once (`range_steps`) and derived label sets once per series (`memo`).

mod aggregate;
mod binary;
mod functions;
mod histogram;
mod label_fns;
mod matrix;
mod memo;
mod range_fns;
mod range_steps;
mod selectors;
mod stats;
mod subquery;
mod time_fns;

#[cfg(test)]
mod tests;

use super::{InstantSample, QueryError, QueryOptions, Value};
use crate::aggregator::model::{Labels, Querier, Series};
use fnv::FnvHashMap;
use matrix::MatrixBuilder;
use memo::LabelMemo;
use promql_parser::parser::{self, Expr};
use range_steps::StepValues;
use selectors::Fetcher;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

/// The step a subquery without an explicit step uses: Prometheus's default global
/// `evaluation_interval` (1m).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// One element of an instant vector during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    pub labels: Labels,
    pub v: f64,
}

/// What an expression yields at one evaluation step.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Scalar(f64),
    Str(String),
    Vector(Vec<Elem>),
    Matrix(Vec<Series>),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "vector",
            Val::Matrix(_) => "matrix",
        }
    }

    /// The number of samples this value holds (for `max_samples`).
    fn samples(&self) -> usize {
        match self {
            Val::Scalar(_) | Val::Str(_) => 1,
            Val::Vector(v) => v.len(),
            Val::Matrix(m) => m.iter().map(|s| s.samples.len()).sum(),
        }
    }
}

/// The evaluation times of the current level: `[start, end]` (ms). Selectors fetch
/// data for the whole window at once; subqueries narrow or shift it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub start: i64,
    pub end: i64,
}

/// A selector's values at every step, or `None` when they would not fit.
type StepCache = Option<Rc<StepValues>>;

/// What every step of one query shares: storage, limits, the query's own start, end
/// (for `@ start()` / `@ end()`) and step (0 for an instant query), the fetched series,
/// range functions worked out for all steps at once, and derived label sets.
pub(crate) struct Ctx<'a> {
    pub opts: &'a QueryOptions,
    pub start: i64,
    pub end: i64,
    step: i64,
    began: Instant,
    fetcher: Fetcher<'a>,
    /// Per selector node and kind: values at every step (`None`: too big).
    range_cache: RefCell<FnvHashMap<(usize, u8), StepCache>>,
    /// Set by a call whose result is known to have distinct label sets.
    unique_ok: Cell<bool>,
    memo: LabelMemo,
}

impl<'a> Ctx<'a> {
    fn new(q: &'a dyn Querier, opts: &'a QueryOptions, start: i64, end: i64, step: i64) -> Self {
        Ctx {
            opts,
            start,
            end,
            step,
            began: Instant::now(),
            fetcher: Fetcher::new(q),
            range_cache: RefCell::default(),
            unique_ok: Cell::new(false),
            memo: LabelMemo::new(opts.max_samples),
        }
    }

    /// Fails once the query has run longer than its timeout.
    pub fn check_timeout(&self, what: &'static str) -> Result<(), QueryError> {
        if self.began.elapsed() > self.opts.timeout {
            return Err(QueryError::Timeout(what));
        }
        Ok(())
    }

    /// Fails when `n` samples would be more than the query may hold.
    pub fn check_samples(&self, n: usize, what: &'static str) -> Result<(), QueryError> {
        if n > self.opts.max_samples {
            return Err(QueryError::TooManySamples(what));
        }
        Ok(())
    }

    /// Evaluates `e` at time `t` (ms), `w` being the window of this level's times.
    pub fn eval(&self, e: &Expr, t: i64, w: Window) -> Result<Val, QueryError> {
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t, w),
            Expr::Unary(u) => negate(self.eval(&u.expr, t, w)?, &self.memo),
            Expr::VectorSelector(vs) => self.vector_selector(vs, t, w),
            Expr::MatrixSelector(ms) => self.matrix_selector(ms, t, w),
            Expr::Subquery(sq) => self.subquery(sq, t, w),
            Expr::Call(c) => {
                self.unique_ok.set(false);
                let v = self.call(c, t, w)?;
                if self.unique_ok.take() {
                    return Ok(v);
                }
                unique(v)
            }
            Expr::Aggregate(a) => self.aggregate(a, t, w),
            Expr::Binary(b) => unique(self.binary(b, t, w)?),
            Expr::Extension(_) => Err(QueryError::BadData("unsupported expression".into())),
        }
    }
}

/// Prometheus refuses a step whose vector has two elements with one label set (e.g.
/// after a function dropped the metric names that told them apart).
fn unique(v: Val) -> Result<Val, QueryError> {
    match v {
        Val::Vector(els) => Ok(Val::Vector(label_fns::unique(els)?)),
        other => Ok(other),
    }
}

/// `-x`: negates a scalar or every element of a vector (dropping the metric name).
fn negate(v: Val, memo: &LabelMemo) -> Result<Val, QueryError> {
    match v {
        Val::Scalar(x) => Ok(Val::Scalar(-x)),
        Val::Vector(els) => Ok(Val::Vector(
            els.into_iter()
                .map(|e| Elem {
                    labels: memo.derive(memo::DROP_NAME, &e.labels, drop_name),
                    v: -e.v,
                })
                .collect(),
        )),
        other => Err(QueryError::BadData(format!(
            "unary expression only allowed on expressions of type scalar or vector, got: {}",
            other.type_name()
        ))),
    }
}

/// The label set without `__name__`.
pub(crate) fn drop_name(l: &Labels) -> Labels {
    if l.name().is_none() {
        return l.clone();
    }
    l.filtered(|n| n != "__name__")
}

fn parse(expr: &str) -> Result<Expr, QueryError> {
    parser::parse(expr).map_err(QueryError::BadData)
}

/// Evaluates `expr` at `t_ms`, as Prometheus's `/api/v1/query` does.
pub fn instant_query(
    q: &dyn Querier,
    expr: &str,
    t_ms: i64,
    opts: &QueryOptions,
) -> Result<Value, QueryError> {
    let e = parse(expr)?;
    let ctx = Ctx::new(q, opts, t_ms, t_ms, 0);
    let v = ctx.eval(
        &e,
        t_ms,
        Window {
            start: t_ms,
            end: t_ms,
        },
    )?;
    ctx.check_samples(v.samples(), "query execution")?;
    Ok(match v {
        Val::Scalar(v) => Value::Scalar { t: t_ms, v },
        Val::Str(s) => Value::String { t: t_ms, s },
        Val::Vector(els) => Value::Vector(
            els.into_iter()
                .map(|e| InstantSample {
                    labels: e.labels,
                    t: t_ms,
                    v: e.v,
                })
                .collect(),
        ),
        Val::Matrix(m) => Value::Matrix(m),
    })
}

/// Evaluates `expr` at every step from `start_ms` to `end_ms`, as Prometheus's
/// `/api/v1/query_range` does: always a matrix, series sorted by labels, a scalar
/// becoming one series without labels.
pub fn range_query(
    q: &dyn Querier,
    expr: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    opts: &QueryOptions,
) -> Result<Value, QueryError> {
    check_range(start_ms, end_ms, step_ms, opts)?;
    let e = parse(expr)?;
    let ctx = Ctx::new(q, opts, start_ms, end_ms, step_ms);
    let w = Window {
        start: start_ms,
        end: end_ms,
    };
    let mut out = MatrixBuilder::default();
    let mut total = 0usize;
    let mut t = start_ms;
    while t <= end_ms {
        ctx.check_timeout("range evaluation")?;
        let v = ctx.eval(&e, t, w)?;
        total += out.add(v, t)?;
        ctx.check_samples(total, "range evaluation")?;
        t += step_ms;
    }
    Ok(Value::Matrix(out.finish()))
}

fn check_range(start: i64, end: i64, step: i64, opts: &QueryOptions) -> Result<(), QueryError> {
    if step <= 0 {
        return Err(QueryError::BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
        ));
    }
    if end < start {
        return Err(QueryError::BadData(
            "end timestamp must not be before start time".into(),
        ));
    }
    if (end - start) / step > opts.max_points as i64 {
        return Err(QueryError::BadData(format!(
            "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
            opts.max_points
        )));
    }
    Ok(())
}
