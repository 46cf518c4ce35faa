//! Decoding of one container log line, as the runtime wrote it, into its timestamp,
//! stream, partial flag and message. Two formats, detected per file from its first
//! line: CRI (containerd, CRI-O: `<RFC3339Nano> <stdout|stderr> <P|F> <message>`) and
//! docker's json-file driver (`{"log":"..\n","stream":"stdout","time":".."}`).
//!
//! Pure functions over one line's bytes, without its trailing `'\n'`. The message is
//! bytes: invalid UTF-8 is kept here and converted (and counted) by `reassemble`.
//!
//! Line endings: the tail splits on `'\n'` only, and a `'\r'` before it is part of the
//! message. containerd already writes an application's `"..\r\n"` as a line without
//! the `'\r'` (pkg/cri/io/logger.go drops both), so a `'\r'` that reaches us is the
//! application's own byte (CRI-O's conmon, or `"\r\r\n"`). Vector's CRI regex
//! (`(?P<message>.*)(?P<new_line_tag>\n?)$`) and Fluent Bit's `cri` parser keep it too,
//! and docker's json-file keeps it inside `log`.

pub mod cri;
pub mod docker;
#[cfg(test)]
mod edge_tests;
mod timestamp;

pub use timestamp::Timestamp;

use std::borrow::Cow;
use thiserror::Error;

/// Which of the container's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn parse(field: &[u8]) -> Result<Self, DecodeError> {
        match field {
            b"stdout" => Ok(Stream::Stdout),
            b"stderr" => Ok(Stream::Stderr),
            _ => Err(DecodeError::BadStream(snippet(field))),
        }
    }
}

/// One decoded line, borrowing from the line it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub timestamp: Timestamp<'a>,
    pub stream: Stream,
    /// The runtime split a longer line here; the next piece of this stream continues it.
    pub partial: bool,
    /// Always borrowed for CRI; owned for docker when `log` had JSON escapes.
    pub message: Cow<'a, [u8]>,
}

/// What is wrong with a line that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("empty line")]
    Empty,
    #[error("missing {0} field")]
    MissingField(&'static str),
    #[error("bad timestamp {text:?}: {reason}")]
    BadTimestamp { text: String, reason: &'static str },
    #[error("bad stream {0:?}: expected stdout or stderr")]
    BadStream(String),
    #[error("bad partial tag {0:?}: expected P or F")]
    BadTag(String),
    #[error("bad JSON: {0}")]
    BadJson(String),
}

/// The log file formats, one per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cri,
    Docker,
}

impl Format {
    pub fn decode(self, line: &[u8]) -> Result<Decoded<'_>, DecodeError> {
        match self {
            Format::Cri => cri::decode(line),
            Format::Docker => docker::decode(line),
        }
    }
}

/// The format of a file from its first line: a JSON object is docker's json-file,
/// anything else is CRI. The line must decode in that format, or its error is returned
/// (the caller retries detection on a later line).
pub fn detect(first_line: &[u8]) -> Result<Format, DecodeError> {
    let format = match first_line.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::Docker,
        Some(_) => Format::Cri,
        None => return Err(DecodeError::Empty),
    };
    format.decode(first_line).map(|_| format)
}

/// At most 64 bytes of `field`, lossily, for an error message.
fn snippet(field: &[u8]) -> String {
    const MAX: usize = 64;
    let mut s = String::from_utf8_lossy(&field[..field.len().min(MAX)]).into_owned();
    if field.len() > MAX {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_format_from_the_first_line() {
        let cri = b"2024-01-01T00:00:00.000000001Z stdout F hello";
        let docker = br#"{"log":"hello\n","stream":"stdout","time":"2024-01-01T00:00:00Z"}"#;
        assert_eq!(detect(cri), Ok(Format::Cri));
        assert_eq!(detect(docker), Ok(Format::Docker));
        assert_eq!(
            detect(b"  {\"log\":\"x\"}").unwrap_err(),
            DecodeError::MissingField("stream")
        );
        assert_eq!(detect(b""), Err(DecodeError::Empty));
        assert_eq!(detect(b" \t"), Err(DecodeError::Empty));
        assert!(matches!(
            detect(b"hello world"),
            Err(DecodeError::BadTimestamp { .. })
        ));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = detect(b"2024-01-01T00:00:00Z stdin F x").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"bad stream "stdin": expected stdout or stderr"#
        );
        let e = detect(b"yesterday stdout F x").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"bad timestamp "yesterday": too short for RFC 3339"#
        );
        let long = [b'x'; 100];
        assert_eq!(snippet(&long).chars().count(), 65);
    }

    proptest::proptest! {
        /// Arbitrary bytes, alone and after a valid CRI header or inside a docker
        /// object: no decoder panics, and a valid header keeps the message as it was.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..300)) {
            let _ = detect(&bytes);
            let _ = cri::decode(&bytes);
            let _ = docker::decode(&bytes);
            let mut line = b"2024-01-01T00:00:00.123Z stderr P ".to_vec();
            line.extend_from_slice(&bytes);
            let d = cri::decode(&line).unwrap();
            proptest::prop_assert_eq!(&*d.message, &bytes[..]);
            let mut json = br#"{"stream":"stdout","time":"2024-01-01T00:00:00Z","log":""#.to_vec();
            json.extend_from_slice(&bytes);
            json.extend_from_slice(b"\"}");
            let _ = docker::decode(&json);
        }
    }
}
