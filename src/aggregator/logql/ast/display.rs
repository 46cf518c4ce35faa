//! The syntax tree printed back as LogQL (Loki's `String()` on expressions): for
//! logs, error messages and caching keys. Printing then parsing gives the same tree;
//! nested binary operands are parenthesised so precedence survives.

use super::*;
use promql_parser::label::MatchOp;
use std::fmt::{self, Display, Formatter, Write};

/// A Go double-quoted string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Nanoseconds as a Prometheus duration (`1h30m`, `250ms`).
pub fn duration(ns: i64) -> String {
    const UNITS: &[(&str, i64)] = &[
        ("y", 31_536_000_000_000_000),
        ("w", 604_800_000_000_000),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    let mut rest = ns;
    let mut out = String::new();
    for (unit, size) in UNITS {
        if rest >= *size {
            let _ = write!(out, "{}{unit}", rest / size);
            rest %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

fn matcher(f: &mut Formatter<'_>, m: &promql_parser::label::Matcher) -> fmt::Result {
    let op = match m.op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Re(_) => "=~",
        MatchOp::NotRe(_) => "!~",
    };
    write!(f, "{}{op}{}", m.name, quote(&m.value))
}

fn list(f: &mut Formatter<'_>, items: &[String]) -> fmt::Result {
    write!(f, "({})", items.join(", "))
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            matcher(f, m)?;
        }
        f.write_str("}")?;
        self.stages.iter().try_for_each(|s| write!(f, " {s}"))
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(l) => {
                let op = match l.op {
                    LineOp::Contains => "|=",
                    LineOp::NotContains => "!=",
                    LineOp::Match => "|~",
                    LineOp::NotMatch => "!~",
                };
                let pats: Vec<String> = l.patterns.iter().map(|p| quote(p)).collect();
                write!(f, "{op} {}", pats.join(" or "))
            }
            Stage::Json(ps) => {
                f.write_str("| json")?;
                let ps: Vec<String> = ps
                    .iter()
                    .map(|p| format!("{}={}", p.label, quote(&p.path)))
                    .collect();
                if !ps.is_empty() {
                    write!(f, " {}", ps.join(", "))?;
                }
                Ok(())
            }
            Stage::Logfmt(p) => {
                f.write_str("| logfmt")?;
                if p.strict {
                    f.write_str(" --strict")?;
                }
                if p.keep_empty {
                    f.write_str(" --keep-empty")?;
                }
                let ps: Vec<String> = p
                    .params
                    .iter()
                    .map(|(l, k)| format!("{l}={}", quote(k)))
                    .collect();
                if !ps.is_empty() {
                    write!(f, " {}", ps.join(", "))?;
                }
                Ok(())
            }
            Stage::Regexp(r) => write!(f, "| regexp {}", quote(r)),
            Stage::Pattern(p) => write!(f, "| pattern {}", quote(p)),
            Stage::Unpack => f.write_str("| unpack"),
            Stage::LabelFilter(l) => write!(f, "| {l}"),
            Stage::LineFormat(t) => write!(f, "| line_format {}", quote(t)),
            Stage::LabelFormat(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        LabelFmt::Rename { dst, src } => format!("{dst}={src}"),
                        LabelFmt::Template { dst, template } => {
                            format!("{dst}={}", quote(template))
                        }
                    })
                    .collect();
                write!(f, "| label_format {}", items.join(", "))
            }
            Stage::Drop(s) => write!(f, "| drop {}", sels(s)),
            Stage::Keep(s) => write!(f, "| keep {}", sels(s)),
            Stage::Decolorize => f.write_str("| decolorize"),
        }
    }
}

fn sels(s: &[LabelSel]) -> String {
    let items: Vec<String> = s
        .iter()
        .map(|s| match s {
            LabelSel::Name(n) => n.clone(),
            LabelSel::Matcher(m) => Shown(m).to_string(),
        })
        .collect();
    items.join(", ")
}

/// A matcher, displayed.
struct Shown<'a>(&'a promql_parser::label::Matcher);

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        matcher(f, self.0)
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let cmp = |op: &CmpOp| match op {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        };
        match self {
            LabelFilter::And(l, r) => write!(f, "({l} and {r})"),
            LabelFilter::Or(l, r) => write!(f, "({l} or {r})"),
            LabelFilter::Str(m) => matcher(f, m),
            LabelFilter::Number { name, op, value } => write!(f, "{name} {} {value}", cmp(op)),
            LabelFilter::Duration { name, op, value } => write!(f, "{name} {} {value}s", cmp(op)),
            LabelFilter::Bytes { name, op, value } => write!(f, "{name} {} {value}B", cmp(op)),
        }
    }
}

impl Display for Grouping {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.without { "without " } else { "by " })?;
        list(f, &self.labels)
    }
}

impl Display for Unwrap {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.conv {
            UnwrapConv::Number => write!(f, "| unwrap {}", self.label)?,
            UnwrapConv::Duration => write!(f, "| unwrap duration({})", self.label)?,
            UnwrapConv::Bytes => write!(f, "| unwrap bytes({})", self.label)?,
        }
        self.post_filters
            .iter()
            .try_for_each(|p| write!(f, " | {p}"))
    }
}
