//! LogQL's syntax tree: what [`parse`](super::parse) yields and what the pipeline and
//! the evaluator consume. Log queries are a stream selector and a pipeline of
//! [`Stage`]s; metric queries wrap log ranges in range aggregations, and combine them
//! with vector aggregations, binary operators and literals, as in Loki's
//! `pkg/logql/syntax/ast.go`. Durations are nanoseconds.

use promql_parser::label::Matcher;

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

/// A metric query.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricExpr {
    Range(Box<RangeAgg>),
    Vector(Box<VectorAgg>),
    Binary(Box<BinaryExpr>),
    Number(f64),
    /// `vector(1)`
    VectorLit(f64),
    LabelReplace(Box<LabelReplace>),
}

/// `count_over_time({app="x"} |= "e" [5m] offset 1h)`, `quantile_over_time(0.9, ... |
/// unwrap latency [1m]) by (path)`.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeAgg {
    pub op: RangeOp,
    /// `quantile_over_time`'s quantile.
    pub param: Option<f64>,
    pub log: LogExpr,
    pub unwrap: Option<Unwrap>,
    pub range: i64,
    pub offset: i64,
    pub grouping: Option<Grouping>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOp {
    CountOverTime,
    Rate,
    RateCounter,
    BytesOverTime,
    BytesRate,
    AbsentOverTime,
    SumOverTime,
    AvgOverTime,
    MaxOverTime,
    MinOverTime,
    FirstOverTime,
    LastOverTime,
    StdvarOverTime,
    StddevOverTime,
    QuantileOverTime,
}

/// `| unwrap bytes(size) | __error__=""`.
#[derive(Clone, Debug, PartialEq)]
pub struct Unwrap {
    pub label: String,
    pub conv: UnwrapConv,
    /// Label filters after the unwrap (applied once the value is extracted).
    pub post_filters: Vec<LabelFilter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwrapConv {
    /// A plain float.
    Number,
    /// `duration(x)` / `duration_seconds(x)`: a Go duration, in seconds.
    Duration,
    /// `bytes(x)`: a byte size (`5KiB`), in bytes.
    Bytes,
}

/// `sum by (app) (...)`, `topk(3, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorAgg {
    pub op: VectorOp,
    /// `topk`/`bottomk`'s k.
    pub param: Option<f64>,
    pub grouping: Option<Grouping>,
    pub inner: MetricExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    Sort,
    SortDesc,
}

/// `by (a, b)` or `without (a)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

/// `lhs op bool on (a) group_left (b) rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryExpr {
    pub op: BinOp,
    pub lhs: MetricExpr,
    pub rhs: MetricExpr,
    /// `bool` after a comparison: yield 0/1 instead of filtering.
    pub return_bool: bool,
    pub matching: Option<VectorMatching>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le
        )
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
}

/// `on (a)` / `ignoring (a)`, with an optional `group_left`/`group_right`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorMatching {
    pub on: bool,
    pub labels: Vec<String>,
    pub group: Option<GroupSide>,
}

/// `group_left (extra)` / `group_right (extra)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupSide {
    Left(Vec<String>),
    Right(Vec<String>),
}

/// `label_replace(inner, "dst", "replacement", "src", "regex")`.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelReplace {
    pub inner: MetricExpr,
    pub dst: String,
    pub replacement: String,
    pub src: String,
    pub regex: String,
}
