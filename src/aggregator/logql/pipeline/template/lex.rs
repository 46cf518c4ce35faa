//! Tokens inside one template action: `.field`, strings, integers, words, `|`, `(`, `)`.

use super::TemplateError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Field(String),
    Str(String),
    Int(i64),
    Word(String),
    Pipe,
    Open,
    Close,
}

pub(super) fn lex(body: &str) -> Result<Vec<Tok>, TemplateError> {
    let mut out = Vec::new();
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let word_len = |from: usize| {
            b[from..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .unwrap_or(b.len() - from)
        };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'.' => {
                let n = word_len(i + 1);
                if n == 0 {
                    return Err(TemplateError(
                        "'.' alone is not supported; name a label: .name".into(),
                    ));
                }
                out.push(Tok::Field(body[i + 1..i + 1 + n].to_string()));
                i += 1 + n;
            }
            b'"' | b'`' => {
                let (s, n) = string(&body[i..])?;
                out.push(Tok::Str(s));
                i += n;
            }
            b'-' | b'0'..=b'9' => {
                let n = 1 + b[i + 1..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(b.len() - i - 1);
                let v = body[i..i + n]
                    .parse()
                    .map_err(|_| TemplateError(format!("bad number {:?}", &body[i..i + n])))?;
                out.push(Tok::Int(v));
                i += n;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let n = word_len(i);
                out.push(Tok::Word(body[i..i + n].to_string()));
                i += n;
            }
            _ => {
                let ch = body[i..].chars().next().unwrap_or('?');
                return Err(TemplateError(format!("unexpected {ch:?} in action")));
            }
        }
    }
    Ok(out)
}

/// A quoted (`"a\n"`) or raw (`` `a` ``) string at the start of `s`: value and length.
fn string(s: &str) -> Result<(String, usize), TemplateError> {
    let quote = s.as_bytes()[0] as char;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            _ if c == quote => return Ok((out, i + 1)),
            '\\' if quote == '"' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                other => return Err(TemplateError(format!("invalid escape {other:?} in string"))),
            },
            _ => out.push(c),
        }
    }
    Err(TemplateError("unterminated quoted string".into()))
}
