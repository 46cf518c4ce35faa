//! LogQL's syntax tree: what [`parse`](super::parse) yields and what the pipeline and
//! the evaluator consume. Log queries are a stream selector and a pipeline of
//! [`Stage`]s; metric queries wrap log ranges in range aggregations, and combine them
//! with vector aggregations, binary operators and literals, as in Loki's
//! `pkg/logql/syntax/ast.go`. Durations are nanoseconds.

use promql_parser::label::Matcher;

mod display;
mod display_metric;
mod metric;
pub use display::{duration as format_duration, quote};
#[cfg(test)]
mod tests;
pub use metric::*;

/// A whole query.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Log(LogExpr),
    Metric(MetricExpr),
}

/// `{app="x"} |= "err" | json | level="error"`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
}

/// One pipeline stage.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    LineFilter(LineFilter),
    Json(Vec<JsonParam>),
    Logfmt(LogfmtParams),
    Regexp(String),
    Pattern(String),
    Unpack,
    LabelFilter(LabelFilter),
    LineFormat(String),
    LabelFormat(Vec<LabelFmt>),
    Drop(Vec<LabelSel>),
    Keep(Vec<LabelSel>),
    Decolorize,
}

/// `|= "a" or "b"`: the line passes when any pattern matches (for the negative ops,
/// when none does), as Loki's `or` in line filters.
#[derive(Clone, Debug, PartialEq)]
pub struct LineFilter {
    pub op: LineOp,
    pub patterns: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Match,
    /// `!~`
    NotMatch,
}

/// `| json name="path.to[0]"` (or a bare `name`, whose path is the name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonParam {
    pub label: String,
    pub path: String,
}

/// `| logfmt --strict --keep-empty a, b="c"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogfmtParams {
    pub strict: bool,
    pub keep_empty: bool,
    /// Extract only these (label, logfmt key); empty means every key.
    pub params: Vec<(String, String)>,
}

/// A label filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelFilter {
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
    /// `name = "v"`, `!=`, `=~`, `!~` (regexes fully anchored).
    Str(Matcher),
    /// `name > 1.5`
    Number {
        name: String,
        op: CmpOp,
        value: f64,
    },
    /// `name > 10s` (value in seconds, as the label's duration is converted).
    Duration {
        name: String,
        op: CmpOp,
        value: f64,
    },
    /// `name > 20MB` (value in bytes).
    Bytes {
        name: String,
        op: CmpOp,
        value: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn holds(self, l: f64, r: f64) -> bool {
        match self {
            CmpOp::Eq => l == r,
            CmpOp::Ne => l != r,
            CmpOp::Gt => l > r,
            CmpOp::Ge => l >= r,
            CmpOp::Lt => l < r,
            CmpOp::Le => l <= r,
        }
    }
}

/// One `label_format` item: `dst=src` (rename) or `dst="{{template}}"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelFmt {
    Rename { dst: String, src: String },
    Template { dst: String, template: String },
}

/// One `drop`/`keep` item: a name, or a name with a matcher on its value.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelSel {
    Name(String),
    Matcher(Matcher),
}
