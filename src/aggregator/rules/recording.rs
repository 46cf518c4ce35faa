//! A recording rule, as Prometheus's `RecordingRule.Eval`: the expression's series
//! renamed to the rule's name with the rule's labels set (an empty value removes a
//! label); two series with one label set after that is an error, as is more series
//! than the group's limit. Appended by the group, so later rules of the group read
//! them in the same evaluation.

use super::query::{QuerySources, RuleExpr};
use crate::aggregator::model::{Labels, METRIC_NAME};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug)]
pub struct RecordingRule {
    pub name: String,
    pub expr: RuleExpr,
    pub labels: BTreeMap<String, String>,
}

impl RecordingRule {
    /// The series to append at `ts`.
    pub fn eval(
        &self,
        src: QuerySources,
        ts: i64,
        limit: usize,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (series, v) in self.expr.eval(src, ts)? {
            let mut pairs = series.to_pairs();
            pairs.push((METRIC_NAME.into(), self.name.clone()));
            pairs.extend(self.labels.iter().map(|(n, v)| (n.clone(), v.clone())));
            let labels = Labels::new(pairs);
            if !seen.insert(labels.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .into(),
                );
            }
            out.push((labels, v));
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok(out)
    }
}
