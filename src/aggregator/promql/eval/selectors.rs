//! Selectors: which samples an instant selector (5 m lookback, stale markers end a
//! series) or a range selector (`[t - range, t]`, inclusive as in Prometheus 2.x) sees
//! at one evaluation time, with `offset` and `@`. [`Fetcher`] reads each selector's
//! series from storage once for the whole query window and slices them per step; it
//! also holds the subquery step cache (see `subquery`).

use super::range_fns::RangeCtx;
use super::{drop_name, Ctx, Elem, Val, Window};
use crate::aggregator::model::{is_stale, Labels, Querier, Sample, Series};
use crate::aggregator::promql::QueryError;
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{AtModifier, Expr, MatrixSelector, Offset, VectorSelector};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// A subquery's inner vector at one step.
pub(super) type StepValue = Rc<Vec<Elem>>;

/// Series fetched for one selector, covering `mint..=maxt`, and their label sets
/// without `__name__` once a range function asked for them.
struct Fetched {
    mint: i64,
    maxt: i64,
    series: Rc<Vec<Series>>,
    unnamed: Option<Rc<Vec<Labels>>>,
}

/// Per-query cache of selected series (keyed by the selector node's address) and of
/// subquery steps (keyed by node and step time), so a range query reads storage once
/// per selector and evaluates each subquery step once.
pub(crate) struct Fetcher<'a> {
    q: &'a dyn Querier,
    series: RefCell<HashMap<usize, Fetched>>,
    pub(super) steps: RefCell<HashMap<(usize, i64), StepValue>>,
}

impl<'a> Fetcher<'a> {
    pub fn new(q: &'a dyn Querier) -> Self {
        Fetcher {
            q,
            series: RefCell::new(HashMap::new()),
            steps: RefCell::new(HashMap::new()),
        }
    }

    /// The series of `vs` with samples in `mint..=maxt` (possibly more).
    pub(super) fn fetch(
        &self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
    ) -> Result<Rc<Vec<Series>>, QueryError> {
        let key = vs as *const VectorSelector as usize;
        let (mut lo, mut hi) = (mint, maxt);
        if let Some(f) = self.series.borrow().get(&key) {
            if f.mint <= mint && f.maxt >= maxt {
                return Ok(f.series.clone());
            }
            lo = lo.min(f.mint);
            hi = hi.max(f.maxt);
        }
        let series = Rc::new(self.q.select(&matchers(vs)?, lo, hi)?);
        let f = Fetched {
            mint: lo,
            maxt: hi,
            series: series.clone(),
            unnamed: None,
        };
        self.series.borrow_mut().insert(key, f);
        Ok(series)
    }

    /// The label sets of `vs`'s series (just fetched) without `__name__`, worked out
    /// once per query rather than once per series and step.
    pub(super) fn unnamed(&self, vs: &VectorSelector) -> Rc<Vec<Labels>> {
        let key = vs as *const VectorSelector as usize;
        let mut cache = self.series.borrow_mut();
        let f = cache.get_mut(&key).expect("the selector was fetched");
        f.unnamed
            .get_or_insert_with(|| Rc::new(f.series.iter().map(|s| drop_name(&s.labels)).collect()))
            .clone()
    }
}

/// The selector's matchers, its metric name included.
fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(QueryError::BadData(
            "`or` in label matchers is not supported".into(),
        ));
    }
    let mut ms = vs.matchers.matchers.clone();
    if let Some(name) = &vs.name {
        ms.push(Matcher::new(MatchOp::Equal, "__name__", name));
    }
    Ok(ms)
}

pub(crate) fn millis(d: &Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => millis(d),
        Some(Offset::Neg(d)) => -millis(d),
    }
}

fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => millis(&d),
        Err(e) => -millis(&e.duration()),
    }
}

impl Ctx<'_> {
    /// The time `@` pins a selector or subquery to, if any.
    fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at.as_ref()? {
            AtModifier::Start => Some(self.start),
            AtModifier::End => Some(self.end),
            AtModifier::At(t) => Some(system_time_ms(t)),
        }
    }

    /// The reference times (`t` at this step, and the window) after `@` and `offset`.
    pub(super) fn shift(
        &self,
        at: &Option<AtModifier>,
        off: &Option<Offset>,
        t: i64,
        w: Window,
    ) -> (i64, Window) {
        let off = offset_ms(off);
        match self.at_ms(at) {
            Some(a) => (
                a - off,
                Window {
                    start: a - off,
                    end: a - off,
                },
            ),
            None => (
                t - off,
                Window {
                    start: w.start - off,
                    end: w.end - off,
                },
            ),
        }
    }

    pub(super) fn vector_selector(
        &self,
        vs: &VectorSelector,
        t: i64,
        w: Window,
    ) -> Result<Val, QueryError> {
        Ok(Val::Vector(self.select_instant(vs, t, w, false)?))
    }

    /// `timestamp(selector)`: the selected samples' own times, in seconds.
    pub(super) fn selector_timestamps(
        &self,
        vs: &VectorSelector,
        t: i64,
        w: Window,
    ) -> Result<Vec<Elem>, QueryError> {
        self.select_instant(vs, t, w, true)
    }

    /// The latest non-stale sample of each series within the lookback: its value, or
    /// its time (s) when `times`. In a range query, worked out for all steps at once.
    fn select_instant(
        &self,
        vs: &VectorSelector,
        t: i64,
        w: Window,
        times: bool,
    ) -> Result<Vec<Elem>, QueryError> {
        if let Some(i) = self.top_step(t, w) {
            if let Some(v) = self.instant_steps(vs, times, w, i)? {
                return Ok(v);
            }
        }
        let (t, w) = self.shift(&vs.at, &vs.offset, t, w);
        let lookback = millis(&self.opts.lookback);
        let series = self.fetcher.fetch(vs, w.start - lookback, w.end)?;
        let els = series.iter().filter_map(|s| {
            let i = s.samples.partition_point(|p| p.t <= t);
            let p = s.samples[..i].last()?;
            (p.t >= t - lookback && !is_stale(p.v)).then(|| Elem {
                labels: s.labels.clone(),
                v: if times { p.t as f64 / 1000.0 } else { p.v },
            })
        });
        Ok(els.collect())
    }

    /// A range-vector argument of a function: its series and where its window lies.
    pub(super) fn range_arg(
        &self,
        e: &Expr,
        t: i64,
        w: Window,
    ) -> Result<(Vec<Series>, RangeCtx), QueryError> {
        let (at, off, range) = match e {
            Expr::Paren(p) => return self.range_arg(&p.expr, t, w),
            Expr::MatrixSelector(ms) => (&ms.vs.at, &ms.vs.offset, millis(&ms.range)),
            Expr::Subquery(sq) => (&sq.at, &sq.offset, millis(&sq.range)),
            _ => {
                return Err(QueryError::BadData(
                    "expected a range vector argument".into(),
                ))
            }
        };
        let (end, _) = self.shift(at, off, t, w);
        let rc = RangeCtx {
            start: end - range,
            end,
            range_ms: range,
            t,
        };
        match self.eval(e, t, w)? {
            Val::Matrix(m) => Ok((m, rc)),
            other => Err(QueryError::BadData(format!(
                "expected range vector, got {}",
                other.type_name()
            ))),
        }
    }

    pub(super) fn matrix_selector(
        &self,
        ms: &MatrixSelector,
        t: i64,
        w: Window,
    ) -> Result<Val, QueryError> {
        let vs = &ms.vs;
        let (t, w) = self.shift(&vs.at, &vs.offset, t, w);
        let range = millis(&ms.range);
        let series = self.fetcher.fetch(vs, w.start - range, w.end)?;
        let out = series.iter().filter_map(|s| {
            let samples = window_samples(&s.samples, t - range, t);
            (!samples.is_empty()).then(|| Series {
                labels: s.labels.clone(),
                samples,
            })
        });
        let out: Vec<Series> = out.collect();
        let loaded = out.iter().map(|s| s.samples.len()).sum();
        self.check_samples(loaded, "query execution")?;
        Ok(Val::Matrix(out))
    }
}

/// One series of a range function's selector argument, read in place.
pub(super) struct InWindow<'s> {
    pub labels: &'s Labels,
    pub unnamed: &'s Labels,
    /// The non-stale samples in the window.
    pub samples: &'s [Sample],
}

impl Ctx<'_> {
    /// What `range_arg` yields for a plain matrix selector, without copying samples or
    /// labels: `f` sees each series with samples in the window at `t`, in label order.
    pub(super) fn each_in_window(
        &self,
        ms: &MatrixSelector,
        t: i64,
        w: Window,
        mut f: impl FnMut(InWindow, RangeCtx),
    ) -> Result<(), QueryError> {
        let vs = &ms.vs;
        let (end, sw) = self.shift(&vs.at, &vs.offset, t, w);
        let range = millis(&ms.range);
        let rc = RangeCtx {
            start: end - range,
            end,
            range_ms: range,
            t,
        };
        let series = self.fetcher.fetch(vs, sw.start - range, sw.end)?;
        let unnamed = self.fetcher.unnamed(vs);
        let mut loaded = 0;
        let mut owned = Vec::new();
        for (s, unnamed) in series.iter().zip(unnamed.iter()) {
            let lo = s.samples.partition_point(|p| p.t < end - range);
            let hi = s.samples.partition_point(|p| p.t <= end);
            let mut samples = &s.samples[lo..hi];
            if samples.iter().any(|p| is_stale(p.v)) {
                owned = window_samples(samples, i64::MIN, i64::MAX);
                samples = &owned;
            }
            if samples.is_empty() {
                continue;
            }
            loaded += samples.len();
            let labels = &s.labels;
            f(
                InWindow {
                    labels,
                    unnamed,
                    samples,
                },
                rc,
            );
        }
        drop(owned);
        self.check_samples(loaded, "query execution")
    }
}

/// The non-stale samples with `mint <= t <= maxt`.
fn window_samples(samples: &[Sample], mint: i64, maxt: i64) -> Vec<Sample> {
    let lo = samples.partition_point(|p| p.t < mint);
    let hi = samples.partition_point(|p| p.t <= maxt);
    samples[lo..hi]
        .iter()
        .filter(|p| !is_stale(p.v))
        .copied()
        .collect()
}
