//! The CRI log format that kubelet specifies and containerd and CRI-O write:
//! `<RFC3339Nano> <stdout|stderr> <tags> <message>`, where `tags` is `P` (partial: the
//! runtime split a long line) or `F` (full), possibly followed by `:`-separated tags a
//! later CRI version may add (kubelet's `parseCRILog` reads only the first, and so do
//! we). See kubernetes' `pkg/kubelet/kuberuntime/logs/logs.go` and containerd's
//! `pkg/cri/io/logger.go`.
//!
//! Borrowing, no allocation, no regex: three short scans for spaces at the start of
//! the line; the message itself is never scanned.

use super::{snippet, DecodeError, Decoded, Stream, Timestamp};
use std::borrow::Cow;

/// Decodes one CRI line (without its `'\n'`). The message may be empty, with or without
/// the space after the tag (`"... stdout F "` and `"... stdout F"`: kubelet requires the
/// space, but a line cut at the tag loses nothing, so we accept both).
pub fn decode(line: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if line.is_empty() {
        return Err(DecodeError::Empty);
    }
    let (time, rest) = split_field(line).ok_or(DecodeError::MissingField("stream"))?;
    let timestamp = Timestamp::parse(time)?;
    let (stream, rest) = split_field(rest).ok_or(DecodeError::MissingField("tag"))?;
    let stream = Stream::parse(stream)?;
    let (tags, message) = split_field(rest).unwrap_or((rest, &[]));
    Ok(Decoded {
        timestamp,
        stream,
        partial: parse_tags(tags)?,
        message: Cow::Borrowed(message),
    })
}

/// The text before the first space and the text after it.
fn split_field(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(b' ', s)?;
    Some((&s[..i], &s[i + 1..]))
}

/// `P` → partial, `F` → full; tags after a `:` are ignored (forward compatible).
fn parse_tags(tags: &[u8]) -> Result<bool, DecodeError> {
    let first = tags.split(|&b| b == b':').next().unwrap_or_default();
    match first {
        b"P" => Ok(true),
        b"F" => Ok(false),
        b"" => Err(DecodeError::MissingField("tag")),
        _ => Err(DecodeError::BadTag(snippet(tags))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2016-10-06T00:17:09.669794202Z";
    const T_NANOS: i64 = 1_475_713_029_669_794_202;

    /// (line, stream, partial, message)
    #[test]
    fn decodes_real_lines() {
        let cases: &[(&str, Stream, bool, &[u8])] = &[
            (
                "2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
                Stream::Stdout,
                false,
                b"The content of the log entry 1",
            ),
            (
                "2016-10-06T00:17:09.669794202Z stderr P First part of entry 2",
                Stream::Stderr,
                true,
                b"First part of entry 2",
            ),
            // Empty messages, with and without the space after the tag.
            (
                "2016-10-06T00:17:09.669794202Z stdout F ",
                Stream::Stdout,
                false,
                b"",
            ),
            (
                "2016-10-06T00:17:09.669794202Z stdout F",
                Stream::Stdout,
                false,
                b"",
            ),
            (
                "2016-10-06T00:17:09.669794202Z stdout P",
                Stream::Stdout,
                true,
                b"",
            ),
            // Spaces in the message are the message's, leading ones too.
            (
                "2016-10-06T00:17:09.669794202Z stdout F   a  b ",
                Stream::Stdout,
                false,
                b"  a  b ",
            ),
            // A '\r' the runtime left is the application's byte: kept.
            (
                "2016-10-06T00:17:09.669794202Z stdout F crlf\r",
                Stream::Stdout,
                false,
                b"crlf\r",
            ),
            // Later CRI tags after ':' are ignored.
            (
                "2016-10-06T00:17:09.669794202Z stdout F:x:y tagged",
                Stream::Stdout,
                false,
                b"tagged",
            ),
            (
                "2016-10-06T00:17:09.669794202Z stdout P:x tagged",
                Stream::Stdout,
                true,
                b"tagged",
            ),
            // A JSON application log is just a message.
            (
                r#"2016-10-06T00:17:09.669794202Z stdout F {"level":"info","msg":"a b"}"#,
                Stream::Stdout,
                false,
                br#"{"level":"info","msg":"a b"}"#,
            ),
        ];
        for (line, stream, partial, message) in cases {
            let d = decode(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            assert_eq!(
                d.timestamp,
                Timestamp {
                    nanos: T_NANOS,
                    text: T
                },
                "{line:?}"
            );
            assert_eq!((d.stream, d.partial), (*stream, *partial), "{line:?}");
            assert_eq!(&*d.message, *message, "{line:?}");
            assert!(matches!(d.message, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn timestamps_with_and_without_fraction_and_offsets() {
        let cases: &[(&str, i64)] = &[
            (
                "2024-01-01T00:00:00.000000001Z stdout F x",
                1_704_067_200_000_000_001,
            ),
            ("2024-01-01T00:00:00Z stdout F x", 1_704_067_200_000_000_000),
            (
                "2024-01-01T02:00:00.25+02:00 stdout F x",
                1_704_067_200_250_000_000,
            ),
        ];
        for (line, nanos) in cases {
            let d = decode(line.as_bytes()).unwrap();
            assert_eq!(d.timestamp.nanos, *nanos, "{line}");
            assert_eq!(d.timestamp.text, line.split(' ').next().unwrap());
        }
    }

    #[test]
    fn invalid_utf8_in_the_message_is_fine() {
        let mut line = b"2021-08-05T17:35:26.640507539Z stdout P Hello \xd0\x9c\xd0".to_vec();
        line.extend_from_slice(&[0xff, 0x00, 0xfe]);
        let d = decode(&line).unwrap();
        assert_eq!(&*d.message, b"Hello \xd0\x9c\xd0\xff\x00\xfe");
        assert!(d.partial);
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty line"),
            (b"2024-01-01T00:00:00Z", "missing stream field"),
            (b"2024-01-01T00:00:00Z stdout", "missing tag field"),
            (b"2024-01-01T00:00:00Z stdout ", "missing tag field"),
            (b"2024-01-01T00:00:00Z stdout  two spaces", "missing tag field"),
            (b"2024-01-01T00:00:00Z stdin F x", r#"bad stream "stdin": expected stdout or stderr"#),
            (b"2024-01-01T00:00:00Z  stdout F x", r#"bad stream "": expected stdout or stderr"#),
            (b"2024-01-01T00:00:00Z stdout X x", r#"bad partial tag "X": expected P or F"#),
            (b"2024-01-01T00:00:00Z stdout PF x", r#"bad partial tag "PF": expected P or F"#),
            (b"2024-01-01T00:00:00Z stdout :F x", "missing tag field"),
            (
                b"2024-01-01 00:00:00Z stdout F x",
                r#"bad timestamp "2024-01-01": too short for RFC 3339"#,
            ),
            (
                b"2024-01-01T00:00:00 stdout F x",
                r#"bad timestamp "2024-01-01T00:00:00": too short for RFC 3339"#,
            ),
            (
                b"2024-01-01T00:00:00.1 stdout F x",
                r#"bad timestamp "2024-01-01T00:00:00.1": missing UTC offset (Z or ±HH:MM)"#,
            ),
            (
                b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed\xec stdout F x",
                "bad timestamp \"\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\": a digit was expected",
            ),
        ];
        for (line, want) in cases {
            let err = decode(line).expect_err(&String::from_utf8_lossy(line));
            assert_eq!(
                err.to_string(),
                *want,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
