//! The issue's decoder edge cases, each for both formats (CRI and docker json-file):
//! empty message, missing fields, a partial piece never completed (then flushed by the
//! reassembler), both streams mixed, timestamps with and without nanoseconds, CRLF,
//! 10 MB lines, binary garbage. The per-format tables (`cri.rs`, `docker.rs`) cover
//! each format's own syntax; this table checks the two agree on every edge.

use super::*;
use crate::agent::logs::reassemble::Reassembler;

/// One edge case written in both formats: (name, CRI line, docker line).
type Case = (&'static str, Vec<u8>, Vec<u8>);

/// (nanos, stream, partial, message), or the error's reason.
type Outcome = Result<(i64, Stream, bool, Vec<u8>), &'static str>;

/// What a line decodes to, comparable across formats: (nanos, stream, partial, message)
/// or the error's reason.
fn outcome(f: Format, line: &[u8]) -> Outcome {
    match f.decode(line) {
        Ok(d) => Ok((
            d.timestamp.nanos,
            d.stream,
            d.partial,
            d.message.into_owned(),
        )),
        Err(e) => Err(match e {
            DecodeError::Empty => "empty",
            DecodeError::MissingField(_) => "missing",
            DecodeError::BadTimestamp { .. } => "timestamp",
            DecodeError::BadStream(_) => "stream",
            DecodeError::BadTag(_) => "tag",
            DecodeError::BadJson(_) => "json",
        }),
    }
}

fn docker(log: &str, stream: &str, time: &str) -> Vec<u8> {
    format!(r#"{{"log":"{log}","stream":"{stream}","time":"{time}"}}"#).into_bytes()
}

const T0: i64 = 1_704_067_200_000_000_000;

#[test]
fn both_formats_agree_on_every_edge_case() {
    let ns = "2024-01-01T00:00:00.000000001Z";
    let s = "2024-01-01T00:00:00Z";
    let cases: Vec<(Case, Outcome)> = vec![
        (
            (
                "empty message",
                format!("{s} stdout F ").into(),
                docker(r"\n", "stdout", s),
            ),
            Ok((T0, Stream::Stdout, false, vec![])),
        ),
        (
            (
                "nanoseconds",
                format!("{ns} stderr F x").into(),
                docker(r"x\n", "stderr", ns),
            ),
            Ok((T0 + 1, Stream::Stderr, false, b"x".to_vec())),
        ),
        (
            (
                "no fraction",
                format!("{s} stdout F x").into(),
                docker(r"x\n", "stdout", s),
            ),
            Ok((T0, Stream::Stdout, false, b"x".to_vec())),
        ),
        (
            (
                "partial",
                format!("{s} stdout P part").into(),
                docker("part", "stdout", s),
            ),
            Ok((T0, Stream::Stdout, true, b"part".to_vec())),
        ),
        (
            // The application's '\r' is kept; docker's JSON line itself may end in '\r'.
            ("CRLF", format!("{s} stdout F crlf\r").into(), {
                let mut l = docker(r"crlf\r\n", "stdout", s);
                l.push(b'\r');
                l
            }),
            Ok((T0, Stream::Stdout, false, b"crlf\r".to_vec())),
        ),
        (("empty line", vec![], vec![]), Err("empty")),
        (
            (
                "missing stream",
                s.as_bytes().to_vec(),
                format!(r#"{{"log":"x","time":"{s}"}}"#).into(),
            ),
            Err("missing"),
        ),
        (
            (
                "bad stream",
                format!("{s} stdin F x").into(),
                docker("x", "stdin", s),
            ),
            Err("stream"),
        ),
        (
            (
                "bad time",
                b"yesterday stdout F x".to_vec(),
                docker("x", "stdout", "yesterday"),
            ),
            Err("timestamp"),
        ),
    ];
    for ((name, cri_line, docker_line), want) in cases {
        assert_eq!(outcome(Format::Cri, &cri_line), want, "CRI: {name}");
        assert_eq!(
            outcome(Format::Docker, &docker_line),
            want,
            "docker: {name}"
        );
    }
}

#[test]
fn ten_megabyte_lines_decode_whole_in_both_formats() {
    let big = "y".repeat(10 * 1024 * 1024);
    let cri_line = format!("2024-01-01T00:00:00Z stdout F {big}");
    let d = cri::decode(cri_line.as_bytes()).unwrap();
    assert!(
        matches!(d.message, std::borrow::Cow::Borrowed(_)),
        "no copy"
    );
    assert_eq!(d.message.len(), big.len());
    let docker_line = docker(&format!("{big}\\n"), "stdout", "2024-01-01T00:00:00Z");
    let d = docker::decode(&docker_line).unwrap();
    assert_eq!((d.message.len(), d.partial), (big.len(), false));
}

/// Binary garbage never panics and never decodes as something it is not: an error in
/// the format's terms (the processor then ships it raw, counted).
#[test]
fn binary_garbage_is_an_error_in_both_formats() {
    let mut seed = 0x1234_5678_u64;
    for len in [1usize, 7, 31, 64, 300, 4096] {
        let garbage: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        assert!(cri::decode(&garbage).is_err(), "CRI, {len} bytes");
        let mut json_like = b"{".to_vec();
        json_like.extend_from_slice(&garbage);
        assert!(docker::decode(&json_like).is_err(), "docker, {len} bytes");
        assert!(detect(&garbage).is_err(), "detect, {len} bytes");
    }
}

/// A partial piece never completed, on one stream while the other goes on: each
/// format's pieces are held apart per stream and flushed incomplete at the end.
#[test]
fn partials_without_final_piece_and_mixed_streams_in_both_formats() {
    let s = "2024-01-01T00:00:00Z";
    let lines: [(Vec<u8>, Vec<u8>); 3] = [
        (
            format!("{s} stdout P out-").into(),
            docker("out-", "stdout", s),
        ),
        (
            format!("{s} stderr F err\n").into(),
            docker(r"err\n", "stderr", s),
        ),
        (
            format!("{s} stdout P never ends").into(),
            docker("never ends", "stdout", s),
        ),
    ];
    for (format, pick) in [(Format::Cri, 0usize), (Format::Docker, 1)] {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        for pair in &lines {
            let line = if pick == 0 { &pair.0 } else { &pair.1 };
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            if let Some(m) = r.push(format.decode(line).unwrap()) {
                out.push((m.stream, m.text.into_owned(), m.complete));
            }
        }
        for m in r.flush() {
            out.push((m.stream, m.text.into_owned(), m.complete));
        }
        let want = [
            (Stream::Stderr, "err".to_owned(), true),
            (Stream::Stdout, "out-never ends".to_owned(), false),
        ];
        assert_eq!(out, want, "{format:?}");
    }
}
