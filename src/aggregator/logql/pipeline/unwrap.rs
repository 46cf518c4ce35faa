//! `| unwrap` for metric queries: after the pipeline, the label's value becomes the
//! sample (a float; seconds for `duration()`; bytes for `bytes()`), the label leaves
//! the series' labels, and the post-unwrap label filters run. A value that does not
//! convert gives the sample 0 with `__error__="SampleExtractionErr"`, as Loki does;
//! the evaluator decides what to do with error-labelled samples.

use super::{label_filter, Pipeline, PipelineError, PipelineLimits};
use crate::aggregator::logql::ast::{LogExpr, Unwrap, UnwrapConv};
use crate::aggregator::logql::units;
use crate::aggregator::model::Labels;

pub const SAMPLE_ERR: &str = "SampleExtractionErr";

/// A pipeline with an unwrap: entries in, (value, series labels) out.
#[derive(Debug)]
pub struct Extractor {
    pipeline: Pipeline,
    unwrap: Unwrap,
}

impl Extractor {
    pub fn new(
        log: &LogExpr,
        unwrap: &Unwrap,
        limits: PipelineLimits,
    ) -> Result<Self, PipelineError> {
        let mut pipeline = Pipeline::with_limits(&log.stages, limits)?;
        // The unwrap reads labels, so the label path must run even without stages.
        pipeline.labelled = true;
        Ok(Extractor {
            pipeline,
            unwrap: unwrap.clone(),
        })
    }

    /// The sample for one entry, or `None` when a filter drops it.
    pub fn extract(
        &mut self,
        ts: i64,
        line: &str,
        stream: &Labels,
        metadata: &[(String, String)],
    ) -> Option<(f64, &Labels)> {
        self.pipeline.run(ts, line, stream, metadata)?;
        let labels = &mut self.pipeline.labels;
        let raw = labels.get(&self.unwrap.label).unwrap_or("");
        let value = if labels.has_error() {
            0.0
        } else {
            match convert(self.unwrap.conv, raw) {
                Some(v) => v,
                None => {
                    let details = format!(
                        "cannot convert {raw:?} of label {} to a sample value",
                        self.unwrap.label
                    );
                    labels.set_error(SAMPLE_ERR, &details);
                    0.0
                }
            }
        };
        labels.remove(&self.unwrap.label);
        for f in &self.unwrap.post_filters {
            if !label_filter::keep(f, labels) {
                return None;
            }
        }
        self.pipeline.finish_labels(stream, metadata);
        Some((value, &self.pipeline.out))
    }
}

/// The sample value of a label value (Go's `ParseFloat`, `ParseDuration`, humanize).
pub fn convert(conv: UnwrapConv, raw: &str) -> Option<f64> {
    let raw = raw.trim();
    match conv {
        UnwrapConv::Number => raw.parse().ok(),
        UnwrapConv::Duration => units::go_duration_secs(raw),
        UnwrapConv::Bytes => units::bytes(raw),
    }
}
