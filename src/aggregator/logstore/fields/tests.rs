//! Format 3 round trips: tables of lines that tokenize badly, a property test of random
//! lines, damaged blocks, needles, and a decoder reused from block to block.

use super::{decode, encode, Decoder};
use crate::aggregator::logstore::block::{HeadEntry, Slot};
use proptest::prelude::*;

fn entry(ts: i64, line: &str) -> HeadEntry {
    HeadEntry {
        ts,
        line: line.into(),
        metadata: vec![],
    }
}

fn round_trip(entries: &[HeadEntry]) -> Vec<HeadEntry> {
    let mut raw = Vec::new();
    encode(entries, &mut raw);
    let (mut lines, mut slots) = (Vec::new(), Vec::new());
    decode(&raw, &mut lines, &mut slots).unwrap();
    slots
        .iter()
        .map(|s| HeadEntry {
            ts: s.ts,
            line: String::from_utf8(lines[s.start..s.start + s.len].to_vec()).unwrap(),
            metadata: s.metadata.clone(),
        })
        .collect()
}

#[test]
fn lines_that_tokenize_badly_round_trip() {
    let lines = [
        "",
        "0",
        "-0",
        "007 00 0 000000000000000000000000001",
        "99999999999999999999999999999999999 18446744073709551616",
        "DeadBeef12 dEADbeef 3F9A 3f9a 3f9A 0x1f",
        "1.2.3 1..2.3 .1.2.3. 1.2.3.a 10.0.0.1:80 2.48.0-rc1",
        "ünïcödé 日本 123 🙂4f5e6d7c",
        "{\"ts\":\"2026-12-06T12:00:00.123Z\",\"n\":-12.50e3}",
        "tab\there\nnewline\r\n 12\u{7f}34",
        &"ab12".repeat(100),
        &"1".repeat(300),
    ];
    let mut es: Vec<HeadEntry> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| entry(i as i64 * 1_000_003 - 5, l))
        .collect();
    es[2].metadata = vec![("trace_id".into(), "0af7".into()), ("k".into(), "".into())];
    es[5].ts = i64::MIN;
    es[6].ts = i64::MAX;
    assert_eq!(round_trip(&es), es);
}

/// How many templates an encoded block holds.
fn templates_in(entries: &[HeadEntry]) -> u64 {
    count_at(entries, |s| s.metadata)
}

/// How many columns an encoded block holds.
fn columns_in(entries: &[HeadEntry]) -> u64 {
    count_at(entries, |s| s.dict)
}

/// The count (a varint) at the start of a section of the entries encoded, the section
/// found by the end of the one before it (`before`).
fn count_at(entries: &[HeadEntry], before: fn(&super::Sections) -> usize) -> u64 {
    let mut raw = Vec::new();
    let sections = encode(entries, &mut raw);
    let mut c = crate::aggregator::tsdb::record::Cursor::new(&raw[before(&sections)..]);
    c.uvarint().unwrap()
}

#[test]
fn templates_differing_only_in_padding_are_merged() {
    let lines = [
        "at 07:17:05 ok",
        "at 17:07:15 ok",
        "at 17:17:17 ok",
        "at 7:17:05 ok",   // hh unpadded, one digit: printed padded it would change
        "at 07:17:5 ok",   // the same for ss
        "at 007:17:05 ok", // hh padded to three: that template keeps its own
    ];
    let es: Vec<HeadEntry> = (0..lines.len())
        .map(|i| entry(i as i64, lines[i]))
        .collect();
    assert_eq!(round_trip(&es), es);
    // one for the first three, one each for the rest
    assert_eq!(templates_in(&es), 4);
    // "007" pads the hour to three: "07" and "17" still share a template
    let mut some = es[..3].to_vec();
    some.push(es[5].clone());
    assert_eq!(templates_in(&some), 2);
    assert_eq!(templates_in(&es[..3]), 1);
}

#[test]
fn an_empty_block_round_trips() {
    assert_eq!(round_trip(&[]), vec![]);
}

#[test]
fn shared_templates_and_columns_keep_each_lines_values() {
    let es: Vec<HeadEntry> = (0..500)
        .map(|i| {
            let line = match i % 3 {
                0 => format!(
                    "GET /a/{i} {} 10.0.{}.{} id={:08x}",
                    200 + i % 5,
                    i % 7,
                    i,
                    i * 7919
                ),
                1 => format!(
                    "{{\"n\":{},\"at\":\"0{}:{:02}\"}}",
                    1000 - i,
                    i % 10,
                    i % 60
                ),
                _ => format!("x{} y{}", i * 3, i % 2),
            };
            entry(i * 1000, &line)
        })
        .collect();
    assert_eq!(round_trip(&es), es);
}

fn line_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,25}",
        "[0-9a-fA-F]{1,12}",
        "[ .:/=\\-\"\\[\\]{},]{1,3}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,4}",
        "\\PC{1,4}",
        "[a-zA-Z]{1,6}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn random_lines_round_trip(
        lines in prop::collection::vec(line_strategy(), 0..40),
        seed in any::<i64>(),
    ) {
        let es: Vec<HeadEntry> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| entry(seed.wrapping_add(i as i64 * 7_777_777), l))
            .collect();
        prop_assert_eq!(round_trip(&es), es);
    }
}

#[test]
fn damaged_blocks_are_errors_not_panics() {
    let es: Vec<HeadEntry> = (0..40)
        .map(|i| {
            entry(
                i,
                &format!("req {i} from 10.0.0.{i} id={:06x} ok", i * 99991),
            )
        })
        .collect();
    let mut raw = Vec::new();
    encode(&es, &mut raw);
    let (mut lines, mut slots) = (Vec::new(), Vec::<Slot>::new());
    let mut d = Decoder::default();
    for cut in 0..raw.len() {
        assert!(
            d.decode(&raw[..cut], &mut lines, &mut slots).is_err(),
            "cut {cut}"
        );
    }
    for at in 0..raw.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = raw.clone();
            bad[at] ^= flip;
            let _ = d.decode(&bad, &mut lines, &mut slots); // any result but a panic
        }
    }
    d.decode(&raw, &mut lines, &mut slots).unwrap();
    assert_eq!(slots.len(), es.len());
}

/// Rebuilds only the lines whose template holds each needle's static part and whose
/// values hold each needle of digits.
fn rebuilt_where(entries: &[HeadEntry], needles: &[&[u8]]) -> Vec<Option<String>> {
    let mut raw = Vec::new();
    encode(entries, &mut raw);
    let (mut lines, mut slots) = (Vec::new(), Vec::new());
    Decoder::default()
        .decode_where(&raw, &super::Want::new(needles), &mut lines, &mut slots)
        .unwrap();
    assert_eq!(slots.len(), entries.len());
    slots
        .iter()
        .map(|s| {
            (s.len > 0).then(|| String::from_utf8_lossy(&lines[s.start..s.start + s.len]).into())
        })
        .collect()
}

#[test]
fn only_lines_of_templates_holding_the_needle_are_rebuilt() {
    let es = [
        entry(1, "10.0.0.1 GET /healthz 200 \"kube-probe/1.29\""),
        entry(2, "10.0.0.2 GET /login 500 \"curl/8.4.0\""),
        entry(3, "10.0.0.3 GET /healthz 204 \"kube-probe/1.30\""),
    ];
    let got = rebuilt_where(&es, &[b"kube-probe/1.29"]);
    let want = [Some(es[0].line.clone()), None, Some(es[2].line.clone())];
    assert_eq!(got, want);
    assert_eq!(rebuilt_where(&es, &[b"nowhere"]), vec![None, None, None]);
    let only = |i: usize| {
        (0..3)
            .map(|j| (i == j).then(|| es[j].line.clone()))
            .collect()
    };
    let want: Vec<_> = only(1);
    assert_eq!(rebuilt_where(&es, &[b"500"]), want);
}

#[test]
fn needles_of_digits_are_found_in_every_kind_of_value() {
    let lines = [
        "status 500 took 12ms",
        "size 15003 bytes",
        "padded 0500 and 00007",
        "id=a5003f9c ok",
        "id=b500 ok",
        "id=c0ffee ok",
        "from 10.5.0.3:8080",
        "long 1234567890123456789012345 run",
        "nothing here 42",
        "v1.500 dot",
    ];
    let es: Vec<HeadEntry> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| entry(i as i64, l))
        .collect();
    for needle in [
        "500", "0500", "007", "5003", "0", "789012", "18901234", "8080", "42",
    ] {
        let got = rebuilt_where(&es, &[needle.as_bytes()]);
        for (e, g) in es.iter().zip(&got) {
            let holds = e.line.contains(needle);
            // a run longer than an integer piece is rebuilt whatever its digits
            let joined = e.line.starts_with("long") && g.is_some();
            let want = (holds || joined).then_some(e.line.as_str());
            assert_eq!(g.as_deref(), want, "{needle:?}");
        }
    }
    // with a static part too, and two needles of digits
    let got = rebuilt_where(&es, &[b"took", b"12", b"500"]);
    assert_eq!(got[0].as_deref(), Some(lines[0]));
    assert!(got[1..].iter().all(Option::is_none));
}

#[test]
fn values_the_same_in_every_line_of_a_template_are_written_into_it() {
    let es: Vec<HeadEntry> = (0..100)
        .map(|i| {
            let agent = ["curl/8.4.0", "kube-probe/1.29"][i % 2];
            let line = format!(
                "GET /v1/x HTTP/1.1 {} \"{agent}\" 10.0.0.{}",
                200 + i % 3,
                i
            );
            entry(i as i64, &line)
        })
        .collect();
    assert_eq!(round_trip(&es), es);
    // left: the status (one column), the address (a dictionary value; a column per
    // agent, the text before it differing); 1, 1.1, 8.4.0 and 1.29 are written in
    assert_eq!(columns_in(&es), 3);
    assert_eq!(templates_in(&es), 2);
    for needle in ["29", "84", "201", "11", "1"] {
        let got = rebuilt_where(&es, &[needle.as_bytes()]);
        for (e, g) in es.iter().zip(&got) {
            let holds = e.line.contains(needle);
            assert_eq!(g.as_deref(), holds.then_some(e.line.as_str()), "{needle:?}");
        }
    }
}

#[test]
fn a_run_of_digits_is_never_split_between_template_and_values() {
    // 20 digits: two pieces back to back, the first the same in every line
    let es: Vec<HeadEntry> = (0..30)
        .map(|i| entry(i, &format!("n=123456789012345678{i:02} at 7")))
        .collect();
    for needle in ["7801", "7829", "78", "07"] {
        let got = rebuilt_where(&es, &[needle.as_bytes()]);
        for (e, g) in es.iter().zip(&got) {
            if e.line.contains(needle) {
                assert_eq!(g.as_deref(), Some(e.line.as_str()), "{needle:?}");
            }
        }
    }
}

/// Whether `line` has a run of digits longer than an integer piece (18 digits).
fn long_run(line: &str) -> bool {
    line.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() > 18)
}

#[test]
fn lines_sharing_columns_are_rebuilt_exactly_when_they_hold_the_needles() {
    // two templates share the `took ` and `id=` columns; times make a delta column
    let lines: Vec<String> = (0..400u64)
        .map(|i| match i % 3 {
            0 => format!(
                "GET took {} id={} at {}",
                i * 37 % 1000,
                1_800_000_000 + i * 7,
                i
            ),
            1 => format!(
                "PUT took {} id={} user {:x}",
                i * 53 % 2000,
                1_800_000_000 + i * 7,
                0xa500 + i
            ),
            _ => format!("tick {} at 10.5.{}.1", i * 11, i % 9),
        })
        .collect();
    let es: Vec<HeadEntry> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| entry(i as i64, l))
        .collect();
    let cases: &[&[&[u8]]] = &[
        &[b"500"],
        &[b"5"],
        &[b"37"],
        &[b"500", b"1"],
        &[b"05"],
        &[b"GET", b"3"],
        // more needles of digits than values are flagged for
        &[b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"0"],
        &[b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8"],
    ];
    for needles in cases {
        let got = rebuilt_where(&es, needles);
        for (line, g) in lines.iter().zip(&got) {
            let holds = needles
                .iter()
                .all(|n| memchr::memmem::find(line.as_bytes(), n).is_some());
            assert_eq!(g.as_deref(), holds.then_some(line.as_str()), "{needles:?}");
        }
    }
}

/// Entries of `lines`, the first half of them twice (so their templates' values are
/// the same in two lines or more: written into them, [`super::consts`]).
fn twice_some(lines: &[String]) -> Vec<HeadEntry> {
    let again = &lines[..lines.len() / 2];
    let all = lines.iter().chain(again);
    all.enumerate().map(|(i, l)| entry(i as i64, l)).collect()
}

fn digit_line_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,25}",
        "0[0-9]{1,4}",
        "[0-9a-f]{4,10}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){1,4}",
        "[ .:=a-z]{1,3}",
    ];
    prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn every_line_holding_a_needle_of_digits_is_rebuilt(
        lines in prop::collection::vec(digit_line_strategy(), 1..30),
        needle in "[0-9]{1,6}",
    ) {
        let es = twice_some(&lines);
        let got = rebuilt_where(&es, &[needle.as_bytes()]);
        for (e, g) in es.iter().zip(&got) {
            if e.line.contains(&needle) {
                prop_assert_eq!(g.as_deref().unwrap_or(""), e.line.as_str());
            }
            if let Some(g) = g {
                prop_assert_eq!(g, &e.line);
                // and only those, or lines with integer pieces back to back
                prop_assert!(e.line.contains(&needle) || long_run(&e.line), "{:?}", e.line);
            }
        }
    }

    #[test]
    fn every_line_holding_a_needle_is_rebuilt(
        lines in prop::collection::vec(line_strategy(), 1..30),
        pick in any::<prop::sample::Index>(),
        from in any::<prop::sample::Index>(),
        len in 0usize..12,
    ) {
        let es = twice_some(&lines);
        let line = lines[pick.index(lines.len())].as_bytes();
        let start = from.index(line.len() + 1);
        let needle = &line[start..(start + len).min(line.len())];
        let got = rebuilt_where(&es, &[needle]);
        for (e, g) in es.iter().zip(&got) {
            if memchr::memmem::find(e.line.as_bytes(), needle).is_some() {
                // (an empty line rebuilt is empty, as one not rebuilt)
                prop_assert_eq!(g.as_deref().unwrap_or(""), e.line.as_str());
            }
            if let Some(g) = g {
                prop_assert_eq!(g, &e.line);
            }
        }
    }
}

proptest! {
    /// One decoder reading block after block (as a scan's thread keeps it, from scan to
    /// scan; columns numbered afresh each block) reads each as a fresh one does.
    #[test]
    fn a_decoder_reused_across_blocks_reads_each_as_a_fresh_one(
        blocks in prop::collection::vec(prop::collection::vec(line_strategy(), 1..20), 1..6),
        needle in "[0-9]{1,3}",
    ) {
        let raws: Vec<Vec<u8>> = blocks
            .iter()
            .map(|lines| {
                let es: Vec<HeadEntry> =
                    lines.iter().enumerate().map(|(i, l)| entry(i as i64, l)).collect();
                let mut raw = Vec::new();
                encode(&es, &mut raw);
                raw
            })
            .collect();
        let read = |d: &mut Decoder, raw: &[u8], want: &super::Want<'_>| {
            let (mut lines, mut slots) = (Vec::new(), Vec::<Slot>::new());
            d.decode_where(raw, want, &mut lines, &mut slots).unwrap();
            let lines: Vec<Vec<u8>> =
                slots.iter().map(|s| lines[s.start..s.start + s.len].to_vec()).collect();
            lines
        };
        let mut shared = Decoder::default();
        // every block twice, forwards then backwards, all lines then only some
        let order: Vec<usize> = (0..raws.len()).chain((0..raws.len()).rev()).collect();
        for (k, &b) in order.iter().enumerate() {
            let w = match k % 2 {
                0 => super::Want::default(),
                _ => super::Want::new(&[needle.as_bytes()]),
            };
            let fresh = read(&mut Decoder::default(), &raws[b], &w);
            prop_assert_eq!(read(&mut shared, &raws[b], &w), fresh);
        }
    }
}

proptest! {
    /// The eight-bytes-at-a-time placeholder search finds what `memchr3` finds, with
    /// bytes 0xF8 and up that are no placeholder (a damaged block) in the way.
    #[test]
    fn placeholders_are_found_as_memchr3_finds_them(
        tpl in proptest::collection::vec(
            prop_oneof![any::<u8>(), 0xF6u8..=0xFF], 0..40),
        from in 0usize..42,
    ) {
        use super::tokens::{DICT, HEX, INT};
        let want = tpl
            .get(from..)
            .and_then(|rest| memchr::memchr3(INT, HEX, DICT, rest))
            .map(|p| from + p);
        prop_assert_eq!(super::next_placeholder(&tpl, from), want);
    }
}
