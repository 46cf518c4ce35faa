//! LogQL's lexer: the query text into tokens with their byte offsets. Words are one
//! token kind (keywords are contextual, as label names may be `json` or `by`);
//! numbers followed by letters (`5m`, `1m30s`, `20MB`) are one [`Tok::Unit`] token the
//! parser reads as a duration or a byte size. Strings are Go-quoted (`"a\n"`) or raw
//! (`` `a\d` ``), as in Loki.

use super::ParseError;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Number(f64),
    /// A number with a unit suffix, as written (`5m`, `1.5s`, `20MB`).
    Unit(String),
    /// Punctuation and operators, as written (`{`, `|=`, `>=`, `,` ...).
    Punct(&'static str),
    Eof,
}

impl Tok {
    /// How an error message names this token: its kind, as Loki's goyacc parser does
    /// (`IDENTIFIER`, `STRING`, `$end`; punctuation as written).
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(_) => "IDENTIFIER".to_string(),
            Tok::Str(_) => "STRING".to_string(),
            Tok::Number(_) => "NUMBER".to_string(),
            Tok::Unit(_) => "DURATION".to_string(),
            Tok::Punct(p) => format!("{p:?}"),
            Tok::Eof => "$end".to_string(),
        }
    }
}

/// A token and the byte offset it starts at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned {
    pub tok: Tok,
    pub at: usize,
}

/// Longest first, so `|=` wins over `|` and `=~` over `=`.
const PUNCTS: &[&str] = &[
    "|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",",
    "=", "|", ">", "<", "+", "-", "*", "/", "%", "^",
];

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub fn lex(src: &str) -> Result<Vec<Spanned>, ParseError> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            // A comment runs to the end of the line, as in Loki.
            i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
        } else {
            let (tok, len) = next_token(src, i)?;
            out.push(Spanned { tok, at: i });
            i += len;
        }
    }
    out.push(Spanned {
        tok: Tok::Eof,
        at: src.len(),
    });
    Ok(out)
}

/// The token starting at `at` (not whitespace) and its length in bytes.
fn next_token(src: &str, at: usize) -> Result<(Tok, usize), ParseError> {
    let rest = &src[at..];
    let c = rest.as_bytes()[0];
    if c == b'"' {
        return quoted(src, at);
    }
    if c == b'`' {
        return match rest[1..].find('`') {
            Some(end) => Ok((Tok::Str(rest[1..1 + end].to_string()), end + 2)),
            None => Err(ParseError::at(src, at, "unterminated raw string".into())),
        };
    }
    if c.is_ascii_digit() || (c == b'.' && rest.as_bytes().get(1).is_some_and(u8::is_ascii_digit)) {
        return Ok(number(rest));
    }
    if c.is_ascii_alphabetic() || c == b'_' {
        let len = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(rest.len());
        return Ok((Tok::Ident(rest[..len].to_string()), len));
    }
    // `-` and `--` prefix logfmt flags (`--strict`): one word token.
    if rest.starts_with("--") && rest.as_bytes().get(2).is_some_and(u8::is_ascii_alphabetic) {
        let len = 2 + rest[2..]
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .unwrap_or(rest.len() - 2);
        return Ok((Tok::Ident(rest[..len].to_string()), len));
    }
    match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
        Some(p) => Ok((Tok::Punct(p), p.len())),
        None => {
            let ch = rest.chars().next().unwrap_or('?');
            Err(ParseError::at(
                src,
                at,
                format!("syntax error: unexpected character {ch:?}"),
            ))
        }
    }
}

/// A number (`12`, `0.5`, `1e3`) or a number with a unit (`5m`, `1m30s`, `1.5KiB`).
fn number(rest: &str) -> (Tok, usize) {
    let b = rest.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.'))
        .unwrap_or(b.len());
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            let digits = b[j..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(b.len() - j);
            i = j + digits;
        }
    }
    if i < b.len() && b[i].is_ascii_alphabetic() {
        let len = b[i..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.'))
            .map_or(b.len(), |n| i + n);
        return (Tok::Unit(rest[..len].to_string()), len);
    }
    match rest[..i].parse::<f64>() {
        Ok(n) => (Tok::Number(n), i),
        // `1.2.3`: hand it on as a unit token the parser will refuse with its text.
        Err(_) => (Tok::Unit(rest[..i].to_string()), i),
    }
}

/// A Go double-quoted string starting at `at`: its value and length.
fn quoted(src: &str, at: usize) -> Result<(Tok, usize), ParseError> {
    let mut out = String::new();
    let mut chars = src[at + 1..].char_indices();
    while let Some((i, ch)) = chars.next() {
        match ch {
            '"' => return Ok((Tok::Str(out), i + 2)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let ch = unescape(e, &mut chars).ok_or_else(|| {
                    ParseError::at(src, at + 1 + i, format!("invalid escape \\{e} in string"))
                })?;
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    Err(ParseError::at(src, at, "unterminated string".into()))
}

/// The character a Go escape `\e...` stands for (`chars` is after `e`).
fn unescape(e: char, chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| -> Option<char> {
        let digits: String = chars.take(n).map(|(_, c)| c).collect();
        (digits.len() == n).then_some(())?;
        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
    };
    Some(match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        '\\' => '\\',
        '"' => '"',
        'x' => hex(chars, 2)?,
        'u' => hex(chars, 4)?,
        'U' => hex(chars, 8)?,
        '0'..='7' => {
            let digits: String = std::iter::once(e)
                .chain(chars.take(2).map(|(_, c)| c))
                .collect();
            char::from_u32(u32::from_str_radix(&digits, 8).ok()?)?
        }
        _ => return None,
    })
}
