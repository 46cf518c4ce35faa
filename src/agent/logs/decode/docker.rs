//! docker's json-file log driver: one JSON object per line,
//! `{"log":"hello\n","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}`, and
//! optionally `"attrs"` (ignored). docker ends `log` with `'\n'` when the application's
//! line ended; a `log` without it is a piece of a longer line (docker splits at 16 KiB)
//! or the application's last bytes before exit, and either way is partial. The `'\n'`
//! is not part of the message, as in Vector's docker parser.
//!
//! serde_json with borrowed fields: `log` is read as bytes, so an escape-free value is
//! borrowed and invalid UTF-8 is kept, not an error; `log` values that end with `\n`
//! have an escape, so the usual line costs one allocation for its message.

use super::{snippet, DecodeError, Decoded, Stream, Timestamp};
use serde::de::{Deserializer, Error as _, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// All three fields read as [`Bytes`]: serde's `Cow<str>` never borrows inside an
/// `Option`, and a missing field gets our error rather than serde's.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    log: Option<Bytes<'a>>,
    #[serde(borrow)]
    stream: Option<Bytes<'a>>,
    #[serde(borrow)]
    time: Option<Bytes<'a>>,
}

/// Decodes one json-file line (without its `'\n'`).
pub fn decode(line: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let parsed: Line<'_> =
        serde_json::from_slice(line).map_err(|e| DecodeError::BadJson(e.to_string()))?;
    let log = parsed.log.ok_or(DecodeError::MissingField("log"))?.0;
    let stream = parsed.stream.ok_or(DecodeError::MissingField("stream"))?.0;
    let stream = Stream::parse(&stream)?;
    let timestamp = match parsed.time.ok_or(DecodeError::MissingField("time"))?.0 {
        Cow::Borrowed(time) => Timestamp::parse(time)?,
        // docker never escapes a timestamp; one that needs unescaping is not its.
        Cow::Owned(time) => {
            return Err(DecodeError::BadTimestamp {
                text: snippet(&time),
                reason: "escaped characters in a timestamp",
            })
        }
    };
    let (message, partial) = strip_newline(log);
    Ok(Decoded {
        timestamp,
        stream,
        partial,
        message,
    })
}

/// The message without its final `'\n'`, and whether it had none (partial).
fn strip_newline(log: Cow<'_, [u8]>) -> (Cow<'_, [u8]>, bool) {
    if log.last() != Some(&b'\n') {
        return (log, true);
    }
    let message = match log {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..b.len() - 1]),
        Cow::Owned(mut v) => {
            v.pop();
            Cow::Owned(v)
        }
    };
    (message, false)
}

/// A JSON string read as bytes: borrowed when it has no escapes, and not checked for
/// UTF-8 (serde_json's `deserialize_bytes`).
struct Bytes<'a>(Cow<'a, [u8]>);

impl<'de: 'a, 'a> Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(BytesVisitor(std::marker::PhantomData))
    }
}

struct BytesVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BytesVisitor<'a> {
    type Value = Bytes<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Bytes(Cow::Borrowed(v)))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Bytes(Cow::Owned(v.to_vec())))
    }

    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Bytes(Cow::Owned(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Bytes(Cow::Borrowed(v.as_bytes())))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Bytes(Cow::Owned(v.as_bytes().to_vec())))
    }

    // A JSON array of numbers would also reach deserialize_bytes' visitor; not a log.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(A::Error::custom("an array where a string was expected"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2016-10-05T00:00:30.082640485Z";

    fn line(log: &str, stream: &str) -> String {
        format!(r#"{{"log":"{log}","stream":"{stream}","time":"{T}"}}"#)
    }

    /// (`log` as written in JSON, message, partial)
    #[test]
    fn decodes_logs_and_their_escapes() {
        let cases: &[(&str, &[u8], bool)] = &[
            (r"The actual log line\n", b"The actual log line", false),
            // No final newline: partial (docker's 16 KiB split, or the last bytes).
            (
                "A line without newline at the end",
                b"A line without newline at the end",
                true,
            ),
            (r"\n", b"", false),
            ("", b"", true),
            (r"caf\u00e9\n", "café".as_bytes(), false),
            ("café raw\\n", "café raw".as_bytes(), false),
            (r#"say \"hi\"\n"#, br#"say "hi""#, false),
            (r"C:\\temp\\x\n", br"C:\temp\x", false),
            (r"two\nlines\n", b"two\nlines", false),
            (r"tab\there\r\n", b"tab\there\r", false),
            (r"\/slash\b\f\n", b"/slash\x08\x0c", false),
            // A surrogate pair is one character (U+1F600).
            (r"\ud83d\ude00\n", "\u{1f600}".as_bytes(), false),
            (r"nul\u0000\n", b"nul\x00", false),
        ];
        for (log, message, partial) in cases {
            let l = line(log, "stdout");
            let d = decode(l.as_bytes()).unwrap_or_else(|e| panic!("{l}: {e}"));
            assert_eq!(&*d.message, *message, "{l}");
            assert_eq!(d.partial, *partial, "{l}");
            assert_eq!(d.stream, Stream::Stdout);
            assert_eq!(d.timestamp.text, T);
            assert_eq!(d.timestamp.nanos, 1_475_625_630_082_640_485);
        }
    }

    #[test]
    fn borrows_when_there_is_nothing_to_unescape() {
        let l = line("no newline", "stderr");
        let d = decode(l.as_bytes()).unwrap();
        assert!(matches!(d.message, Cow::Borrowed(b"no newline")));
        assert_eq!(d.stream, Stream::Stderr);
    }

    #[test]
    fn keeps_invalid_utf8_and_ignores_other_fields() {
        let l = b"{\"log\":\"bad \xff\xfe\\n\",\"stream\":\"stdout\",\"attrs\":{\"a\":\"b\"},\"time\":\"2024-01-01T02:00:00+02:00\"}";
        let d = decode(l).unwrap();
        assert_eq!(&*d.message, b"bad \xff\xfe");
        assert_eq!(d.timestamp.nanos, 1_704_067_200_000_000_000);
        // Field order does not matter; whitespace around the object is fine.
        let l = format!(r#" {{"time":"{T}", "stream":"stdout", "log":"x\n"}} "#);
        assert_eq!(&*decode(l.as_bytes()).unwrap().message, b"x");
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("", "empty line"),
            (
                "{",
                "bad JSON: EOF while parsing an object at line 1 column 1",
            ),
            ("hello world", "bad JSON: expected value at line 1 column 1"),
            (
                "123",
                "bad JSON: invalid type: integer `123`, expected struct Line at line 1 column 3",
            ),
            ("{}", "missing log field"),
            (r#"{"log":"x","stream":"stdout"}"#, "missing time field"),
            (
                r#"{"log":"x","time":"2024-01-01T00:00:00Z"}"#,
                "missing stream field",
            ),
            (
                r#"{"stream":"stderr","time":"2024-01-01T00:00:00Z"}"#,
                "missing log field",
            ),
            (
                r#"{"log":"x","stream":"stdout","time":""}"#,
                r#"bad timestamp "": too short for RFC 3339"#,
            ),
            (
                r#"{"log":"x","stream":"stdout","time":"qwerty"}"#,
                r#"bad timestamp "qwerty": too short for RFC 3339"#,
            ),
            (
                r#"{"log":"x","stream":"stdout","time":"2024-01-01T00:00:00\u005a"}"#,
                r#"bad timestamp "2024-01-01T00:00:00Z": escaped characters in a timestamp"#,
            ),
            (
                r#"{"log":"x","stream":"console","time":"2024-01-01T00:00:00Z"}"#,
                r#"bad stream "console": expected stdout or stderr"#,
            ),
            (
                r#"{"log":123,"stream":"stdout","time":"2024-01-01T00:00:00Z"}"#,
                "bad JSON: invalid type: integer `123`, expected a string at line 1 column 10",
            ),
            (
                r#"{"log":[1],"stream":"stdout","time":"2024-01-01T00:00:00Z"}"#,
                "bad JSON: an array where a string was expected at line 1 column 8",
            ),
            (
                r#"{"log":"\x","stream":"stdout","time":"2024-01-01T00:00:00Z"}"#,
                "bad JSON: invalid escape at line 1 column 10",
            ),
            (
                r#"{"log":"\u00g9","stream":"stdout","time":"2024-01-01T00:00:00Z"}"#,
                "bad JSON: invalid escape at line 1 column 14",
            ),
            (
                r#"{"log":"x","stream":"stdout","time":"2024-01-01T00:00:00Z"} trailing"#,
                "bad JSON: trailing characters at line 1 column 61",
            ),
        ];
        for (l, want) in cases {
            let err = decode(l.as_bytes()).expect_err(l);
            assert_eq!(err.to_string(), *want, "{l}");
        }
    }

    /// serde_json writes a lone surrogate as its WTF-8 bytes (not UTF-8): kept as bytes
    /// here, replaced and counted as invalid UTF-8 by `reassemble`.
    #[test]
    fn lone_surrogates_are_kept_as_bytes() {
        let cases: &[(&str, &[u8])] = &[
            (r"\ud800\n", b"\xed\xa0\x80"),
            (r"\udc00x\n", b"\xed\xb0\x80x"),
            (r"\ud83d\n", b"\xed\xa0\xbd"),
        ];
        for (log, message) in cases {
            let l = line(log, "stdout");
            let d = decode(l.as_bytes()).unwrap();
            assert_eq!(&*d.message, *message, "{log}");
            assert!(std::str::from_utf8(&d.message).is_err());
        }
    }
}
