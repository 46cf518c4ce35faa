//! [`MemStore`]: every series in a sorted map, samples in vectors. No persistence and no
//! compression: the plain reference that the engine's and the API's tests run on and
//! that the TSDB is checked against.

use super::{label_names_of, label_values_of};
use super::{AppendOutcome, Appender, Labels, Querier, Sample, Series, StorageError};
use promql_parser::label::Matcher;
use std::collections::BTreeMap;
use std::sync::RwLock;

#[derive(Default)]
pub struct MemStore {
    series: RwLock<BTreeMap<Labels, Vec<Sample>>>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn matching(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        series
            .iter()
            .filter(|(labels, _)| labels.matches(matchers))
            .filter_map(|(labels, samples)| {
                let lo = samples.partition_point(|s| s.t < mint);
                let hi = samples.partition_point(|s| s.t <= maxt);
                (lo < hi).then(|| Series {
                    labels: labels.clone(),
                    samples: samples[lo..hi].to_vec(),
                })
            })
            .collect()
    }
}

impl Querier for MemStore {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError> {
        Ok(self.matching(matchers, mint, maxt))
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        let series = self.matching(matchers, mint, maxt);
        Ok(label_names_of(series.iter().map(|s| &s.labels)))
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        let series = self.matching(matchers, mint, maxt);
        Ok(label_values_of(name, series.iter().map(|s| &s.labels)))
    }
}

impl Appender for MemStore {
    fn append(&self, batch: &[(Labels, Vec<Sample>)]) -> Result<AppendOutcome, StorageError> {
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        let mut out = AppendOutcome::default();
        for (labels, samples) in batch {
            let stored = series.entry(labels.clone()).or_default();
            for s in samples {
                match stored.last() {
                    Some(last) if s.t < last.t => out.out_of_order += 1,
                    Some(last) if s.t == last.t => {
                        if s.v.to_bits() != last.v.to_bits() {
                            out.duplicate += 1;
                        }
                    }
                    _ => {
                        stored.push(*s);
                        out.appended += 1;
                    }
                }
            }
            if stored.is_empty() {
                series.remove(labels);
            }
        }
        Ok(out)
    }
}
