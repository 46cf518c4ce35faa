//! The metric half of the syntax tree: range aggregations over log ranges, vector
//! aggregations, binary operators with vector matching, literals and label_replace.

use super::LabelFilter;
use super::LogExpr;

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

impl VectorOp {
    /// The aggregation's name as written (`sum`, `topk`, `sort_desc`, ...).
    pub fn name(self) -> &'static str {
        match self {
            VectorOp::Sum => "sum",
            VectorOp::Avg => "avg",
            VectorOp::Min => "min",
            VectorOp::Max => "max",
            VectorOp::Count => "count",
            VectorOp::Stddev => "stddev",
            VectorOp::Stdvar => "stdvar",
            VectorOp::Topk => "topk",
            VectorOp::Bottomk => "bottomk",
            VectorOp::Sort => "sort",
            VectorOp::SortDesc => "sort_desc",
        }
    }
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
    /// The operator as written (`+`, `==`, `and`, ...).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }

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

impl MetricExpr {
    /// Every range aggregation in the expression, left to right: what the evaluator
    /// must read from the store.
    pub fn range_aggs(&self) -> Vec<&RangeAgg> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                MetricExpr::Range(r) => out.push(&**r),
                MetricExpr::Vector(v) => stack.push(&v.inner),
                MetricExpr::Binary(b) => {
                    stack.push(&b.rhs);
                    stack.push(&b.lhs);
                }
                MetricExpr::LabelReplace(l) => stack.push(&l.inner),
                MetricExpr::Number(_) | MetricExpr::VectorLit(_) => {}
            }
        }
        out
    }
}
