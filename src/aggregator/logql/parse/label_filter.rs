//! Label filter expressions (`a="b" and (c > 5 or d > 10s), e < 20MB`) and
//! `| unwrap` with its post-filters. `and` (or `,`, or plain juxtaposition) binds
//! tighter than `or`, as in Loki.

use super::lexer::Tok;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;
use crate::aggregator::logql::units;

impl Parser<'_> {
    /// Label filters joined by `or`, `and`, `,` or juxtaposition (`and` binds tighter).
    pub(super) fn label_filter(&mut self) -> PResult<LabelFilter> {
        let base = self.depth;
        let mut lhs = self.label_filter_and()?;
        while self.eat_word("or") {
            self.link()?;
            let rhs = self.label_filter_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        self.depth = base;
        Ok(lhs)
    }

    fn label_filter_and(&mut self) -> PResult<LabelFilter> {
        let base = self.depth;
        let mut lhs = self.label_filter_atom()?;
        loop {
            let joined = self.eat_word("and") || self.eat(",");
            let juxtaposed = matches!(self.peek(), Tok::Ident(w) if w != "or" && w != "offset")
                || self.is_punct("(");
            if !joined && !juxtaposed {
                self.depth = base;
                return Ok(lhs);
            }
            self.link()?;
            let rhs = self.label_filter_atom()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
    }

    fn label_filter_atom(&mut self) -> PResult<LabelFilter> {
        if self.eat("(") {
            let inner = self.nested(|p| p.label_filter())?;
            self.expect(")")?;
            return Ok(inner);
        }
        if self.is_word("ip") {
            return Err(self.error("ip() label filters are not supported".into()));
        }
        let name = self.ident()?;
        let op = match self.peek() {
            Tok::Punct(p @ ("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<=")) => *p,
            _ => return Err(self.expecting("a comparison operator")),
        };
        self.bump();
        if let Tok::Str(_) = self.peek() {
            if matches!(op, "=" | "!=" | "=~" | "!~") {
                return Ok(LabelFilter::Str(self.matcher(op, &name)?));
            }
            return Err(self.expecting("NUMBER or DURATION"));
        }
        let cmp = match op {
            "=" | "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            _ => return Err(self.expecting("STRING")),
        };
        self.numeric_filter(name, cmp)
    }

    /// The value of `name > 5`, `name > 10s` or `name > 20MB`.
    fn numeric_filter(&mut self, name: String, op: CmpOp) -> PResult<LabelFilter> {
        if let Tok::Unit(u) = self.peek() {
            let u = u.clone();
            if let Some(value) = units::go_duration_secs(&u) {
                self.bump();
                return Ok(LabelFilter::Duration { name, op, value });
            }
            if let Some(value) = units::bytes(&u) {
                self.bump();
                return Ok(LabelFilter::Bytes { name, op, value });
            }
            return Err(self.error(format!("syntax error: invalid duration or byte size {u:?}")));
        }
        let value = self.number()?;
        Ok(LabelFilter::Number { name, op, value })
    }

    /// `unwrap x`, `unwrap duration(x)`, `unwrap bytes(x)`, then `| filter`s.
    pub(super) fn unwrap(&mut self) -> PResult<Unwrap> {
        let label = self.ident()?;
        let (label, conv) = match label.as_str() {
            "duration" | "duration_seconds" | "bytes" if self.eat("(") => {
                let inner = self.ident()?;
                self.expect(")")?;
                let conv = if label == "bytes" {
                    UnwrapConv::Bytes
                } else {
                    UnwrapConv::Duration
                };
                (inner, conv)
            }
            _ => (label, UnwrapConv::Number),
        };
        let mut post_filters = Vec::new();
        while self.is_punct("|") {
            self.bump();
            post_filters.push(self.label_filter()?);
        }
        Ok(Unwrap {
            label,
            conv,
            post_filters,
        })
    }
}
