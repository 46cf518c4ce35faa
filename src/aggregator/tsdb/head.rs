//! The head: every series in memory with a numeric ref (dense: the ref is the index),
//! the labels → ref index ([`SeriesIndex`]), the inverted index, and the chunks. Appends are planned
//! against the head (order and duplicate checks as `MemStore` and Prometheus without an
//! out-of-order window make them), logged to the WAL, then applied; queries read it.

use super::postings::Postings;
use super::record::RefSample;
use super::series::MemSeries;
use super::series_index::{BuildMulHasher, IntMap, SeriesIndex};
use crate::aggregator::model::{AppendOutcome, Labels, Sample, Series, StorageError};
use promql_parser::label::Matcher;
use std::collections::HashMap;
use std::sync::Arc;

/// What an append batch will do once logged.
#[derive(Debug, Default)]
pub struct Plan {
    pub new_series: Vec<(u64, Labels)>,
    pub samples: Vec<RefSample>,
    pub outcome: AppendOutcome,
    /// Of `outcome.out_of_order`: older than the head's min valid time (in blocks).
    pub out_of_bounds: u64,
}

#[derive(Debug)]
pub struct Head {
    series: Vec<MemSeries>,
    index: SeriesIndex,
    postings: Postings,
    chunk_range: i64,
    /// Older samples are refused: their range is persisted in a block.
    min_valid_t: i64,
}

/// Counts of what the head holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeadStats {
    pub series: usize,
    pub chunks: usize,
    pub samples: usize,
    pub chunk_bytes: usize,
}

impl Head {
    pub fn new(chunk_range: i64) -> Self {
        Head {
            series: Vec::new(),
            index: SeriesIndex::default(),
            postings: Postings::default(),
            chunk_range: chunk_range.max(1),
            min_valid_t: i64::MIN,
        }
    }

    /// The ref the next new series gets.
    pub fn next_ref(&self) -> u64 {
        self.series.len() as u64
    }

    /// Decides which samples of `batch` are taken; new series get the next refs. Each
    /// label set is hashed once; a known series' labels are not cloned.
    pub fn plan(&self, batch: &[(Labels, Vec<Sample>)]) -> Plan {
        let mut plan = Plan {
            samples: Vec::with_capacity(batch.iter().map(|(_, s)| s.len()).sum()),
            ..Plan::default()
        };
        // The newest taken sample of each ref in this batch (a series may repeat).
        let mut last_of: IntMap<Option<Sample>> =
            IntMap::with_capacity_and_hasher(batch.len(), BuildMulHasher);
        let mut fresh: HashMap<&Labels, u64> = HashMap::new();
        for (labels, samples) in batch.iter().filter(|(_, s)| !s.is_empty()) {
            let r = match self.find(labels) {
                Some(r) => r,
                None => *fresh.entry(labels).or_insert_with(|| {
                    let r = self.next_ref() + plan.new_series.len() as u64;
                    plan.new_series.push((r, labels.clone()));
                    r
                }),
            };
            let last = last_of.entry(r).or_insert_with(|| self.last(r));
            for &s in samples {
                if s.t < self.min_valid_t {
                    plan.outcome.out_of_order += 1;
                    plan.out_of_bounds += 1;
                    continue;
                }
                if take(last, s, &mut plan.outcome) {
                    plan.samples.push(RefSample { r, t: s.t, v: s.v });
                    *last = Some(s);
                }
            }
        }
        plan
    }

    /// The ref of a known series.
    fn find(&self, labels: &Labels) -> Option<u64> {
        let h = self.index.hash(labels);
        self.index
            .get(h, labels, |r| &self.series[r as usize].labels)
    }

    /// The newest sample of series `r` (none for a ref not added yet).
    fn last(&self, r: u64) -> Option<Sample> {
        self.series.get(r as usize).and_then(MemSeries::last)
    }

    /// Adds series `r`; refs must come in order (the WAL logs them so).
    pub fn add_series(&mut self, r: u64, labels: Labels) -> Result<(), StorageError> {
        let h = self.index.hash(&labels);
        let known = self
            .index
            .get(h, &labels, |r| &self.series[r as usize].labels);
        if r != self.next_ref() || known.is_some() {
            return Err(StorageError::Corrupt(format!(
                "series ref {r} for {labels} out of sequence (next {}) or repeated",
                self.next_ref()
            )));
        }
        self.postings.add(r, &labels);
        self.index.insert(h, r);
        self.series.push(MemSeries::new(Arc::new(labels)));
        Ok(())
    }

    /// Appends a planned (or replayed) sample; false when its series is unknown or it
    /// is out of order after all (a replayed WAL that disagrees).
    pub fn append(&mut self, s: RefSample) -> bool {
        let chunk_range = self.chunk_range;
        let Some(series) = self.series.get_mut(s.r as usize) else {
            return false;
        };
        if series.dead || series.last().is_some_and(|l| s.t <= l.t) {
            return false;
        }
        series.append(Sample { t: s.t, v: s.v }, chunk_range);
        true
    }

    /// The series matching `matchers` with a sample in `mint..=maxt`, sorted by labels.
    pub fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError> {
        let mut out = Vec::new();
        for s in self.matching(matchers) {
            let samples = s.samples(mint, maxt)?;
            if !samples.is_empty() {
                out.push(Series {
                    labels: (*s.labels).clone(),
                    samples,
                });
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    /// The label sets of the series `select` would return, unsorted.
    pub fn label_sets<'a>(
        &'a self,
        matchers: &'a [Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<&'a Labels>, StorageError> {
        let mut out = Vec::new();
        for s in self.matching(matchers) {
            if s.has_sample_in(mint, maxt)? {
                out.push(&*s.labels);
            }
        }
        Ok(out)
    }

    fn matching<'a>(&'a self, matchers: &'a [Matcher]) -> impl Iterator<Item = &'a MemSeries> + 'a {
        let refs: Box<dyn Iterator<Item = u64>> = match self.postings.candidates(matchers) {
            Some(refs) => Box::new(refs.into_iter()),
            None => Box::new(0..self.next_ref()),
        };
        refs.map(|r| &self.series[r as usize])
            .filter(move |s| s.labels.matches(matchers))
    }

    pub fn stats(&self) -> HeadStats {
        let mut st = HeadStats {
            series: self.series.iter().filter(|s| !s.dead).count(),
            ..Default::default()
        };
        for s in &self.series {
            let (c, n, b) = s.footprint();
            st.chunks += c;
            st.samples += n;
            st.chunk_bytes += b;
        }
        st
    }
}

#[path = "head_truncate.rs"]
mod truncate;
pub use truncate::ChunkCopies;

/// Whether `s` follows `last`: older is out of order; the same time with other value
/// bits is a duplicate; the same sample again is silently ignored (as Prometheus does).
fn take(last: &Option<Sample>, s: Sample, out: &mut AppendOutcome) -> bool {
    match last {
        Some(l) if s.t < l.t => out.out_of_order += 1,
        Some(l) if s.t == l.t => {
            if s.v.to_bits() != l.v.to_bits() {
                out.duplicate += 1;
            }
        }
        _ => {
            out.appended += 1;
            return true;
        }
    }
    false
}
