//! Metric queries: binary operators by precedence (as Prometheus: `or` < `and unless`
//! < comparisons < `+ -` < `* / %` < `^`, the last right-associative), range
//! aggregations over log ranges, vector aggregations, `vector()`, `label_replace()` and
//! number literals; plus the top-level split between log and metric queries.

use super::lexer::Tok;
use super::range::range_op;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;

impl Parser<'_> {
    /// A whole query: a log query, or a metric expression.
    pub(super) fn query(&mut self) -> PResult<Expr> {
        if self.is_punct("{") {
            return Ok(Expr::Log(self.log_expr()?));
        }
        Ok(Expr::Metric(self.binary(0)?))
    }

    /// Binary expressions whose operators bind at least as tight as `min`.
    fn binary(&mut self, min: u8) -> PResult<MetricExpr> {
        let base = self.depth;
        let mut lhs = self.nested(|p| p.primary())?;
        while let Some((op, prec)) = self.bin_op().filter(|(_, prec)| *prec >= min) {
            self.link()?;
            self.bump();
            let return_bool = self.eat_word("bool");
            if return_bool && !op.is_comparison() {
                return Err(
                    self.error("bool modifier can only be used on comparison operators".into())
                );
            }
            let matching = self.vector_matching()?;
            let next = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.nested(|p| p.binary(next))?;
            lhs = MetricExpr::Binary(Box::new(BinaryExpr {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            }));
        }
        self.depth = base;
        Ok(lhs)
    }

    /// The binary operator next, with its precedence.
    fn bin_op(&self) -> Option<(BinOp, u8)> {
        Some(match self.peek() {
            Tok::Ident(w) if w == "or" => (BinOp::Or, 1),
            Tok::Ident(w) if w == "and" => (BinOp::And, 2),
            Tok::Ident(w) if w == "unless" => (BinOp::Unless, 2),
            Tok::Punct("==") => (BinOp::Eq, 3),
            Tok::Punct("!=") => (BinOp::Ne, 3),
            Tok::Punct(">") => (BinOp::Gt, 3),
            Tok::Punct(">=") => (BinOp::Ge, 3),
            Tok::Punct("<") => (BinOp::Lt, 3),
            Tok::Punct("<=") => (BinOp::Le, 3),
            Tok::Punct("+") => (BinOp::Add, 4),
            Tok::Punct("-") => (BinOp::Sub, 4),
            Tok::Punct("*") => (BinOp::Mul, 5),
            Tok::Punct("/") => (BinOp::Div, 5),
            Tok::Punct("%") => (BinOp::Mod, 5),
            Tok::Punct("^") => (BinOp::Pow, 6),
            _ => return None,
        })
    }

    /// Optional `on (...)`/`ignoring (...)` and `group_left/right (...)`.
    fn vector_matching(&mut self) -> PResult<Option<VectorMatching>> {
        let on = match self.peek() {
            Tok::Ident(w) if w == "on" => true,
            Tok::Ident(w) if w == "ignoring" => false,
            _ => return Ok(None),
        };
        self.bump();
        let labels = self.label_list()?;
        let left = self.eat_word("group_left");
        let group = if left || self.eat_word("group_right") {
            let extra = if self.is_punct("(") {
                self.label_list()?
            } else {
                Vec::new()
            };
            Some(if left {
                GroupSide::Left(extra)
            } else {
                GroupSide::Right(extra)
            })
        } else {
            None
        };
        Ok(Some(VectorMatching { on, labels, group }))
    }

    /// A literal, a parenthesised expression or a function/aggregation call.
    fn primary(&mut self) -> PResult<MetricExpr> {
        match self.peek().clone() {
            Tok::Number(_) | Tok::Punct("-") => Ok(MetricExpr::Number(self.number()?)),
            Tok::Punct("+") if matches!(self.peek_at(1), Tok::Number(_)) => {
                self.bump();
                Ok(MetricExpr::Number(self.number()?))
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.binary(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Ident(w) => self.call(&w),
            _ => Err(self.unexpected()),
        }
    }

    /// `name(...)`: a range or vector aggregation, `vector` or `label_replace`.
    fn call(&mut self, name: &str) -> PResult<MetricExpr> {
        if let Some(op) = range_op(name) {
            self.bump();
            return Ok(MetricExpr::Range(Box::new(self.range_agg(op)?)));
        }
        if let Some(op) = vector_op(name) {
            self.bump();
            return Ok(MetricExpr::Vector(Box::new(self.vector_agg(op)?)));
        }
        match name {
            "vector" => {
                self.bump();
                self.expect("(")?;
                let n = self.number()?;
                self.expect(")")?;
                Ok(MetricExpr::VectorLit(n))
            }
            "label_replace" => {
                self.bump();
                self.label_replace()
            }
            _ => Err(self.unexpected()),
        }
    }

    /// After the operator: `[by (...)] ([param,] expr) [by (...)]`.
    fn vector_agg(&mut self, op: VectorOp) -> PResult<VectorAgg> {
        let mut grouping = self.grouping()?;
        self.expect("(")?;
        let param = if matches!(op, VectorOp::Topk | VectorOp::Bottomk) {
            let k = self.number()?;
            if k < 1.0 || k.fract() != 0.0 {
                return Err(self.error(format!(
                    "invalid parameter {k}: topk and bottomk need a positive integer"
                )));
            }
            self.expect(",")?;
            Some(k)
        } else {
            None
        };
        let inner = self.nested(|p| p.binary(0))?;
        self.expect(")")?;
        if grouping.is_none() {
            grouping = self.grouping()?;
        }
        if grouping.is_some() && matches!(op, VectorOp::Sort | VectorOp::SortDesc) {
            return Err(self.error("sort and sort_desc doesn't allow grouping by".into()));
        }
        Ok(VectorAgg {
            op,
            param,
            grouping,
            inner,
        })
    }

    /// `by (a, b)` or `without (a)`, if next.
    pub(super) fn grouping(&mut self) -> PResult<Option<Grouping>> {
        let without = match self.peek() {
            Tok::Ident(w) if w == "by" => false,
            Tok::Ident(w) if w == "without" => true,
            _ => return Ok(None),
        };
        self.bump();
        Ok(Some(Grouping {
            without,
            labels: self.label_list()?,
        }))
    }

    /// `(expr, "dst", "replacement", "src", "regex")`.
    fn label_replace(&mut self) -> PResult<MetricExpr> {
        self.expect("(")?;
        let inner = self.nested(|p| p.binary(0))?;
        let mut args = Vec::with_capacity(4);
        for _ in 0..4 {
            self.expect(",")?;
            args.push(self.string()?);
        }
        self.expect(")")?;
        let [dst, replacement, src, regex]: [String; 4] = args
            .try_into()
            .unwrap_or_else(|_| unreachable!("four arguments read"));
        if let Err(e) = regex::Regex::new(&format!("^(?:{regex})$")) {
            return Err(self.error(format!(
                "invalid regular expression in label_replace(): {e}"
            )));
        }
        Ok(MetricExpr::LabelReplace(Box::new(LabelReplace {
            inner,
            dst,
            replacement,
            src,
            regex,
        })))
    }
}

fn vector_op(name: &str) -> Option<VectorOp> {
    Some(match name {
        "sum" => VectorOp::Sum,
        "avg" => VectorOp::Avg,
        "min" => VectorOp::Min,
        "max" => VectorOp::Max,
        "count" => VectorOp::Count,
        "stddev" => VectorOp::Stddev,
        "stdvar" => VectorOp::Stdvar,
        "topk" => VectorOp::Topk,
        "bottomk" => VectorOp::Bottomk,
        "sort" => VectorOp::Sort,
        "sort_desc" => VectorOp::SortDesc,
        _ => return None,
    })
}
