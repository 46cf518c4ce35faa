//! Running a template: its functions (Loki's names: Go's strings functions and sprig's)
//! and the values they pass (strings, integers, the entry's time).

use super::{Arg, Cmd, Node, Pipe, Template, TemplateError};
use crate::aggregator::logql::pipeline::labels::LabelSet;
use crate::civil::go_time;
use std::borrow::Cow;

/// What a template reads: the line, its time (ns) and the current labels.
pub struct Ctx<'a> {
    pub line: &'a str,
    pub ts: i64,
    pub labels: &'a LabelSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Line,
    Timestamp,
    ToLower,
    ToUpper,
    Title,
    Trim,
    TrimPrefixSprig,
    TrimSuffixSprig,
    TrimAll,
    TrimLeft,
    TrimRight,
    TrimPrefix,
    TrimSuffix,
    Trunc,
    Substr,
    ReplaceSprig,
    Replace,
    Default,
    Repeat,
    UnixEpoch,
}

const FUNCS: &[(&str, Func, usize)] = &[
    ("__line__", Func::Line, 0),
    ("__timestamp__", Func::Timestamp, 0),
    ("ToLower", Func::ToLower, 1),
    ("lower", Func::ToLower, 1),
    ("ToUpper", Func::ToUpper, 1),
    ("upper", Func::ToUpper, 1),
    ("title", Func::Title, 1),
    ("Title", Func::Title, 1),
    ("trim", Func::Trim, 1),
    ("TrimSpace", Func::Trim, 1),
    ("trimPrefix", Func::TrimPrefixSprig, 2),
    ("trimSuffix", Func::TrimSuffixSprig, 2),
    ("trimAll", Func::TrimAll, 2),
    ("TrimLeft", Func::TrimLeft, 2),
    ("TrimRight", Func::TrimRight, 2),
    ("TrimPrefix", Func::TrimPrefix, 2),
    ("TrimSuffix", Func::TrimSuffix, 2),
    ("trunc", Func::Trunc, 2),
    ("substr", Func::Substr, 3),
    ("replace", Func::ReplaceSprig, 3),
    ("Replace", Func::Replace, 4),
    ("default", Func::Default, 2),
    ("repeat", Func::Repeat, 2),
    ("unixEpoch", Func::UnixEpoch, 1),
];

impl Func {
    pub fn named(name: &str) -> Option<Func> {
        FUNCS.iter().find(|(n, ..)| *n == name).map(|(_, f, _)| *f)
    }

    pub fn arity(self) -> usize {
        FUNCS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or(0, |(.., a)| *a)
    }

    pub fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or("?", |(n, ..)| n)
    }
}

/// A value passed between commands.
#[derive(Clone, Debug)]
enum Val<'a> {
    S(Cow<'a, str>),
    I(i64),
    /// A time, ns since the epoch.
    T(i64),
}

impl Val<'_> {
    fn str(&self) -> Cow<'_, str> {
        match self {
            Val::S(s) => Cow::Borrowed(s),
            Val::I(n) => Cow::Owned(n.to_string()),
            Val::T(ns) => Cow::Owned(go_time(*ns)),
        }
    }

    fn int(&self) -> Result<i64, TemplateError> {
        match self {
            Val::I(n) => Ok(*n),
            Val::S(s) => s
                .trim()
                .parse()
                .map_err(|_| TemplateError(format!("expected an integer, got {s:?}"))),
            Val::T(ns) => Ok(*ns),
        }
    }
}

impl Template {
    /// Appends the output for `ctx` to `out`, failing past `max_len` bytes.
    pub fn render(
        &self,
        ctx: &Ctx<'_>,
        out: &mut String,
        max_len: usize,
    ) -> Result<(), TemplateError> {
        for node in &self.nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(pipe) => out.push_str(&eval_pipe(pipe, ctx, max_len)?.str()),
            }
            if out.len() > max_len {
                return Err(TemplateError(format!(
                    "output over the limit of {max_len} bytes"
                )));
            }
        }
        Ok(())
    }
}

fn eval_pipe<'a>(pipe: &Pipe, ctx: &Ctx<'a>, max_len: usize) -> Result<Val<'a>, TemplateError> {
    let mut prev: Option<Val<'a>> = None;
    for cmd in &pipe.0 {
        prev = Some(match cmd {
            Cmd::Operand(arg) => eval_arg(arg, ctx, max_len)?,
            Cmd::Call(f, args) => {
                let mut vals = args
                    .iter()
                    .map(|a| eval_arg(a, ctx, max_len))
                    .collect::<Result<Vec<_>, _>>()?;
                vals.extend(prev.take());
                call(*f, &vals, ctx, max_len)?
            }
        });
    }
    prev.ok_or_else(|| TemplateError("empty pipeline".into()))
}

fn eval_arg<'a>(arg: &Arg, ctx: &Ctx<'a>, max_len: usize) -> Result<Val<'a>, TemplateError> {
    Ok(match arg {
        Arg::Field(name) => Val::S(Cow::Borrowed(ctx.labels.get(name).unwrap_or(""))),
        Arg::Str(s) => Val::S(Cow::Owned(s.clone())),
        Arg::Int(n) => Val::I(*n),
        Arg::Sub(pipe) => eval_pipe(pipe, ctx, max_len)?,
    })
}

fn call<'a>(
    f: Func,
    a: &[Val<'a>],
    ctx: &Ctx<'a>,
    max_len: usize,
) -> Result<Val<'a>, TemplateError> {
    let s = |i: usize| a[i].str();
    let owned = |s: String| Ok(Val::S(Cow::Owned(s)));
    match f {
        Func::Line => Ok(Val::S(Cow::Borrowed(ctx.line))),
        Func::Timestamp => Ok(Val::T(ctx.ts)),
        Func::ToLower => owned(s(0).to_lowercase()),
        Func::ToUpper => owned(s(0).to_uppercase()),
        Func::Title => owned(title(&s(0))),
        Func::Trim => owned(s(0).trim().to_string()),
        Func::TrimPrefixSprig => owned(s(1).strip_prefix(&*s(0)).unwrap_or(&s(1)).to_string()),
        Func::TrimSuffixSprig => owned(s(1).strip_suffix(&*s(0)).unwrap_or(&s(1)).to_string()),
        Func::TrimAll => owned(trim_set(&s(1), &s(0), true, true)),
        Func::TrimLeft => owned(trim_set(&s(0), &s(1), true, false)),
        Func::TrimRight => owned(trim_set(&s(0), &s(1), false, true)),
        Func::TrimPrefix => owned(s(0).strip_prefix(&*s(1)).unwrap_or(&s(0)).to_string()),
        Func::TrimSuffix => owned(s(0).strip_suffix(&*s(1)).unwrap_or(&s(0)).to_string()),
        Func::Trunc => owned(trunc(&s(1), a[0].int()?)),
        Func::Substr => owned(substr(&s(2), a[0].int()?, a[1].int()?)),
        Func::ReplaceSprig => owned(s(2).replace(&*s(0), &s(1))),
        Func::Replace => owned(replace_n(&s(0), &s(1), &s(2), a[3].int()?)),
        Func::Default => Ok(if s(1).is_empty() {
            a[0].clone()
        } else {
            a[1].clone()
        }),
        Func::Repeat => {
            let n = usize::try_from(a[0].int()?).unwrap_or(0);
            let unit = s(1);
            if unit.len().saturating_mul(n) > max_len {
                return Err(TemplateError(format!(
                    "repeat output over the limit of {max_len} bytes"
                )));
            }
            owned(unit.repeat(n))
        }
        Func::UnixEpoch => Ok(Val::I(a[0].int()?.div_euclid(1_000_000_000))),
    }
}

/// Go's `strings.Title`: the first letter of each space-separated word upper-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

fn trim_set(s: &str, cutset: &str, left: bool, right: bool) -> String {
    let in_set = |c: char| cutset.contains(c);
    let s = if left {
        s.trim_start_matches(in_set)
    } else {
        s
    };
    let s = if right { s.trim_end_matches(in_set) } else { s };
    s.to_string()
}

/// sprig's `trunc`: the first `n` characters, or the last `-n` when negative.
fn trunc(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    if n >= 0 {
        s.chars().take(n as usize).collect()
    } else {
        s.chars().skip((len + n).max(0) as usize).collect()
    }
}

/// sprig's `substr`: characters `start..end` (a negative start means 0, a negative or
/// too large end means the end).
fn substr(s: &str, start: i64, end: i64) -> String {
    let len = s.chars().count() as i64;
    let start = start.clamp(0, len) as usize;
    let end = if end < 0 || end > len { len } else { end } as usize;
    s.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

/// Go's `strings.Replace(s, old, new, n)` (n < 0: all).
fn replace_n(s: &str, old: &str, new: &str, n: i64) -> String {
    if n < 0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, n as usize)
    }
}
