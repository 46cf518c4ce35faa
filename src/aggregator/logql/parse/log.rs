//! Log queries: the stream selector, line filters and the pipeline stages after `|`
//! (parsers, label filters, formatters, drop/keep), and `| unwrap` for range
//! aggregations. Regexes, patterns and templates are compiled here once to refuse bad
//! ones at parse time, as Loki does.

use super::lexer::Tok;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;
use crate::aggregator::logql::pipeline::{pattern, template};
use crate::aggregator::logql::units;
use promql_parser::label::{MatchOp, Matcher};

impl Parser<'_> {
    /// `{...}` followed by a pipeline without unwrap.
    pub(super) fn log_expr(&mut self) -> PResult<LogExpr> {
        let matchers = self.selector()?;
        let stages = self.stages()?;
        if self.is_punct("|") && matches!(self.peek_at(1), Tok::Ident(w) if w == "unwrap") {
            self.bump();
            return Err(
                self.error("syntax error: unexpected unwrap outside a range aggregation".into())
            );
        }
        Ok(LogExpr { matchers, stages })
    }

    /// `{a="b", c=~"d"}`: at least one matcher that does not match the empty string.
    pub(super) fn selector(&mut self) -> PResult<Vec<Matcher>> {
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.eat("}") {
            let name = self.ident()?;
            let op = self.match_op()?;
            out.push(self.matcher(op, &name)?);
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        if !out.iter().any(|m| !m.is_match("")) {
            return Err(super::ParseError::general(
                "queries require at least one regexp or equality matcher that does not have an \
                 empty-compatible value. For instance, app=~\".*\" does not meet this \
                 requirement, but app=~\".+\" will"
                    .into(),
            ));
        }
        Ok(out)
    }

    /// `=`, `!=`, `=~` or `!~`.
    fn match_op(&mut self) -> PResult<&'static str> {
        match self.peek() {
            Tok::Punct(p @ ("=" | "!=" | "=~" | "!~")) => {
                let p = *p;
                self.bump();
                Ok(p)
            }
            _ => Err(self.expecting("\"=\", \"!=\", \"=~\" or \"!~\"")),
        }
    }

    /// The matcher `name op "value"` (the value token is next); regexes anchored.
    fn matcher(&mut self, op: &str, name: &str) -> PResult<Matcher> {
        let value = self.string()?;
        let anchored = |p: &mut Self| {
            regex::Regex::new(&format!("^(?:{value})$"))
                .map_err(|e| p.error(format!("error parsing regexp: {e}")))
        };
        let op = match op {
            "=" => MatchOp::Equal,
            "!=" => MatchOp::NotEqual,
            "=~" => MatchOp::Re(anchored(self)?),
            _ => MatchOp::NotRe(anchored(self)?),
        };
        Ok(Matcher::new(op, name, &value))
    }

    /// Stages up to (not including) a `| unwrap`, a range or the end.
    pub(super) fn stages(&mut self) -> PResult<Vec<Stage>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Tok::Punct(p @ ("|=" | "!=" | "|~" | "!~")) => {
                    let p = *p;
                    self.bump();
                    out.push(Stage::LineFilter(self.line_filter(p)?));
                }
                Tok::Punct("|>" | "!>") => {
                    return Err(self.error("pattern line filters are not supported".into()))
                }
                Tok::Punct("|") if !matches!(self.peek_at(1), Tok::Ident(w) if w == "unwrap") => {
                    self.bump();
                    out.push(self.stage()?);
                }
                _ => return Ok(out),
            }
        }
    }

    /// The patterns of a line filter after its operator: `"a" or "b"`.
    fn line_filter(&mut self, op: &str) -> PResult<LineFilter> {
        let op = match op {
            "|=" => LineOp::Contains,
            "!=" => LineOp::NotContains,
            "|~" => LineOp::Match,
            _ => LineOp::NotMatch,
        };
        let mut patterns = Vec::new();
        loop {
            if self.is_word("ip") {
                return Err(self.error("ip() line filters are not supported".into()));
            }
            let at = self.pos;
            let s = self.string()?;
            if matches!(op, LineOp::Match | LineOp::NotMatch) {
                if let Err(e) = regex::Regex::new(&s) {
                    self.pos = at;
                    return Err(self.error(format!("error parsing regexp: {e}")));
                }
            }
            patterns.push(s);
            if !self.eat_word("or") {
                return Ok(LineFilter { op, patterns });
            }
        }
    }

    /// One stage after `|`.
    fn stage(&mut self) -> PResult<Stage> {
        let word = match self.peek() {
            Tok::Ident(w) => w.clone(),
            Tok::Punct("(") => return Ok(Stage::LabelFilter(self.label_filter()?)),
            _ => return Err(self.unexpected()),
        };
        let simple = match word.as_str() {
            "unpack" => Some(Stage::Unpack),
            "decolorize" => Some(Stage::Decolorize),
            _ => None,
        };
        if let Some(stage) = simple {
            self.bump();
            return Ok(stage);
        }
        let stage = match word.as_str() {
            "json" => {
                self.bump();
                Stage::Json(
                    self.extract_params()?
                        .into_iter()
                        .map(|(label, path)| JsonParam { label, path })
                        .collect(),
                )
            }
            "logfmt" => {
                self.bump();
                Stage::Logfmt(self.logfmt()?)
            }
            "regexp" => {
                self.with_string(|p, s| p.check_regexp(s).map(|_| Stage::Regexp(s.into())))?
            }
            "pattern" => self.with_string(|p, s| {
                pattern::Pattern::new(s).map_err(|e| p.error(e.to_string()))?;
                Ok(Stage::Pattern(s.into()))
            })?,
            "line_format" => self.with_string(|p, s| {
                template::Template::new(s).map_err(|e| p.error(e.to_string()))?;
                Ok(Stage::LineFormat(s.into()))
            })?,
            "label_format" => {
                self.bump();
                Stage::LabelFormat(self.label_formats()?)
            }
            "drop" | "keep" => {
                self.bump();
                let sels = self.label_sels()?;
                if word == "drop" {
                    Stage::Drop(sels)
                } else {
                    Stage::Keep(sels)
                }
            }
            _ => Stage::LabelFilter(self.label_filter()?),
        };
        Ok(stage)
    }

    /// Consumes the stage word and its string argument, checked by `f` (errors point
    /// at the string).
    fn with_string(&mut self, f: impl FnOnce(&mut Self, &str) -> PResult<Stage>) -> PResult<Stage> {
        self.bump();
        let Tok::Str(s) = self.peek().clone() else {
            return Err(self.expecting("STRING"));
        };
        let out = f(self, &s)?;
        self.bump();
        Ok(out)
    }

    /// A `regexp` stage's expression: valid, with at least one named group.
    fn check_regexp(&self, s: &str) -> PResult<()> {
        let re =
            regex::Regex::new(s).map_err(|e| self.error(format!("error parsing regexp: {e}")))?;
        if re.capture_names().flatten().next().is_none() {
            return Err(self.error("at least one named capture must be supplied".into()));
        }
        Ok(())
    }

    /// `--strict --keep-empty a, b="c"`.
    fn logfmt(&mut self) -> PResult<LogfmtParams> {
        let mut out = LogfmtParams::default();
        loop {
            if self.eat_word("--strict") {
                out.strict = true;
            } else if self.eat_word("--keep-empty") {
                out.keep_empty = true;
            } else {
                break;
            }
        }
        out.params = self.extract_params()?;
        Ok(out)
    }

    /// Optional `a, b="path"` after json/logfmt: (label, path or key).
    fn extract_params(&mut self) -> PResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        while let Tok::Ident(_) = self.peek() {
            let label = self.ident()?;
            let path = if self.eat("=") {
                self.string()?
            } else {
                label.clone()
            };
            out.push((label, path));
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    /// `dst=src, dst2="{{.x}}"`: each label at most once.
    fn label_formats(&mut self) -> PResult<Vec<LabelFmt>> {
        let mut out: Vec<LabelFmt> = Vec::new();
        loop {
            let dst = self.ident()?;
            self.expect("=")?;
            let item = match self.peek().clone() {
                Tok::Ident(src) => LabelFmt::Rename {
                    dst: dst.clone(),
                    src,
                },
                Tok::Str(t) => {
                    template::Template::new(&t).map_err(|e| self.error(e.to_string()))?;
                    LabelFmt::Template {
                        dst: dst.clone(),
                        template: t,
                    }
                }
                _ => return Err(self.expecting("IDENTIFIER or STRING")),
            };
            self.bump();
            let dup = out.iter().any(|f| matches!(f, LabelFmt::Rename { dst: d, .. } | LabelFmt::Template { dst: d, .. } if *d == dst));
            if dup {
                return Err(self.error(format!(
                    "multiple label name '{dst}' not allowed in a single format operation"
                )));
            }
            out.push(item);
            if !self.eat(",") {
                return Ok(out);
            }
        }
    }

    /// `a, b="v", c=~"re"` for drop and keep.
    fn label_sels(&mut self) -> PResult<Vec<LabelSel>> {
        let mut out = Vec::new();
        loop {
            let name = self.ident()?;
            if let Tok::Punct("=" | "!=" | "=~" | "!~") = self.peek() {
                let op = self.match_op()?;
                out.push(LabelSel::Matcher(self.matcher(op, &name)?));
            } else {
                out.push(LabelSel::Name(name));
            }
            if !self.eat(",") {
                return Ok(out);
            }
        }
    }

    /// Label filters joined by `or`, `and`, `,` or juxtaposition (`and` binds tighter).
    pub(super) fn label_filter(&mut self) -> PResult<LabelFilter> {
        let mut lhs = self.label_filter_and()?;
        while self.eat_word("or") {
            let rhs = self.label_filter_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_filter_and(&mut self) -> PResult<LabelFilter> {
        let mut lhs = self.label_filter_atom()?;
        loop {
            let joined = self.eat_word("and") || self.eat(",");
            let juxtaposed = matches!(self.peek(), Tok::Ident(w) if w != "or" && w != "offset")
                || self.is_punct("(");
            if !joined && !juxtaposed {
                return Ok(lhs);
            }
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
