//! LogQL's parser: hand-written recursive descent over [`lexer`] tokens, following
//! Loki's grammar (`pkg/logql/syntax/expr.y`). [`parse`] is the entry point; errors
//! read as Loki's (`parse error at line 1, col 12: syntax error: unexpected ...`),
//! which the HTTP API answers with 400. Log queries live in [`log`], metric queries in
//! [`metric`].

mod label_filter;
pub mod lexer;
mod log;
mod metric;
mod range;
mod stage_args;

pub use range::range_op_name;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_log;
#[cfg(test)]
mod tests_metric;

use super::ast::Expr;
use lexer::{Spanned, Tok};

/// Bounds on what one query may hold: deep nesting would otherwise overflow the stack.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Maximum query length in bytes.
    pub max_len: usize,
    /// Maximum nesting of parentheses, aggregations and operator chains (the depth of
    /// the syntax tree, which evaluation and dropping walk recursively).
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_len: 128 * 1024,
            max_depth: 128,
        }
    }
}

/// Why a query does not parse: a message and where (1-based; 0,0 when no position).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl ParseError {
    /// An error at byte offset `at` of `src`.
    pub fn at(src: &str, at: usize, msg: String) -> Self {
        let before = &src[..at.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError { line, col, msg }
    }

    /// An error about the query as a whole.
    pub fn general(msg: String) -> Self {
        ParseError {
            line: 0,
            col: 0,
            msg,
        }
    }

    fn render(&self) -> String {
        if self.line == 0 {
            format!("parse error : {}", self.msg)
        } else {
            format!(
                "parse error at line {}, col {}: {}",
                self.line, self.col, self.msg
            )
        }
    }
}

/// Parses a LogQL query with the default limits.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    parse_with(src, ParseLimits::default())
}

/// Parses a LogQL query.
pub fn parse_with(src: &str, limits: ParseLimits) -> Result<Expr, ParseError> {
    if src.len() > limits.max_len {
        return Err(ParseError::general(format!(
            "query is {} bytes, over the limit of {}",
            src.len(),
            limits.max_len
        )));
    }
    let mut p = Parser {
        src,
        toks: lexer::lex(src)?,
        pos: 0,
        depth: 0,
        max_depth: limits.max_depth,
    };
    let expr = p.query()?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(expr)
}

/// The parser's state: the tokens and a cursor.
pub(super) struct Parser<'s> {
    src: &'s str,
    toks: Vec<Spanned>,
    pos: usize,
    depth: usize,
    max_depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// Whether the next token is punctuation `p` (consumed if so).
    fn eat(&mut self, p: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Punct(q) if *q == p);
        if hit {
            self.bump();
        }
        hit
    }

    /// Whether the next token is the word `w` (consumed if so).
    fn eat_word(&mut self, w: &str) -> bool {
        let hit = self.is_word(w);
        if hit {
            self.bump();
        }
        hit
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn expect(&mut self, p: &str) -> PResult<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.expecting(&format!("{p:?}")))
        }
    }

    fn ident(&mut self) -> PResult<String> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expecting("IDENTIFIER")),
        }
    }

    fn string(&mut self) -> PResult<String> {
        match self.peek() {
            Tok::Str(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expecting("STRING")),
        }
    }

    fn number(&mut self) -> PResult<f64> {
        let neg = self.eat("-");
        match self.peek() {
            Tok::Number(n) => {
                let n = if neg { -*n } else { *n };
                self.bump();
                Ok(n)
            }
            _ => Err(self.expecting("NUMBER")),
        }
    }

    /// `syntax error: unexpected <token>` at the current token.
    fn unexpected(&self) -> ParseError {
        let msg = format!("syntax error: unexpected {}", self.peek().describe());
        self.error(msg)
    }

    fn expecting(&self, what: &str) -> ParseError {
        let msg = format!(
            "syntax error: unexpected {}, expecting {what}",
            self.peek().describe()
        );
        self.error(msg)
    }

    /// An error at the current token.
    fn error(&self, msg: String) -> ParseError {
        ParseError::at(self.src, self.toks[self.pos].at, msg)
    }

    /// Runs `f` one nesting level deeper, refusing past the depth limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= self.max_depth {
            return Err(self.error(format!(
                "query nests deeper than the limit of {}",
                self.max_depth
            )));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// One more link in an operator chain (`a or b or c`, `1 + 2 + 3`): chains build
    /// trees as deep as they are long, so each link counts as a nesting level. The
    /// caller restores `depth` when the chain ends.
    fn link(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error(format!(
                "query nests deeper than the limit of {} (operator chains count)",
                self.max_depth
            )));
        }
        Ok(())
    }

    /// A comma-separated list of label names in parentheses: `(a, b)`.
    fn label_list(&mut self) -> PResult<Vec<String>> {
        self.expect("(")?;
        let mut out = Vec::new();
        while !self.eat(")") {
            out.push(self.ident()?);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(out)
    }
}
