//! A range query's result built step by step: each step's vector appended to the
//! series of its label sets. Consecutive steps mostly list the same series in the same
//! order, so each element is first tried against the series its position held at the
//! previous step (one comparison) before the hash index.

use super::{Elem, Val};
use crate::aggregator::model::{Labels, Sample, Series};
use crate::aggregator::promql::QueryError;
use fnv::FnvHashMap;

#[derive(Default)]
pub(super) struct MatrixBuilder {
    index: FnvHashMap<Labels, usize>,
    series: Vec<Series>,
    /// The series each position of the previous step's vector went to.
    last: Vec<usize>,
}

impl MatrixBuilder {
    /// Adds one step's value at `t`; returns the samples added.
    pub fn add(&mut self, v: Val, t: i64) -> Result<usize, QueryError> {
        match v {
            Val::Scalar(v) => {
                self.push(0, Labels::default(), Sample { t, v })?;
                Ok(1)
            }
            Val::Vector(els) => {
                let n = els.len();
                for (i, Elem { labels, v }) in els.into_iter().enumerate() {
                    self.push(i, labels, Sample { t, v })?;
                }
                self.last.truncate(n);
                Ok(n)
            }
            other => Err(QueryError::BadData(format!(
                "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector, got {}",
                other.type_name()
            ))),
        }
    }

    fn push(&mut self, pos: usize, labels: Labels, p: Sample) -> Result<(), QueryError> {
        let slot = match self.last.get(pos) {
            Some(&s) if self.series[s].labels == labels => s,
            _ => self.slot(labels),
        };
        let points = &mut self.series[slot].samples;
        if points.last().is_some_and(|q| q.t == p.t) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
        points.push(p);
        match self.last.get_mut(pos) {
            Some(s) => *s = slot,
            None => self.last.push(slot),
        }
        Ok(())
    }

    fn slot(&mut self, labels: Labels) -> usize {
        if let Some(&s) = self.index.get(&labels) {
            return s;
        }
        self.series.push(Series {
            labels: labels.clone(),
            samples: Vec::new(),
        });
        self.index.insert(labels, self.series.len() - 1);
        self.series.len() - 1
    }

    /// The series, sorted by labels (as Prometheus returns a matrix).
    pub fn finish(self) -> Vec<Series> {
        let mut series = self.series;
        series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        series
    }
}
