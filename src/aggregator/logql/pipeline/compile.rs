//! Compiling AST stages into the pipeline's steps: regexes, templates, patterns and
//! JSON paths built once per query.

use super::format::LabelFmtStep;
use super::template::Template;
use super::{filter::CompiledLineFilter, json_path, pattern, PipelineError, Step};
use crate::aggregator::logql::ast::{LabelFmt, Stage};

pub(super) fn compile(stage: &Stage) -> Result<Step, PipelineError> {
    Ok(match stage {
        Stage::LineFilter(f) => Step::Line(CompiledLineFilter::new(f)?),
        Stage::Json(params) if params.is_empty() => Step::JsonAll,
        Stage::Json(params) => Step::JsonPaths(
            params
                .iter()
                .map(|p| {
                    Ok((
                        p.label.clone(),
                        json_path::parse_path(&p.path).map_err(PipelineError::JsonPath)?,
                    ))
                })
                .collect::<Result<_, PipelineError>>()?,
        ),
        Stage::Logfmt(p) => Step::Logfmt(p.clone()),
        Stage::Regexp(re) => {
            let re = regex::Regex::new(re)?;
            let locs = re.capture_locations();
            Step::Regexp(re, locs)
        }
        Stage::Pattern(p) => Step::Pattern(pattern::Pattern::new(p)?),
        Stage::Unpack => Step::Unpack,
        Stage::LabelFilter(f) => Step::Filter(f.clone()),
        Stage::LineFormat(t) => Step::LineFormat(Template::new(t)?),
        Stage::LabelFormat(items) => Step::LabelFormat(
            items
                .iter()
                .map(|i| {
                    Ok(match i {
                        LabelFmt::Rename { dst, src } => LabelFmtStep::Rename {
                            dst: dst.clone(),
                            src: src.clone(),
                        },
                        LabelFmt::Template { dst, template } => LabelFmtStep::Template {
                            dst: dst.clone(),
                            template: Template::new(template)?,
                        },
                    })
                })
                .collect::<Result<_, PipelineError>>()?,
        ),
        Stage::Drop(s) => Step::Drop(s.clone()),
        Stage::Keep(s) => Step::Keep(s.clone()),
        Stage::Decolorize => Step::Decolorize,
    })
}
