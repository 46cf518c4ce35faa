//! Splits a template into text and actions, and an action into tokens, as Go's
//! text/template lexer does: `{{- ` and ` -}}` trim the adjacent text's white space,
//! `{{/* */}}` is a comment, and `}}` inside a string does not end the action.

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Item {
    Text(String),
    /// An action's tokens and its byte offset in the template (for messages).
    Action(Vec<Tok>, usize),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// `.` alone.
    Dot,
    /// `.a.b`
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone has the empty name).
    Var(String, Vec<String>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// A function name or a keyword (`if`, `end`, ...).
    Ident(String),
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
}

/// Splits `src` into text and lexed actions.
pub(super) fn items(src: &str) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos < src.len() {
        let Some(open) = src[pos..].find("{{").map(|o| o + pos) else {
            push_text(&mut out, &src[pos..], trim_next, false);
            break;
        };
        let after = &src[open + 2..];
        let trim_before = after.starts_with("- ")
            || after.starts_with("-\t")
            || after.starts_with("-\n")
            || after.starts_with("-\r");
        push_text(&mut out, &src[pos..open], trim_next, trim_before);
        let body = open + 2 + 2 * usize::from(trim_before);
        let (toks, end, trim_after) = action(src, body)?;
        if !toks.is_empty() || !is_comment(&src[body..]) {
            out.push(Item::Action(toks, open));
        }
        trim_next = trim_after;
        pos = end;
    }
    Ok(out)
}

fn is_comment(body: &str) -> bool {
    body.starts_with("/*")
}

fn push_text(out: &mut Vec<Item>, text: &str, trim_start: bool, trim_end: bool) {
    let text = if trim_start { text.trim_start() } else { text };
    let text = if trim_end { text.trim_end() } else { text };
    if !text.is_empty() {
        out.push(Item::Text(text.to_string()));
    }
}

/// Lexes the action starting at byte `i`: its tokens, the offset just past its `}}`,
/// and whether it ends with a right trim marker.
fn action(src: &str, mut i: usize) -> Result<(Vec<Tok>, usize, bool), String> {
    if src[i..].starts_with("/*") {
        return comment(src, i);
    }
    let b = src.as_bytes();
    let mut toks = Vec::new();
    loop {
        let start = i;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let rest = &src[i..];
        if rest.is_empty() {
            return Err("unclosed action".into());
        }
        if i > start && rest.starts_with("-}}") {
            return Ok((toks, i + 3, true));
        }
        if rest.starts_with("}}") {
            return Ok((toks, i + 2, false));
        }
        let (tok, n) = token(rest)?;
        toks.push(tok);
        i += n;
    }
}

fn comment(src: &str, i: usize) -> Result<(Vec<Tok>, usize, bool), String> {
    let close = src[i..]
        .find("*/")
        .ok_or_else(|| "unclosed comment".to_string())?;
    let after = i + close + 2;
    let rest = &src[after..];
    if rest.starts_with(" -}}") {
        return Ok((Vec::new(), after + 4, true));
    }
    if rest.starts_with("}}") {
        return Ok((Vec::new(), after + 2, false));
    }
    Err("comment ends before closing delimiter".into())
}

/// One token at the start of `s` and its length.
fn token(s: &str) -> Result<(Tok, usize), String> {
    let b = s.as_bytes();
    let simple = |t: Tok, n: usize| Ok((t, n));
    match b[0] {
        b'|' => simple(Tok::Pipe, 1),
        b'(' => simple(Tok::Open, 1),
        b')' => simple(Tok::Close, 1),
        b',' => simple(Tok::Comma, 1),
        b'=' => simple(Tok::Assign, 1),
        b':' if s.starts_with(":=") => simple(Tok::Declare, 2),
        b'"' | b'`' => string(s),
        b'.' if b.get(1).is_some_and(u8::is_ascii_digit) => number(s),
        b'.' => {
            let (path, n) = fields(s);
            Ok((
                if path.is_empty() {
                    Tok::Dot
                } else {
                    Tok::Field(path)
                },
                n,
            ))
        }
        b'$' => {
            let n = 1 + word_len(&s[1..]);
            let (path, m) = fields(&s[n..]);
            Ok((Tok::Var(s[1..n].to_string(), path), n + m))
        }
        b'+' | b'-' | b'0'..=b'9' => number(s),
        c if c.is_ascii_alphabetic() || c == b'_' => {
            let n = word_len(s);
            let tok = match &s[..n] {
                "true" => Tok::Bool(true),
                "false" => Tok::Bool(false),
                "nil" => Tok::Nil,
                w => Tok::Ident(w.to_string()),
            };
            Ok((tok, n))
        }
        _ => {
            let ch = s.chars().next().unwrap_or('?');
            Err(format!("unexpected {ch:?} in command"))
        }
    }
}

fn word_len(s: &str) -> usize {
    s.bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(s.len())
}

/// `.a.b` at the start of `s`: the names and the length (`.` alone: no names).
fn fields(s: &str) -> (Vec<String>, usize) {
    let mut path = Vec::new();
    let mut i = 0;
    while s[i..].starts_with('.') {
        let n = word_len(&s[i + 1..]);
        if n == 0 {
            if path.is_empty() {
                i += 1; // a lone dot
            }
            break;
        }
        path.push(s[i + 1..i + 1 + n].to_string());
        i += 1 + n;
    }
    (path, i)
}

/// A number constant as Go writes them: decimal, 0x/0o/0b integers, floats with `.`
/// or an exponent, `_` separators.
fn number(s: &str) -> Result<(Tok, usize), String> {
    let n = s
        .char_indices()
        .skip(1)
        .find(|&(i, c)| {
            let after_exp = matches!(&s[i - 1..i], "e" | "E") && !s.starts_with("0x");
            !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || (after_exp && "+-".contains(c)))
        })
        .map_or(s.len(), |(i, _)| i);
    let text = &s[..n];
    let bad = || format!("bad number syntax: {text:?}");
    let clean = text.replace('_', "");
    let (neg, digits) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let radix = [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ]
    .iter()
    .find_map(|(p, r)| digits.strip_prefix(p).map(|d| (d, *r)));
    let tok = if let Some((d, r)) = radix {
        let v = i64::from_str_radix(d, r).map_err(|_| bad())?;
        Tok::Int(if neg { -v } else { v })
    } else if digits.contains(['.', 'e', 'E']) {
        Tok::Float(clean.parse().map_err(|_| bad())?)
    } else {
        Tok::Int(clean.parse().map_err(|_| bad())?)
    };
    Ok((tok, n))
}

/// A quoted (`"a\n"`) or raw (`` `a` ``) string at the start of `s`, and its length.
fn string(s: &str) -> Result<(Tok, usize), String> {
    let quote = s.as_bytes()[0] as char;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            _ if c == quote => return Ok((Tok::Str(out), i + 1)),
            '\n' if quote == '"' => break,
            '\\' if quote == '"' => out.push(escape(chars.next().map(|(_, e)| e))?),
            _ => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

fn escape(c: Option<char>) -> Result<char, String> {
    Ok(match c {
        Some('n') => '\n',
        Some('t') => '\t',
        Some('r') => '\r',
        Some('a') => '\x07',
        Some('b') => '\x08',
        Some('f') => '\x0c',
        Some('v') => '\x0b',
        Some('\\') => '\\',
        Some('"') => '"',
        Some('\'') => '\'',
        other => return Err(format!("invalid syntax: escape {other:?} in string")),
    })
}
