//! The functions an alert template may call: Go's built-ins (`eq`, `printf`, `index`,
//! ...) and Prometheus's (`humanize`, `reReplaceAll`, `stripPort`, ...), with Go's
//! argument checks and messages. The query functions (`query`, `first`, `value`,
//! `label`, ...) parse, as in Prometheus, but refuse to run: nodepulse's rules do
//! not query from a template.

use super::compare::{eq, order};
use super::fmt::{fmt_g, sprint, sprintf};
use super::humanize;
use super::value::{fmt_v, Val};
use super::TemplateData;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Func {
    And,
    Or,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Len,
    Index,
    Print,
    Printf,
    Println,
    Html,
    Urlquery,
    Humanize,
    Humanize1024,
    HumanizeDuration,
    HumanizePercentage,
    HumanizeTimestamp,
    ToUpper,
    ToLower,
    Title,
    ReReplaceAll,
    Match,
    StripPort,
    StripDomain,
    SafeHtml,
    ExternalUrl,
    PathPrefix,
    ParseDuration,
    ToTime,
    /// Defined by Go or Prometheus but not run here (queries, JavaScript escaping...).
    Refused(&'static str),
}

const FUNCS: &[(&str, Func)] = &[
    ("and", Func::And),
    ("or", Func::Or),
    ("not", Func::Not),
    ("eq", Func::Eq),
    ("ne", Func::Ne),
    ("lt", Func::Lt),
    ("le", Func::Le),
    ("gt", Func::Gt),
    ("ge", Func::Ge),
    ("len", Func::Len),
    ("index", Func::Index),
    ("print", Func::Print),
    ("printf", Func::Printf),
    ("println", Func::Println),
    ("html", Func::Html),
    ("urlquery", Func::Urlquery),
    ("humanize", Func::Humanize),
    ("humanize1024", Func::Humanize1024),
    ("humanizeDuration", Func::HumanizeDuration),
    ("humanizePercentage", Func::HumanizePercentage),
    ("humanizeTimestamp", Func::HumanizeTimestamp),
    ("toUpper", Func::ToUpper),
    ("toLower", Func::ToLower),
    ("title", Func::Title),
    ("reReplaceAll", Func::ReReplaceAll),
    ("match", Func::Match),
    ("stripPort", Func::StripPort),
    ("stripDomain", Func::StripDomain),
    ("safeHtml", Func::SafeHtml),
    ("externalURL", Func::ExternalUrl),
    ("pathPrefix", Func::PathPrefix),
    ("parseDuration", Func::ParseDuration),
    ("toTime", Func::ToTime),
];

/// Defined by Go's text/template or Prometheus, refused when run.
const REFUSED: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "sortByLabel",
    "args",
    "tmpl",
    "graphLink",
    "tableLink",
    "js",
    "call",
    "slice",
];

impl Func {
    pub fn named(name: &str) -> Option<Func> {
        FUNCS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .or_else(|| {
                REFUSED
                    .iter()
                    .find(|n| **n == name)
                    .map(|n| Func::Refused(n))
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Func::Refused(n) => n,
            f => FUNCS.iter().find(|(_, g)| *g == f).map_or("?", |(n, _)| n),
        }
    }

    /// The number of arguments, `None` for variadic functions.
    fn arity(self) -> Option<usize> {
        use Func::*;
        match self {
            Print | Printf | Println | Html | Urlquery | Eq | Refused(_) | And | Or => None,
            ExternalUrl | PathPrefix => Some(0),
            Ne | Lt | Le | Gt | Ge | Index | Match => Some(2),
            ReReplaceAll => Some(3),
            _ => Some(1),
        }
    }
}

/// Calls `f` on evaluated `args`.
pub(super) fn call<'d>(
    f: Func,
    args: Vec<Val<'d>>,
    data: &TemplateData<'d>,
) -> Result<Val<'d>, String> {
    if let Some(n) = f.arity() {
        if args.len() != n {
            return Err(format!(
                "wrong number of args for {}: want {n} got {}",
                f.name(),
                args.len()
            ));
        }
    }
    let s = |i: usize| want_str(&args[i]);
    let text = |t: String| Ok(Val::Str(t));
    match f {
        Func::Not => Ok(Val::Bool(!args[0].truth())),
        Func::Eq => eq(&args).map(Val::Bool),
        Func::Ne => eq(&args).map(|e| Val::Bool(!e)),
        // Go derives le, gt and ge from lt and eq, so NaN is gt and ge anything.
        Func::Lt => order(&args).map(|(lt, _)| Val::Bool(lt)),
        Func::Le => order(&args).map(|(lt, eq)| Val::Bool(lt || eq)),
        Func::Gt => order(&args).map(|(lt, eq)| Val::Bool(!(lt || eq))),
        Func::Ge => order(&args).map(|(lt, _)| Val::Bool(!lt)),
        Func::Len => len(&args[0]),
        Func::Index => index(&args[0], &args[1]),
        Func::Print => text(sprint(&args, data)),
        Func::Println => text(println(&args, data)),
        Func::Printf => match args.split_first() {
            Some((Val::Str(format), rest)) => sprintf(format, rest, data).map(Val::Str),
            Some((other, _)) => Err(wrong_type("string", other)),
            None => Err("wrong number of args for printf: want at least 1 got 0".into()),
        },
        Func::Html => text(html(&sprint(&args, data))),
        Func::Urlquery => text(urlquery(&sprint(&args, data))),
        Func::Humanize => text(humanize::si(to_float(&args[0])?)),
        Func::Humanize1024 => text(humanize::iec(to_float(&args[0])?)),
        Func::HumanizeDuration => text(humanize::duration(to_float(&args[0])?)),
        Func::HumanizePercentage => text(format!(
            "{}%",
            fmt_g(to_float(&args[0])? * 100.0, Some(4), false)
        )),
        Func::HumanizeTimestamp => humanize::timestamp(to_float(&args[0])?).map(Val::Str),
        Func::ToTime => humanize::to_time(to_float(&args[0])?).map(Val::Str),
        Func::ToUpper => text(humanize::upper(s(0)?)),
        Func::ToLower => text(humanize::lower(s(0)?)),
        Func::Title => text(humanize::title(s(0)?)),
        Func::ReReplaceAll => text(compile(s(0)?)?.replace_all(s(2)?, s(1)?).into_owned()),
        Func::Match => Ok(Val::Bool(compile(s(0)?)?.is_match(s(1)?))),
        Func::StripPort => text(humanize::strip_port(s(0)?)),
        Func::StripDomain => text(humanize::strip_domain(s(0)?)),
        Func::SafeHtml => text(s(0)?.to_string()),
        Func::ExternalUrl => text(data.external_url.to_string()),
        Func::PathPrefix => text(humanize::path_prefix(data.external_url)),
        Func::ParseDuration => humanize::parse_duration(s(0)?).map(Val::Float),
        // The executor short-circuits these; over evaluated values they are the same.
        Func::And => Ok(pick(args, false)),
        Func::Or => Ok(pick(args, true)),
        Func::Refused(name) => Err(format!(
            "function \"{name}\" is not supported in nodepulse's alert templates"
        )),
    }
}

/// The first value whose truth is `stop_on`, else the last (Go's `and`/`or`).
fn pick(args: Vec<Val<'_>>, stop_on: bool) -> Val<'_> {
    let last = args.len().saturating_sub(1);
    args.into_iter()
        .enumerate()
        .find(|(i, v)| v.truth() == stop_on || *i == last)
        .map_or(Val::Nil, |(_, v)| v)
}

fn wrong_type(want: &str, got: &Val<'_>) -> String {
    format!(
        "wrong type for value; expected {want}; got {}",
        got.type_name()
    )
}

fn want_str<'a>(v: &'a Val<'_>) -> Result<&'a str, String> {
    match v {
        Val::Str(s) => Ok(s),
        other => Err(wrong_type("string", other)),
    }
}

/// Prometheus's `convertToFloat`: numbers, and strings through Go's `ParseFloat`.
fn to_float(v: &Val<'_>) -> Result<f64, String> {
    match v {
        Val::Float(f) => Ok(*f),
        Val::Int(n) => Ok(*n as f64),
        Val::Str(s) => s
            .parse()
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("regexp: Compile({pattern:?}): {e}"))
}

fn len<'d>(v: &Val<'d>) -> Result<Val<'d>, String> {
    match v {
        Val::Str(s) => Ok(Val::Int(s.len() as i64)),
        Val::Map(m) => Ok(Val::Int(m.len() as i64)),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index<'d>(v: &Val<'d>, key: &Val<'d>) -> Result<Val<'d>, String> {
    match (v, key) {
        (Val::Map(m), Val::Str(k)) => Ok(Val::Str(m.get(k).unwrap_or("").to_string())),
        (Val::Map(_), other) => Err(format!(
            "value has type {}; should be string",
            other.type_name()
        )),
        (Val::Nil, _) => Err("index of untyped nil".into()),
        (other, _) => Err(format!("can't index item of type {}", other.type_name())),
    }
}

fn println(args: &[Val<'_>], data: &TemplateData<'_>) -> String {
    let parts: Vec<String> = args.iter().map(|a| fmt_v(a, data)).collect();
    parts.join(" ") + "\n"
}

/// Go's `template.HTMLEscapeString`.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` kept, space as `+`.
pub(crate) fn urlquery(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
