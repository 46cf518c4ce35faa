//! A log query's pipeline, compiled: [`Pipeline::process`] takes one entry (time, line,
//! stream labels, structured metadata) through the stages and yields the line (borrowed
//! when unchanged) and its resulting labels, or drops it. Labels live in a reused
//! [`labels::LabelSet`]; the result's [`Labels`] is rebuilt only when it differs from
//! the previous line's. [`unwrap::Extractor`] adds `| unwrap` for metric queries.

mod compile;
pub mod filter;
mod format;
mod json;
pub mod json_path;
mod json_scan;
pub mod label_filter;
pub mod labels;
mod logfmt;
pub mod pattern;
mod required;
pub mod template;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_format;
#[cfg(test)]
mod tests_more;
pub mod unwrap;

pub use required::required_substrings;

use super::ast::{LabelFilter, LabelSel, LogfmtParams, Stage};
use crate::aggregator::model::Labels;
use filter::CompiledLineFilter;
use format::LabelFmtStep;
use labels::LabelSet;
use template::{exec::Ctx, Template};

/// Per-line bounds.
#[derive(Clone, Copy, Debug)]
pub struct PipelineLimits {
    /// Maximum output of one template (line_format, label_format), in bytes.
    pub max_template_output: usize,
    /// Maximum JSON nesting the json stages walk.
    pub max_json_depth: usize,
}

impl Default for PipelineLimits {
    fn default() -> Self {
        PipelineLimits {
            max_template_output: 1 << 20,
            max_json_depth: 128,
        }
    }
}

/// A stage does not compile (the parser refuses these first; this guards hand-built ASTs).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
    #[error("invalid regexp stage: {0}")]
    Regex(#[from] regex::Error),
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error("invalid pattern: {0}")]
    Pattern(#[from] pattern::PatternError),
    #[error("{0}")]
    JsonPath(String),
}

#[derive(Clone, Debug)]
enum Step {
    Line(CompiledLineFilter),
    JsonAll,
    JsonPaths(Vec<(String, Vec<json_path::Seg>)>),
    Logfmt(LogfmtParams),
    Regexp(regex::Regex, regex::CaptureLocations),
    Pattern(pattern::Pattern),
    Unpack,
    Filter(LabelFilter),
    LineFormat(Template),
    LabelFormat(Vec<LabelFmtStep>),
    Drop(Vec<LabelSel>),
    Keep(Vec<LabelSel>),
    Decolorize,
}

/// A compiled pipeline with its per-line buffers.
#[derive(Debug)]
pub struct Pipeline {
    steps: Vec<Step>,
    /// Whether any stage reads or writes labels (else only line filters run).
    labelled: bool,
    limits: PipelineLimits,
    pub(super) labels: LabelSet,
    /// label_format's view of the labels (reused).
    snapshot: LabelSet,
    line: String,
    scratch: String,
    json: json::JsonBufs,
    logfmt: logfmt::LogfmtBufs,
    out: Labels,
}

impl Pipeline {
    pub fn new(stages: &[Stage]) -> Result<Self, PipelineError> {
        Self::with_limits(stages, PipelineLimits::default())
    }

    pub fn with_limits(stages: &[Stage], limits: PipelineLimits) -> Result<Self, PipelineError> {
        let steps = stages
            .iter()
            .map(compile::compile)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pipeline {
            labelled: steps.iter().any(|s| !matches!(s, Step::Line(_))),
            steps,
            limits,
            labels: LabelSet::default(),
            snapshot: LabelSet::default(),
            line: String::new(),
            scratch: String::new(),
            json: Default::default(),
            logfmt: Default::default(),
            out: Labels::default(),
        })
    }

    /// Takes one entry through the stages: the resulting line and labels, or `None`
    /// when a filter drops it.
    pub fn process<'s>(
        &'s mut self,
        ts: i64,
        line: &'s str,
        stream: &Labels,
        metadata: &[(String, String)],
    ) -> Option<(&'s str, &'s Labels)> {
        let rewritten = self.run(ts, line, stream, metadata)?;
        self.finish_labels(stream, metadata);
        Some((if rewritten { &self.line } else { line }, &self.out))
    }

    /// Runs the stages, leaving labels in `self.labels` (when labelled or with
    /// metadata): `Some(true)` when the line was rewritten into `self.line`.
    pub(super) fn run(
        &mut self,
        ts: i64,
        line: &str,
        stream: &Labels,
        metadata: &[(String, String)],
    ) -> Option<bool> {
        if !self.labelled && metadata.is_empty() {
            let keep = self
                .steps
                .iter()
                .all(|s| matches!(s, Step::Line(f) if f.keep(line)));
            return keep.then_some(false);
        }
        self.labels.reset(stream, metadata);
        let mut rewritten = false;
        for step in &mut self.steps {
            let cur: &str = if rewritten { &self.line } else { line };
            let lim = &self.limits;
            let labels = &mut self.labels;
            match step {
                Step::Line(f) => {
                    if !f.keep(cur) {
                        return None;
                    }
                }
                Step::JsonAll => {
                    json::extract_all(cur, stream, labels, &mut self.json, lim.max_json_depth)
                }
                Step::JsonPaths(p) => json_path::extract_paths(
                    cur,
                    p,
                    stream,
                    labels,
                    &mut self.json,
                    lim.max_json_depth,
                ),
                Step::Logfmt(p) => logfmt::extract(cur, p, stream, labels, &mut self.logfmt),
                Step::Regexp(re, locs) => regexp(re, locs, cur, stream, labels),
                Step::Pattern(p) => p.apply(cur, stream, labels),
                Step::Filter(f) => {
                    if !label_filter::keep(f, labels) {
                        return None;
                    }
                }
                Step::LabelFormat(steps) => format::label_format(
                    steps,
                    &mut self.snapshot,
                    cur,
                    ts,
                    labels,
                    &mut self.scratch,
                    lim.max_template_output,
                ),
                Step::Drop(sels) => format::drop(sels, labels),
                Step::Keep(sels) => format::keep(sels, labels),
                Step::LineFormat(t) => {
                    self.scratch.clear();
                    let ctx = Ctx {
                        line: cur,
                        ts,
                        labels,
                    };
                    match t.render(&ctx, &mut self.scratch, lim.max_template_output) {
                        Ok(()) => {
                            std::mem::swap(&mut self.line, &mut self.scratch);
                            rewritten = true;
                        }
                        Err(e) => labels.set_error(format::TEMPLATE_ERR, &e.to_string()),
                    }
                }
                Step::Decolorize => {
                    if format::decolorize(cur, &mut self.scratch) {
                        std::mem::swap(&mut self.line, &mut self.scratch);
                        rewritten = true;
                    }
                }
                Step::Unpack => {
                    if json::unpack(
                        cur,
                        stream,
                        labels,
                        &mut self.json,
                        &mut self.scratch,
                        lim.max_json_depth,
                    ) {
                        std::mem::swap(&mut self.line, &mut self.scratch);
                        rewritten = true;
                    }
                }
            }
        }
        Some(rewritten)
    }

    /// Makes `self.out` the labels `run` left (the stream's own when untouched).
    pub(super) fn finish_labels(&mut self, stream: &Labels, metadata: &[(String, String)]) {
        if !self.labelled && metadata.is_empty() {
            if self.out.id() != stream.id() {
                self.out = stream.clone();
            }
        } else if !self.labels.same_as(&self.out) {
            self.out = if self.labels.same_as(stream) {
                stream.clone()
            } else {
                self.labels.to_labels()
            };
        }
    }

    /// The byte strings every kept line contains (for `LogReader::scan`).
    pub fn required_substrings(stages: &[Stage]) -> Vec<std::borrow::Cow<'_, [u8]>> {
        required::required_substrings(stages)
    }
}

/// `| regexp`: each named group that took part in the match becomes a label.
fn regexp(
    re: &regex::Regex,
    locs: &mut regex::CaptureLocations,
    line: &str,
    stream: &Labels,
    labels: &mut LabelSet,
) {
    if re.captures_read(locs, line).is_none() {
        return;
    }
    for (i, name) in re.capture_names().enumerate() {
        if let (Some(name), Some((s, e))) = (name, locs.get(i)) {
            labels.set_extracted(stream, name, &line[s..e]);
        }
    }
}
