//! A range function over a plain matrix selector in a range query, evaluated as
//! Prometheus's engine does: series by series for every step at once, each series'
//! samples walked once by a window that only moves forward, instead of two binary
//! searches per series and step. The values are kept per step (series index, value)
//! and handed out as the top-level steps ask for them; anything else (instant queries,
//! subquery steps, a parameter that is not a number literal) takes the per-step path.

use super::range_fns::{self, RangeCtx};
use super::selectors::millis;
use super::{Ctx, Elem, Window};
use crate::aggregator::model::{is_stale, Labels, Sample, Series};
use crate::aggregator::promql::QueryError;
use fnv::FnvHashSet;
use promql_parser::parser::{MatrixSelector, VectorSelector};
use std::rc::Rc;

/// What a cache entry holds: a range function's values, an instant selector's values
/// or its samples' times.
const RANGE: u8 = 0;
const VALUES: u8 = 1;
const TIMES: u8 = 2;

/// One function's values at every step of the query, and the labels they carry.
pub(crate) struct StepValues {
    per_step: Vec<Vec<(u32, f64)>>,
    labels: Rc<Vec<Labels>>,
    /// The label sets are pairwise distinct, so no step needs the uniqueness check.
    pub unique: bool,
}

impl StepValues {
    /// The vector at step `i`.
    pub fn at(&self, i: usize) -> Vec<Elem> {
        let vals = self.per_step.get(i).map_or(&[][..], |v| &v[..]);
        vals.iter()
            .map(|&(s, v)| Elem {
                labels: self.labels[s as usize].clone(),
                v,
            })
            .collect()
    }
}

impl Ctx<'_> {
    /// The index of top-level step `t` when `w` is the query's own window.
    pub(super) fn top_step(&self, t: i64, w: Window) -> Option<usize> {
        let on_grid = self.step > 0 && w.start == self.start && w.end == self.end;
        (on_grid && t >= self.start && (t - self.start) % self.step == 0)
            .then(|| ((t - self.start) / self.step) as usize)
    }

    /// `name` over `ms` at top-level step `i`, worked out for all steps on first use;
    /// `None` when the whole-query path does not fit (see `all_steps_fit`).
    pub(super) fn range_steps(
        &self,
        name: &str,
        ms: &MatrixSelector,
        param: f64,
        w: Window,
        i: usize,
    ) -> Result<Option<Vec<Elem>>, QueryError> {
        let key = (ms as *const MatrixSelector as usize, RANGE);
        let values = self.cached(key, || self.range_all_steps(name, ms, param, w))?;
        let Some(values) = values else {
            return Ok(None);
        };
        self.unique_ok.set(values.unique);
        Ok(Some(values.at(i)))
    }

    /// The instant selector `vs` at top-level step `i` (its sample times when
    /// `times`), worked out for all steps on first use; `None` as for `range_steps`.
    pub(super) fn instant_steps(
        &self,
        vs: &VectorSelector,
        times: bool,
        w: Window,
        i: usize,
    ) -> Result<Option<Vec<Elem>>, QueryError> {
        let kind = if times { TIMES } else { VALUES };
        let key = (vs as *const VectorSelector as usize, kind);
        let values = self.cached(key, || self.instant_all_steps(vs, times, w))?;
        Ok(values.map(|v| v.at(i)))
    }

    fn cached(
        &self,
        key: (usize, u8),
        make: impl FnOnce() -> Result<Option<StepValues>, QueryError>,
    ) -> Result<Option<Rc<StepValues>>, QueryError> {
        if let Some(v) = self.range_cache.borrow().get(&key) {
            return Ok(v.clone());
        }
        let v = make()?.map(Rc::new);
        self.range_cache.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    /// The latest non-stale sample within the lookback of each series at every step,
    /// each series walked once.
    fn instant_all_steps(
        &self,
        vs: &VectorSelector,
        times: bool,
        w: Window,
    ) -> Result<Option<StepValues>, QueryError> {
        let lookback = millis(&self.opts.lookback);
        let (_, sw) = self.shift(&vs.at, &vs.offset, self.start, w);
        let series = self.fetcher.fetch(vs, sw.start - lookback, sw.end)?;
        if !self.all_steps_fit(&series) {
            return Ok(None);
        }
        let ends = self.step_ends(vs, w);
        let mut per_step = vec![Vec::new(); ends.len()];
        for (idx, s) in series.iter().enumerate() {
            if idx % 256 == 0 {
                self.check_timeout("range evaluation")?;
            }
            let mut hi = 0;
            for (i, &ts) in ends.iter().enumerate() {
                while hi < s.samples.len() && s.samples[hi].t <= ts {
                    hi += 1;
                }
                let Some(p) = hi.checked_sub(1).map(|j| s.samples[j]) else {
                    continue;
                };
                if p.t >= ts - lookback && !is_stale(p.v) {
                    let v = if times { p.t as f64 / 1000.0 } else { p.v };
                    per_step[i].push((idx as u32, v));
                }
            }
        }
        let labels = Rc::new(series.iter().map(|s| s.labels.clone()).collect());
        Ok(Some(StepValues {
            per_step,
            labels,
            unique: false,
        }))
    }

    /// The reference time of every top-level step for `vs`, after `@` and `offset`.
    fn step_ends(&self, vs: &VectorSelector, w: Window) -> Vec<i64> {
        let steps = (self.end - self.start) / self.step + 1;
        (0..steps)
            .map(|i| {
                self.shift(&vs.at, &vs.offset, self.start + i * self.step, w)
                    .0
            })
            .collect()
    }

    /// `name` over `ms` at every top-level step.
    fn range_all_steps(
        &self,
        name: &str,
        ms: &MatrixSelector,
        param: f64,
        w: Window,
    ) -> Result<Option<StepValues>, QueryError> {
        let vs = &ms.vs;
        let range = millis(&ms.range);
        let (_, sw) = self.shift(&vs.at, &vs.offset, self.start, w);
        let series = self.fetcher.fetch(vs, sw.start - range, sw.end)?;
        if !self.all_steps_fit(&series) {
            return Ok(None);
        }
        let labels = if name == "last_over_time" {
            Rc::new(series.iter().map(|s| s.labels.clone()).collect())
        } else {
            self.fetcher.unnamed(vs)
        };
        let ends = self.step_ends(vs, w);
        let mut per_step = vec![Vec::new(); ends.len()];
        let mut loaded = vec![0usize; ends.len()];
        for (idx, s) in series.iter().enumerate() {
            if idx % 256 == 0 {
                self.check_timeout("range evaluation")?;
            }
            let clean;
            let mut samples = &s.samples[..];
            if samples.iter().any(|p| is_stale(p.v)) {
                clean = without_stale(samples);
                samples = &clean;
            }
            let (mut lo, mut hi) = (0, 0);
            for (i, (&end, t)) in ends
                .iter()
                .zip((0..).map(|i| self.start + i * self.step))
                .enumerate()
            {
                while hi < samples.len() && samples[hi].t <= end {
                    hi += 1;
                }
                while lo < hi && samples[lo].t < end - range {
                    lo += 1;
                }
                if lo == hi {
                    continue;
                }
                loaded[i] += hi - lo;
                let rc = RangeCtx {
                    start: end - range,
                    end,
                    range_ms: range,
                    t,
                };
                if let Some(v) = range_fns::apply(name, &samples[lo..hi], rc, param) {
                    per_step[i].push((idx as u32, v));
                }
            }
        }
        self.check_samples(loaded.into_iter().max().unwrap_or(0), "query execution")?;
        Ok(Some(StepValues {
            per_step,
            unique: distinct(&labels),
            labels,
        }))
    }

    /// Whether the whole-query path fits: enough room under `max_samples` for a value
    /// per series and step, and series that fit the compact index.
    fn all_steps_fit(&self, series: &[Series]) -> bool {
        let steps = ((self.end - self.start) / self.step + 1) as usize;
        series.len() <= u32::MAX as usize
            && series.len().saturating_mul(steps) <= self.opts.max_samples
    }
}

fn without_stale(samples: &[Sample]) -> Vec<Sample> {
    samples.iter().filter(|p| !is_stale(p.v)).copied().collect()
}

fn distinct(labels: &[Labels]) -> bool {
    let mut seen = FnvHashSet::with_capacity_and_hasher(labels.len(), Default::default());
    labels.iter().all(|l| seen.insert(l))
}
