//! LogQL: the parser ([`parse()`]), the syntax tree ([`ast`]) and the log pipeline
//! ([`pipeline::Pipeline`], with [`pipeline::unwrap::Extractor`] for unwrapped metric
//! queries). The evaluator over `LogReader` builds on these.

pub mod ast;
pub mod parse;
pub mod pipeline;
#[cfg(test)]
mod tests_fuzz;
pub mod units;

pub use ast::Expr;
pub use parse::{parse, parse_with, ParseError, ParseLimits};
pub use pipeline::{required_substrings, Pipeline, PipelineError, PipelineLimits};
