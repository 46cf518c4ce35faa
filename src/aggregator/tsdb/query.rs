//! Queries over blocks and head: each source answers alone and the answers merge by
//! labels into one series per label set, samples in time order. The head is read before
//! the block list: a compaction makes its block visible before it truncates the head, so
//! a query sees a range in the head, in the new block, or in both — never in neither —
//! and samples at a time already taken from an earlier source are dropped (the same
//! sample in a block and the head is returned once). Only blocks overlapping
//! `mint..=maxt` are read.

use super::Tsdb;
use crate::aggregator::model::{
    label_names_of, label_values_of, Labels, Querier, Sample, Series, StorageError,
};
use promql_parser::label::Matcher;
use std::collections::BTreeMap;

impl Tsdb {
    /// The label sets of the series with a sample in `mint..=maxt`, in any order,
    /// possibly repeated.
    fn label_sets(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        let head = self.inner.read_head();
        let mut out: Vec<Labels> = (head.label_sets(matchers, mint, maxt)?)
            .into_iter()
            .cloned()
            .collect();
        drop(head);
        for b in self
            .inner
            .blocks()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
        {
            out.extend(b.label_sets(matchers, mint, maxt)?);
        }
        Ok(out)
    }
}

/// Merges per-source answers, each sorted by labels, into one answer sorted by labels.
fn merge(parts: Vec<Vec<Series>>) -> Vec<Series> {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut by_labels: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    for s in parts.into_iter().flatten() {
        by_labels.entry(s.labels).or_default().extend(s.samples);
    }
    by_labels
        .into_iter()
        .map(|(labels, mut samples)| {
            if samples.windows(2).any(|w| w[0].t >= w[1].t) {
                samples.sort_by_key(|s| s.t); // stable: the first source's sample wins
                samples.dedup_by_key(|s| s.t);
            }
            Series { labels, samples }
        })
        .collect()
}

impl Querier for Tsdb {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError> {
        let head = self.inner.read_head().select(matchers, mint, maxt)?;
        let mut parts = Vec::new();
        for b in self
            .inner
            .blocks()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
        {
            parts.push(b.select(matchers, mint, maxt)?);
        }
        parts.push(head); // blocks first: they are older
        Ok(merge(parts))
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        Ok(label_names_of(&self.label_sets(matchers, mint, maxt)?))
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        Ok(label_values_of(
            name,
            &self.label_sets(matchers, mint, maxt)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, ts: &[i64]) -> Series {
        Series {
            labels: Labels::from_pairs(&[("__name__", name)]),
            samples: ts.iter().map(|&t| Sample { t, v: t as f64 }).collect(),
        }
    }

    #[test]
    fn merge_joins_series_in_time_order_and_drops_repeated_times() {
        let blocks = vec![series("a", &[1, 2]), series("b", &[1])];
        let head = vec![series("a", &[2, 3]), series("c", &[9])];
        let got = merge(vec![blocks, head]);
        let want = vec![
            series("a", &[1, 2, 3]),
            series("b", &[1]),
            series("c", &[9]),
        ];
        assert_eq!(got, want);
    }
}
