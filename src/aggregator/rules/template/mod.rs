//! Prometheus's alert template language: Go's text/template as Prometheus runs a
//! rule's label and annotation templates, with `$labels`, `$value`, `$externalLabels`,
//! `$externalURL` (and `.Labels`, `.Value`, ...) defined, `missingkey=zero` maps,
//! Go's built-in functions and Prometheus's formatting ones (`humanize`, ...).
//!
//! Written apart from LogQL's `line_format` subset (`logql/pipeline/template`): that
//! one reads a log line's labels as bare fields, has no control structures, variables
//! or floats, and runs per log line where speed matters; sharing its tree would have
//! burdened both. Lexing: [`lex`]; the tree: [`parse`]; running it: [`exec`], over the
//! values of [`value`]; functions: [`funcs`], [`humanize`], Go's `fmt` in [`fmt`].

mod compare;
mod exec;
mod fmt;
mod funcs;
mod humanize;
mod lex;
mod parse;
mod value;

pub(crate) use funcs::urlquery;

use crate::aggregator::model::Labels;

/// What an alert's templates read: the alert's labels and value, the server's
/// external labels and URL.
pub struct TemplateData<'a> {
    pub labels: &'a Labels,
    pub value: f64,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
}

/// Expands a rule's label or annotation template as Prometheus does.
pub fn expand(text: &str, data: &TemplateData) -> Result<String, String> {
    let nodes = parse::parse(text).map_err(|e| format!("error parsing template: {e}"))?;
    let mut state = exec::State::new(data);
    state
        .run(&nodes, &value::Val::Data)
        .map_err(|e| format!("error executing template: {e}"))?;
    Ok(state.out)
}

/// Parses only: rule-file validation rejects a template that does not parse.
pub fn check(text: &str) -> Result<(), String> {
    parse::parse(text)
        .map(drop)
        .map_err(|e| format!("error parsing template: {e}"))
}

#[cfg(test)]
mod tests;
