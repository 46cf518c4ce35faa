//! Tests of partial-line reassembly: real CRI and docker sequences, the cap after the
//! merge (Vector #19767), streams kept apart (Fluent Bit #4387), bounded memory, and
//! arbitrary input (proptest).

use super::*;
use crate::agent::logs::decode::{cri, docker, Timestamp};
use proptest::prelude::*;

const T0: i64 = 1_704_067_200_000_000_000;

fn piece(stream: Stream, partial: bool, nanos: i64, message: &[u8]) -> Decoded<'_> {
    Decoded {
        timestamp: Timestamp { nanos, text: "" },
        stream,
        partial,
        message: Cow::Borrowed(message),
    }
}

/// Pushes CRI lines and returns the texts of the messages that came out.
fn run_cri(r: &mut Reassembler, lines: &[&str]) -> Vec<(Stream, String)> {
    lines
        .iter()
        .filter_map(|l| r.push(cri::decode(l.as_bytes()).unwrap()))
        .map(|m| (m.stream, m.text.into_owned()))
        .collect()
}

#[test]
fn whole_lines_pass_through_borrowed() {
    let mut r = Reassembler::default();
    let line = b"2024-01-01T00:00:00Z stdout F hello";
    let m = r.push(cri::decode(line).unwrap()).unwrap();
    assert!(matches!(m.text, Cow::Borrowed("hello")));
    assert!(m.complete && m.truncated_bytes == 0);
    assert!(!r.pending());
    assert_eq!(r.stats().messages, 1);
}

#[test]
fn partials_join_with_the_first_pieces_timestamp() {
    let mut r = Reassembler::default();
    let lines = [
        "2024-01-01T00:00:00.000000001Z stdout P First part, ",
        "2024-01-01T00:00:00.5Z stdout P second part, ",
        "2024-01-01T00:00:01Z stdout F last part",
    ];
    assert!(r.push(cri::decode(lines[0].as_bytes()).unwrap()).is_none());
    assert!(r.pending());
    assert!(r.push(cri::decode(lines[1].as_bytes()).unwrap()).is_none());
    let m = r.push(cri::decode(lines[2].as_bytes()).unwrap()).unwrap();
    assert_eq!(m.text, "First part, second part, last part");
    assert_eq!(m.timestamp_nanos, T0 + 1);
    assert!(m.complete);
    assert!(!r.pending());
    let s = r.stats();
    assert_eq!((s.lines, s.partial_pieces, s.messages), (3, 2, 1));
}

/// Fluent Bit #4387: interleaved stdout and stderr partials must not be mixed.
#[test]
fn regression_fluent_bit_4387_streams_are_never_mixed() {
    let mut r = Reassembler::default();
    let out = run_cri(
        &mut r,
        &[
            "2024-01-01T00:00:00Z stdout P out-1 ",
            "2024-01-01T00:00:00Z stderr P err-1 ",
            "2024-01-01T00:00:00Z stdout P out-2 ",
            "2024-01-01T00:00:00Z stderr F err-2",
            "2024-01-01T00:00:00Z stderr F err whole",
            "2024-01-01T00:00:00Z stdout F out-3",
        ],
    );
    assert_eq!(
        out,
        [
            (Stream::Stderr, "err-1 err-2".to_owned()),
            (Stream::Stderr, "err whole".to_owned()),
            (Stream::Stdout, "out-1 out-2 out-3".to_owned()),
        ]
    );
}

#[test]
fn p_without_f_at_eof_is_held_then_flushed_incomplete() {
    let mut r = Reassembler::default();
    let out = run_cri(
        &mut r,
        &[
            "2024-01-01T00:00:02Z stderr P late stderr",
            "2024-01-01T00:00:01Z stdout P early ",
            "2024-01-01T00:00:01Z stdout P stdout",
        ],
    );
    assert!(out.is_empty());
    assert!(r.pending());
    let flushed = r.flush();
    let got: Vec<_> = flushed
        .iter()
        .map(|m| (m.stream, &*m.text, m.complete))
        .collect();
    assert_eq!(
        got,
        [
            (Stream::Stdout, "early stdout", false),
            (Stream::Stderr, "late stderr", false)
        ]
    );
    assert_eq!(flushed[0].timestamp_nanos, T0 + 1_000_000_000);
    assert!(!r.pending());
    assert!(r.flush().is_empty());
    assert_eq!(r.stats().flushed_incomplete, 2);
    assert_eq!(r.held_capacity(), 0);
}

#[test]
fn the_partial_timeout_flushes_each_stream_on_its_own() {
    let mut r = Reassembler::default();
    assert_eq!(r.oldest_held(), None);
    run_cri(&mut r, &["2024-01-01T00:00:01Z stdout P old "]);
    let stdout_since = r.oldest_held().expect("stdout holds a piece");
    std::thread::sleep(std::time::Duration::from_millis(2));
    run_cri(&mut r, &["2024-01-01T00:00:02Z stderr P young"]);
    assert_eq!(
        r.oldest_held(),
        Some(stdout_since),
        "the oldest is stdout's"
    );
    assert!(
        r.flush_held_before(Some(stdout_since)).is_empty(),
        "nothing held since before the oldest"
    );
    let cutoff = stdout_since + std::time::Duration::from_millis(1);
    let flushed = r.flush_held_before(Some(cutoff));
    let got: Vec<_> = flushed
        .iter()
        .map(|m| (m.stream, &*m.text, m.complete))
        .collect();
    assert_eq!(got, [(Stream::Stdout, "old ", false)]);
    assert!(r.pending(), "stderr's younger partial is kept");
    let out = run_cri(&mut r, &["2024-01-01T00:00:03Z stderr F  end"]);
    assert_eq!(out, [(Stream::Stderr, "young end".to_owned())], "not mixed");
    assert_eq!(r.stats().flushed_incomplete, 1);
    assert_eq!(r.oldest_held(), None);
}

/// Pieces of one message: (partial, bytes).
type Pieces<'a> = &'a [(bool, &'a str)];

/// (cap, pieces, expected text, truncated bytes)
#[test]
fn the_cap_applies_to_the_merged_message() {
    let cases: &[(usize, Pieces, &str, u64)] = &[
        (10, &[(false, "0123456789")], "0123456789", 0),
        (
            10,
            &[(false, "0123456789A")],
            "0123456789 [truncated 1 bytes]",
            1,
        ),
        (10, &[(true, "01234"), (false, "56789")], "0123456789", 0),
        // Vector #19767: every piece is under the cap, the merged line is not.
        (
            10,
            &[(true, "012345"), (false, "6789AB")],
            "0123456789 [truncated 2 bytes]",
            2,
        ),
        (
            10,
            &[(true, "0123456789"), (true, "ABCDEFGHIJ"), (false, "KLMNO")],
            "0123456789 [truncated 15 bytes]",
            15,
        ),
        (10, &[(true, "0123456789"), (false, "")], "0123456789", 0),
        // Not split inside a character: "é" is 2 bytes at offsets 9-10.
        (
            10,
            &[(false, "012345678é")],
            "012345678 [truncated 2 bytes]",
            2,
        ),
        (
            10,
            &[(true, "01234567"), (false, "8é€")],
            "012345678 [truncated 5 bytes]",
            5,
        ),
        // A 4-byte character cut after its first byte.
        (4, &[(false, "a😀")], "a [truncated 4 bytes]", 4),
        (0, &[(false, "x")], " [truncated 1 bytes]", 1),
        (0, &[(false, "")], "", 0),
    ];
    for (cap, pieces, want, cut) in cases {
        let mut r = Reassembler::new(*cap);
        let mut out = None;
        for (partial, bytes) in pieces.iter() {
            out = r.push(piece(Stream::Stdout, *partial, T0, bytes.as_bytes()));
        }
        let m = out.unwrap_or_else(|| panic!("{pieces:?}: no message"));
        assert_eq!((&*m.text, m.truncated_bytes), (*want, *cut), "{pieces:?}");
        let s = r.stats();
        assert_eq!(s.truncated_messages, u64::from(*cut > 0), "{pieces:?}");
        assert_eq!(s.truncated_bytes, *cut, "{pieces:?}");
        // The next message starts clean.
        let next = r.push(piece(Stream::Stdout, false, T0, b"")).unwrap();
        assert_eq!((&*next.text, next.truncated_bytes), ("", 0));
    }
}

#[test]
fn invalid_bytes_at_the_cap_are_cut_where_they_are() {
    let mut r = Reassembler::new(4);
    let m = r
        .push(piece(
            Stream::Stdout,
            false,
            T0,
            b"\x80\x80\x80\x80\x80\x80",
        ))
        .unwrap();
    assert_eq!(
        m.text,
        "\u{fffd}\u{fffd}\u{fffd}\u{fffd} [truncated 2 bytes]"
    );
    assert_eq!(r.stats().invalid_utf8, 1);
}

#[test]
fn invalid_utf8_is_converted_and_counted() {
    let mut r = Reassembler::default();
    let m = r
        .push(piece(Stream::Stdout, false, T0, b"ok \xff end"))
        .unwrap();
    assert_eq!(m.text, "ok \u{fffd} end");
    // A character split across pieces is whole again after the merge: valid.
    assert!(r
        .push(piece(Stream::Stdout, true, T0, b"caf\xc3"))
        .is_none());
    let m = r.push(piece(Stream::Stdout, false, T0, b"\xa9")).unwrap();
    assert_eq!(m.text, "café");
    assert_eq!(r.stats().invalid_utf8, 1);
    // Invalid bytes in a message joined from pieces (the owned path).
    assert!(r.push(piece(Stream::Stdout, true, T0, b"ab\xff")).is_none());
    let m = r.push(piece(Stream::Stdout, false, T0, b"cd")).unwrap();
    assert_eq!(m.text, "ab\u{fffd}cd");
    assert_eq!(r.stats().invalid_utf8, 2);
}

/// A 10 MB line, whole and as containerd's 16 KiB pieces: the cap applies, the held
/// buffer never exceeds the cap and the message never exceeds cap + marker.
#[test]
fn a_10_mb_line_is_truncated_in_bounded_memory() {
    let cap = DEFAULT_MAX_MESSAGE_BYTES;
    let big = vec![b'x'; 10_000_000];
    let mut r = Reassembler::new(cap);
    let m = r.push(piece(Stream::Stdout, false, T0, &big)).unwrap();
    assert_eq!(m.text.len(), cap + " [truncated 8951424 bytes]".len());
    assert!(m.text.ends_with(" [truncated 8951424 bytes]"));
    assert_eq!(r.held_capacity(), 0);

    let chunks: Vec<&[u8]> = big.chunks(16 * 1024).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        if let Some(m) = r.push(piece(Stream::Stderr, !last, T0 + i as i64, chunk)) {
            assert!(last);
            assert!(m.text.len() <= cap + MARKER_MAX_LEN);
            assert!(m.text.ends_with(" [truncated 8951424 bytes]"));
            assert_eq!(m.timestamp_nanos, T0);
        }
        assert!(r.held_capacity() <= cap + MARKER_MAX_LEN, "piece {i}");
        assert!(r.held_capacity() <= cap, "piece {i}");
    }
    let s = r.stats();
    assert_eq!(
        (s.truncated_messages, s.truncated_bytes),
        (2, 2 * 8_951_424)
    );
}

#[test]
fn docker_pieces_reassemble_too() {
    let lines = [
        r#"{"log":"first half, ","stream":"stdout","time":"2024-01-01T00:00:00Z"}"#,
        r#"{"log":"oops\n","stream":"stderr","time":"2024-01-01T00:00:01Z"}"#,
        r#"{"log":"second half\r\n","stream":"stdout","time":"2024-01-01T00:00:02Z"}"#,
    ];
    let mut r = Reassembler::default();
    let out: Vec<_> = lines
        .iter()
        .filter_map(|l| r.push(docker::decode(l.as_bytes()).unwrap()))
        .map(|m| (m.stream, m.text.into_owned(), m.timestamp_nanos))
        .collect();
    assert_eq!(
        out,
        [
            (Stream::Stderr, "oops".to_owned(), T0 + 1_000_000_000),
            (Stream::Stdout, "first half, second half\r".to_owned(), T0),
        ]
    );
}

proptest! {
    /// Arbitrary pieces on both streams with a small cap: no panic, held memory within
    /// the cap, every message within cap + marker (before lossy replacement), and every
    /// byte accounted for: kept or counted as truncated.
    #[test]
    fn arbitrary_pieces_stay_bounded(
        cap in 0usize..64,
        pieces in prop::collection::vec(
            (any::<bool>(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..100)),
            0..40,
        ),
    ) {
        let mut r = Reassembler::new(cap);
        let mut messages = Vec::new();
        for (stderr, partial, bytes) in &pieces {
            let stream = if *stderr { Stream::Stderr } else { Stream::Stdout };
            if let Some(m) = r.push(piece(stream, *partial, T0, bytes)) {
                messages.push(m.into_owned());
            }
            prop_assert!(r.held_capacity() <= 2 * cap);
        }
        messages.extend(r.flush());
        let s = r.stats();
        prop_assert_eq!(s.lines, pieces.len() as u64);
        prop_assert_eq!(s.messages, messages.len() as u64);
        prop_assert!(!r.pending());
        let total: usize = pieces.iter().map(|p| p.2.len()).sum();
        let truncated: u64 = messages.iter().map(|m| m.truncated_bytes).sum();
        prop_assert_eq!(truncated, s.truncated_bytes);
        prop_assert!(truncated as usize <= total);
        for m in &messages {
            prop_assert!(m.text.chars().count() <= cap + MARKER_MAX_LEN);
        }
    }

    /// Random bytes through either decoder and into the reassembler never panic.
    #[test]
    fn random_lines_never_panic(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20)) {
        let mut r = Reassembler::new(32);
        for line in &lines {
            for decoded in [cri::decode(line), docker::decode(line)].into_iter().flatten() {
                let _ = r.push(decoded);
            }
        }
        let _ = r.flush();
    }
}

impl Message<'_> {
    fn into_owned(self) -> Message<'static> {
        Message {
            text: Cow::Owned(self.text.into_owned()),
            ..self
        }
    }
}
