//! Log queries: the stream selector, line filters and the pipeline stages after `|`
//! (parsers, label filters, formatters, drop/keep), and `| unwrap` for range
//! aggregations. Regexes, patterns and templates are compiled here once to refuse bad
//! ones at parse time, as Loki does.

use super::lexer::Tok;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;
use crate::aggregator::logql::pipeline::{pattern, template};
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
    pub(super) fn match_op(&mut self) -> PResult<&'static str> {
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
    pub(super) fn matcher(&mut self, op: &str, name: &str) -> PResult<Matcher> {
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
                Stage::Json(self.json_params()?)
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
}
