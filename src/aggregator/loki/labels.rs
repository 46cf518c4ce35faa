//! A pushed stream's label text, `{a="b", c="d"}`, as Loki reads it (`syntax.ParseLabels`
//! over Prometheus's `ParseMetric`): an optional metric name before the braces (it
//! becomes `__name__`), names `[a-zA-Z_][a-zA-Z0-9_]*`, values quoted with `"`, `'` or
//! backticks (Go escapes inside the first two), a trailing comma allowed. Pure: pairs in
//! text order out; sorting, empty values and duplicates are the validator's business.
//! The same lexing serves the query side's selectors ([`super::selector`]).

/// A label text we cannot read; the message says where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse error at char {at}: {what}")]
pub struct LabelsParseError {
    /// 1-based character position, as Prometheus's parse errors count.
    pub at: usize,
    pub what: String,
}

/// Parses `name{a="b", ...}` or `{a="b", ...}` into pairs in text order.
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, LabelsParseError> {
    let mut cur = Cursor::new(text);
    let mut pairs = Vec::new();
    cur.skip_ws();
    if cur.peek().is_some_and(is_name_start) {
        let name = cur.name()?;
        pairs.push(("__name__".to_string(), name.to_string()));
        cur.skip_ws();
    }
    cur.expect(b'{')?;
    loop {
        cur.skip_ws();
        if cur.eat(b'}') {
            break;
        }
        let name = cur.name()?.to_string();
        cur.skip_ws();
        cur.expect(b'=')?;
        cur.skip_ws();
        pairs.push((name, cur.string()?));
        cur.skip_ws();
        if !cur.eat(b',') {
            cur.skip_ws();
            cur.expect(b'}')?;
            break;
        }
    }
    cur.skip_ws();
    cur.end()?;
    Ok(pairs)
}

pub fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Whether `name` is a valid label name.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b[1..].iter().all(|&c| is_name_char(c))
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// A position in the text being lexed.
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    pub fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The text not yet read.
    pub fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    pub fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    pub fn eat_str(&mut self, s: &str) -> bool {
        let hit = self.rest().starts_with(s);
        self.pos += if hit { s.len() } else { 0 };
        hit
    }

    pub fn expect(&mut self, c: u8) -> Result<(), LabelsParseError> {
        if self.eat(c) {
            return Ok(());
        }
        Err(self.error(format!("expected {:?}, found {}", c as char, self.found())))
    }

    pub fn end(&self) -> Result<(), LabelsParseError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(format!("unexpected {}", self.found()))),
        }
    }

    pub fn error(&self, what: String) -> LabelsParseError {
        LabelsParseError {
            at: self.text[..self.pos].chars().count() + 1,
            what,
        }
    }

    fn found(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("{c:?}"),
            None => "end of input".to_string(),
        }
    }

    /// A label name.
    pub fn name(&mut self) -> Result<&'a str, LabelsParseError> {
        if !self.peek().is_some_and(is_name_start) {
            return Err(self.error(format!("expected a label name, found {}", self.found())));
        }
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        Ok(&self.text[start..self.pos])
    }

    /// A quoted string, unescaped.
    pub fn string(&mut self) -> Result<String, LabelsParseError> {
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'' | b'`')) => q,
            _ => return Err(self.error(format!("expected a string, found {}", self.found()))),
        };
        self.pos += 1;
        let start = self.pos;
        let Some(len) = closing_quote(&self.text.as_bytes()[start..], quote) else {
            return Err(self.error("unterminated string".to_string()));
        };
        let body = &self.text[start..start + len];
        self.pos = start + len + 1;
        if quote == b'`' {
            return Ok(body.to_string());
        }
        let at = self.text[..start].chars().count() + 1;
        unescape(body).map_err(|what| LabelsParseError { at, what })
    }
}

/// Bytes before the closing `quote` (a backslash escapes it, except in backticks).
fn closing_quote(b: &[u8], quote: u8) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c == quote => return Some(i),
            b'\\' if quote != b'`' => i += 2,
            b'\n' if quote != b'`' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Go's string-literal escapes: `\a \b \f \n \r \t \v \\ \" \'`, `\xHH`, `\NNN`
/// (octal), `\uHHHH`, `\UHHHHHHHH`. Byte escapes must still form UTF-8.
fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1).ok_or("a trailing backslash")?;
        i += 2;
        match c {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' | b'"' | b'\'' => out.push(c),
            b'x' => out.push(radix(b, &mut i, 2, 16)? as u8),
            b'0'..=b'7' => {
                i -= 1;
                let v = radix(b, &mut i, 3, 8)?;
                out.push(u8::try_from(v).map_err(|_| "an octal escape over 255")?);
            }
            b'u' | b'U' => {
                let v = radix(b, &mut i, if c == b'u' { 4 } else { 8 }, 16)?;
                let ch = char::from_u32(v).ok_or("an escape that is not a character")?;
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            }
            _ => return Err(format!("unknown escape \\{}", c as char)),
        }
    }
    String::from_utf8(out).map_err(|_| "escapes that form invalid UTF-8".to_string())
}

fn radix(b: &[u8], i: &mut usize, digits: usize, base: u32) -> Result<u32, String> {
    let t = b.get(*i..*i + digits).ok_or("a short escape")?;
    let t = std::str::from_utf8(t).map_err(|_| "a bad escape")?;
    *i += digits;
    u32::from_str_radix(t, base).map_err(|_| format!("a bad escape digit in {t:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_what_clients_send() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (r#"{a="b"}"#, &[("a", "b")]),
            (
                r#"{job="x", level="info"}"#,
                &[("job", "x"), ("level", "info")],
            ),
            (r#" { b = "2" , a = "1" , } "#, &[("b", "2"), ("a", "1")]),
            (
                r#"{a='single', b=`raw\n`}"#,
                &[("a", "single"), ("b", "raw\\n")],
            ),
            (
                r#"{a="q\"uo\\te\n\t\u00e9\x41\101"}"#,
                &[("a", "q\"uo\\te\n\té\x41A")],
            ),
            (r#"{a="日本"}"#, &[("a", "日本")]),
            (r#"up{a="1"}"#, &[("__name__", "up"), ("a", "1")]),
            (r#"{a="", b="1"}"#, &[("a", ""), ("b", "1")]),
            (r#"{a="1", a="2"}"#, &[("a", "1"), ("a", "2")]),
            ("{}", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(parse_labels(text).as_ref(), Ok(&pairs(want)), "{text}");
        }
    }

    #[test]
    fn refuses_garbage_with_a_position() {
        let cases: &[(&str, usize)] = &[
            ("", 1),
            ("a=b", 2),
            (r#"{a-b="c"}"#, 3),
            (r#"{1a="c"}"#, 2),
            (r#"{a="c""#, 7),
            (r#"{a="c}"#, 5),
            (r#"{a=c}"#, 4),
            (r#"{a="c"} x"#, 9),
            (r#"{a="c" b="d"}"#, 8),
            (r#"{a="\q"}"#, 5),
            (r#"{a="\xff"}"#, 5),
            (r#"{a="\u12"}"#, 5),
            (r#"{a="\"}"#, 5),
            ("{a=\"x\ny\"}", 5),
        ];
        for (text, at) in cases {
            let e = parse_labels(text).expect_err(text);
            assert_eq!(e.at, *at, "{text}: {e}");
        }
    }

    #[test]
    fn names() {
        for ok in ["a", "_", "A_1", "__name__"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
