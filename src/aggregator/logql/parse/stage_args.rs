//! The arguments of pipeline stages: `json` and `logfmt` parameters and flags,
//! `label_format` items and `drop`/`keep` selections.

use super::lexer::Tok;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;
use crate::aggregator::logql::pipeline::{json_path, template};

impl Parser<'_> {
    /// `| json` parameters, their paths checked.
    pub(super) fn json_params(&mut self) -> PResult<Vec<JsonParam>> {
        let mut out = Vec::new();
        while let Tok::Ident(label) = self.peek().clone() {
            self.bump();
            let path = if self.eat("=") {
                let Tok::Str(path) = self.peek().clone() else {
                    return Err(self.expecting("STRING"));
                };
                json_path::parse_path(&path).map_err(|e| self.error(e))?;
                self.bump();
                path
            } else {
                label.clone()
            };
            out.push(JsonParam { label, path });
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    /// `--strict --keep-empty a, b="c"`.
    pub(super) fn logfmt(&mut self) -> PResult<LogfmtParams> {
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
    pub(super) fn label_formats(&mut self) -> PResult<Vec<LabelFmt>> {
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
    pub(super) fn label_sels(&mut self) -> PResult<Vec<LabelSel>> {
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
}
