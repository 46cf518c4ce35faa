//! Subqueries: the inner expression evaluated at steps aligned to multiples of the
//! step (Prometheus's alignment) within `[t - range, t]` after `@` and `offset`; each
//! step is evaluated once per query and shared by every outer step that sees it.

use super::selectors::millis;
use super::{Ctx, Elem, Val, Window, DEFAULT_SUBQUERY_STEP_MS};
use crate::aggregator::model::{Labels, Sample, Series};
use crate::aggregator::promql::QueryError;
use promql_parser::parser::SubqueryExpr;
use std::collections::BTreeMap;
use std::rc::Rc;

impl Ctx<'_> {
    pub(super) fn subquery(&self, sq: &SubqueryExpr, t: i64, w: Window) -> Result<Val, QueryError> {
        let (t, w) = self.shift(&sq.at, &sq.offset, t, w);
        let range = millis(&sq.range);
        let step = sq
            .step
            .as_ref()
            .map(millis)
            .unwrap_or(DEFAULT_SUBQUERY_STEP_MS)
            .max(1);
        let inner = Window {
            start: w.start - range,
            end: w.end,
        };
        let mut out: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        let mut ts = (t - range).div_euclid(step) * step;
        if ts < t - range {
            ts += step;
        }
        while ts <= t {
            self.check_timeout("subquery evaluation")?;
            for e in self.subquery_step(sq, ts, inner)?.iter() {
                out.entry(e.labels.clone())
                    .or_default()
                    .push(Sample { t: ts, v: e.v });
            }
            ts += step;
        }
        let series = out
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples });
        Ok(Val::Matrix(series.collect()))
    }

    /// The subquery's inner expression at `ts`, evaluated once per query.
    fn subquery_step(
        &self,
        sq: &SubqueryExpr,
        ts: i64,
        w: Window,
    ) -> Result<Rc<Vec<Elem>>, QueryError> {
        let key = (sq as *const SubqueryExpr as usize, ts);
        if let Some(v) = self.fetcher.steps.borrow().get(&key) {
            return Ok(v.clone());
        }
        let els = match self.eval(&sq.expr, ts, w)? {
            Val::Vector(els) => els,
            Val::Scalar(v) => vec![Elem {
                labels: Labels::default(),
                v,
            }],
            other => {
                return Err(QueryError::BadData(format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    other.type_name()
                )))
            }
        };
        let els = Rc::new(els);
        self.fetcher.steps.borrow_mut().insert(key, els.clone());
        Ok(els)
    }
}
