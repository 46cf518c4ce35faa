//! A small JSON scanner over a line's bytes for the `json` and `unpack` stages: it
//! walks values in place (no tree), unescapes strings into a caller's buffer and
//! bounds nesting, so parsing a line allocates nothing once buffers are warm.

/// Where a value sits in the line and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    /// A string: the span is inside the quotes; `escaped` says whether it needs unescaping.
    Str {
        escaped: bool,
    },
    /// A number, `true` or `false`: the span is the text.
    Scalar,
    Null,
}

/// Why a line is not JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg} at offset {at}")]
pub struct JsonError {
    pub msg: &'static str,
    pub at: usize,
}

pub struct Scanner<'a> {
    pub b: &'a [u8],
    pub i: usize,
    pub max_depth: usize,
}

pub type JResult<T> = Result<T, JsonError>;

impl<'a> Scanner<'a> {
    pub fn new(s: &'a str, max_depth: usize) -> Self {
        Scanner {
            b: s.as_bytes(),
            i: 0,
            max_depth,
        }
    }

    pub fn err<T>(&self, msg: &'static str) -> JResult<T> {
        Err(JsonError { msg, at: self.i })
    }

    pub fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    /// Consumes `c` (after whitespace) if next.
    pub fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    pub fn expect(&mut self, c: u8, msg: &'static str) -> JResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.err(msg)
        }
    }

    /// Whether the input is fully consumed (bar whitespace).
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.i == self.b.len()
    }

    /// Reads a string (the cursor on its opening quote): span inside the quotes.
    pub fn string(&mut self) -> JResult<(usize, usize, bool)> {
        self.expect(b'"', "expected string")?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let Some(n) = memchr::memchr2(b'"', b'\\', &self.b[self.i..]) else {
                return self.err("unterminated string");
            };
            self.i += n;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return Ok((start, self.i - 1, escaped));
            }
            escaped = true;
            self.i += 2;
            if self.i > self.b.len() {
                return self.err("unterminated string");
            }
        }
    }

    /// Reads the value at the cursor without keeping it: its kind and span.
    pub fn value(&mut self, depth: usize) -> JResult<(Kind, usize, usize)> {
        self.ws();
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'"') => {
                let (s, e, escaped) = self.string()?;
                Ok((Kind::Str { escaped }, s, e))
            }
            Some(b'{') => {
                self.skip_container(b'{', b'}', depth)?;
                Ok((Kind::Object, start, self.i))
            }
            Some(b'[') => {
                self.skip_container(b'[', b']', depth)?;
                Ok((Kind::Array, start, self.i))
            }
            Some(b'n') => self.literal(b"null").map(|_| (Kind::Null, start, self.i)),
            Some(b't') => self.literal(b"true").map(|_| (Kind::Scalar, start, self.i)),
            Some(b'f') => self
                .literal(b"false")
                .map(|_| (Kind::Scalar, start, self.i)),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                self.number()?;
                Ok((Kind::Scalar, start, self.i))
            }
            Some(_) => self.err("unexpected character"),
            None => self.err("unexpected end of input"),
        }
    }

    fn literal(&mut self, word: &[u8]) -> JResult<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> JResult<()> {
        let start = self.i;
        self.i += usize::from(self.b[self.i] == b'-');
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.i < s.b.len() && s.b[s.i].is_ascii_digit() {
                s.i += 1;
            }
            s.i > from
        };
        let mut ok = digits(self);
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            ok &= digits(self);
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            ok &= digits(self);
        }
        if ok {
            Ok(())
        } else {
            self.i = start;
            self.err("invalid number")
        }
    }

    /// Skips an object or array (the cursor on its opening bracket), validating it.
    fn skip_container(&mut self, open: u8, close: u8, depth: usize) -> JResult<()> {
        if depth >= self.max_depth {
            return self.err("nesting too deep");
        }
        self.expect(open, "expected container")?;
        if self.eat(close) {
            return Ok(());
        }
        loop {
            if open == b'{' {
                self.ws();
                self.string()?;
                self.expect(b':', "expected ':' after object key")?;
            }
            self.value(depth + 1)?;
            if self.eat(close) {
                return Ok(());
            }
            self.expect(b',', "expected ',' or closing bracket")?;
        }
    }
}

/// Appends the unescaped JSON string body `raw` to `out` (bad escapes become U+FFFD).
pub fn unescape(raw: &str, out: &mut String) {
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().unwrap_or('\u{fffd}');
        out.push(match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\x08',
            'f' => '\x0c',
            'u' => {
                let hi = hex4(&mut chars);
                match hi {
                    Some(h @ 0xd800..=0xdbff) => {
                        let lo = chars
                            .as_str()
                            .strip_prefix("\\u")
                            .and_then(|s| u32::from_str_radix(s.get(..4)?, 16).ok());
                        match lo {
                            Some(l @ 0xdc00..=0xdfff) => {
                                chars = chars.as_str()[6..].chars();
                                char::from_u32(0x10000 + ((h - 0xd800) << 10) + (l - 0xdc00))
                                    .unwrap_or('\u{fffd}')
                            }
                            _ => '\u{fffd}',
                        }
                    }
                    Some(h) => char::from_u32(h).unwrap_or('\u{fffd}'),
                    None => '\u{fffd}',
                }
            }
            other => other,
        });
    }
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let s = chars.as_str().get(..4)?;
    let v = u32::from_str_radix(s, 16).ok()?;
    *chars = chars.as_str()[4..].chars();
    Some(v)
}
