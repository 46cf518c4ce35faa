//! Tests of the Loki encoding against the real wire formats: the protobuf body decoded
//! with the `logproto` schema after snappy block decompression and checked byte for byte
//! on a hand-encoded message, the JSON shape of Loki's API docs, gzip, batching, and the
//! size accounting (property tests).

use super::*;
use crate::loki_proto::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp};
use prost::Message;
use std::collections::BTreeMap;
use std::io::Read;

fn labels(pairs: &[(&str, &str)]) -> StreamLabels {
    StreamLabels::new(pairs.iter().copied()).unwrap()
}

fn entry(ns: i64, line: &str, metadata: &[(&str, &str)]) -> LokiEntry {
    LokiEntry {
        timestamp_ns: ns,
        line: line.to_owned(),
        metadata: metadata
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn tiny_batch() -> Batch {
    let mut batch = Batch::new();
    batch.push(
        &labels(&[("a", "b")]),
        entry(1_000_000_002, "hi", &[("k", "v")]),
    );
    batch
}

fn decode_snappy_protobuf(body: &[u8]) -> PushRequest {
    let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
    PushRequest::decode(raw.as_slice()).unwrap()
}

#[test]
fn protobuf_bytes_match_the_schema_by_hand() {
    // PushRequest{streams: [StreamAdapter{labels: `{a="b"}`, entries: [EntryAdapter{
    // timestamp: {seconds: 1, nanos: 2}, line: "hi", structuredMetadata: [{k, v}]}]}]},
    // encoded by hand: key = field << 3 | wire type (2 = length-delimited, 0 = varint).
    let mut want = vec![0x0a, 0x1d]; // streams (1), 29 bytes
    want.extend([0x0a, 0x07]); // labels (1), 7 bytes
    want.extend(br#"{a="b"}"#);
    want.extend([0x12, 0x12]); // entries (2), 18 bytes
    want.extend([0x0a, 0x04, 0x08, 0x01, 0x10, 0x02]); // timestamp: seconds 1, nanos 2
    want.extend([0x12, 0x02, b'h', b'i']); // line
    want.extend([0x1a, 0x06, 0x0a, 0x01, b'k', 0x12, 0x01, b'v']); // structuredMetadata
    let batch = tiny_batch();
    assert_eq!(protobuf(&batch), want);
    assert_eq!(batch.encoded_len(), want.len());
}

#[test]
fn protobuf_body_is_snappy_block_format_and_decodes() {
    let req = encode(&tiny_batch(), Format::Protobuf).unwrap();
    assert_eq!(req.content_type, "application/x-protobuf");
    assert_eq!(req.content_encoding, None);
    // The block format starts with the uncompressed length as a varint (31); the framed
    // format would start with its stream identifier chunk (0xff 0x06 0x00 0x00 "sNaPpY").
    assert_eq!(req.body[0], 31);
    let decoded = decode_snappy_protobuf(&req.body);
    let want = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{a="b"}"#.into(),
            entries: vec![EntryAdapter {
                timestamp: Some(Timestamp {
                    seconds: 1,
                    nanos: 2,
                }),
                line: "hi".into(),
                structured_metadata: vec![LabelPairAdapter {
                    name: "k".into(),
                    value: "v".into(),
                }],
            }],
            hash: 0,
        }],
    };
    assert_eq!(decoded, want);
}

#[test]
fn json_has_the_shape_of_lokis_api_docs() {
    let mut batch = tiny_batch();
    batch.push(
        &labels(&[("namespace", "prod"), ("pod", "web-0")]),
        entry(1_700_000_000_123_456_789, "say \"hi\"\n", &[]),
    );
    let req = encode(&batch, Format::Json).unwrap();
    assert_eq!(req.content_type, "application/json");
    assert_eq!(req.content_encoding, None);
    let want = concat!(
        r#"{"streams":["#,
        r#"{"stream":{"a":"b"},"values":[["1000000002","hi",{"k":"v"}]]},"#,
        r#"{"stream":{"namespace":"prod","pod":"web-0"},"#,
        r#""values":[["1700000000123456789","say \"hi\"\n"]]}"#,
        r#"]}"#
    );
    assert_eq!(String::from_utf8(req.body).unwrap(), want);
}

#[test]
fn json_gzip_round_trips() {
    let batch = tiny_batch();
    let req = encode(&batch, Format::JsonGzip).unwrap();
    assert_eq!(req.content_type, "application/json");
    assert_eq!(req.content_encoding, Some("gzip"));
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(req.body.as_slice())
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, json(&batch));
}

#[test]
fn timestamps_before_1970_keep_nanos_positive() {
    let ts = Timestamp::from_unix_nanos(-1);
    assert_eq!((ts.seconds, ts.nanos), (-1, 999_999_999));
    assert_eq!(ts.unix_nanos(), -1);
}

#[test]
fn batches_group_by_stream_and_keep_write_order() {
    let (a, b) = (labels(&[("pod", "a")]), labels(&[("pod", "b")]));
    let mut batch = Batch::new();
    for (i, l) in [&a, &b, &a, &a, &b].into_iter().enumerate() {
        // Timestamps deliberately out of order: the batch keeps write order.
        batch.push(l, entry(100 - i as i64, &format!("line {i}"), &[]));
    }
    assert_eq!(batch.len(), 5);
    let lines: Vec<Vec<&str>> = batch
        .streams()
        .iter()
        .map(|s| s.entries().iter().map(|e| e.line.as_str()).collect())
        .collect();
    assert_eq!(
        lines,
        [vec!["line 0", "line 2", "line 3"], vec!["line 1", "line 4"]]
    );
    assert_eq!(batch.streams()[0].labels, a);
}

#[test]
fn metadata_names_are_sanitized() {
    let mut batch = Batch::new();
    batch.push(
        &labels(&[("a", "b")]),
        entry(1, "x", &[("pod.uid", "u"), ("1st", "y")]),
    );
    let names: Vec<&str> = batch.streams()[0].entries()[0]
        .structured_metadata
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["pod_uid", "_1st"]);
    assert_eq!(batch.encoded_len(), protobuf(&batch).len());
}

#[test]
fn fits_cuts_by_count_and_bytes() {
    let l = labels(&[("a", "b")]);
    let e = entry(1, &"x".repeat(100), &[]);
    let limits = BatchLimits {
        max_bytes: 10,
        max_entries: 2,
    };
    let mut batch = Batch::new();
    assert!(
        batch.fits(&l, &e, &limits),
        "an empty batch takes any entry"
    );
    batch.push(&l, e.clone());
    assert!(!batch.fits(&l, &e, &limits), "over max_bytes");
    let roomy = BatchLimits {
        max_bytes: 1 << 20,
        ..limits
    };
    assert!(batch.fits(&l, &e, &roomy));
    batch.push(&l, e.clone());
    assert!(!batch.fits(&l, &e, &roomy), "at max_entries");
}

/// Parses the labels text back as Loki's LogQL lexer would (Go string literals), so the
/// property test checks escaping end to end rather than against itself.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let inner = text.strip_prefix('{').unwrap().strip_suffix('}').unwrap();
    let mut out = BTreeMap::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().unwrap() {
                '"' => break,
                '\\' => value.push(match chars.next().unwrap() {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap()
                    }
                    c => c,
                }),
                '\n' => panic!("raw newline in a Go string literal"),
                c => value.push(c),
            }
        }
        out.insert(name, value);
        if chars.next() == Some(',') {
            assert_eq!(chars.next(), Some(' '));
        }
    }
    out
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn arb_labels() -> impl Strategy<Value = StreamLabels> {
        // Few names and values, so streams repeat across entries.
        prop::collection::vec(
            ("[a-c.]{0,3}", prop_oneof!["[xy]", "\\PC{0,4}", ".{0,3}"]),
            1..4,
        )
        .prop_filter_map("needs a non-empty value", |pairs| {
            StreamLabels::new(pairs).ok()
        })
    }

    fn arb_entry() -> impl Strategy<Value = LokiEntry> {
        let metadata = prop::collection::vec((".{0,6}", ".{0,12}"), 0..4);
        (any::<i64>(), ".{0,300}", metadata).prop_map(|(timestamp_ns, line, metadata)| LokiEntry {
            timestamp_ns,
            line,
            metadata,
        })
    }

    proptest! {
        #[test]
        fn size_is_exact_and_fits_never_underestimates(
            items in prop::collection::vec((arb_labels(), arb_entry()), 1..40)
        ) {
            let mut batch = Batch::new();
            for (l, e) in items {
                let mut next = batch.clone();
                next.push(&l, e.clone());
                if !batch.is_empty() {
                    let tight = BatchLimits { max_bytes: next.encoded_len() - 1, max_entries: usize::MAX };
                    prop_assert!(!batch.fits(&l, &e, &tight));
                    // The bound is loose by at most 4 bytes of stream length prefix,
                    // what sanitizing takes off each metadata name (one byte when no
                    // `_` is prefixed, more for non-ASCII), and a byte for each length
                    // prefix (the entry's, each pair's) that this makes one byte longer.
                    let names: usize =
                        e.metadata.iter().map(|(n, _)| n.len() + 1 - sanitize_name(n).len()).sum();
                    let slack = next.encoded_len() + 4 + names + 1 + e.metadata.len();
                    let loose = BatchLimits { max_bytes: slack, max_entries: usize::MAX };
                    prop_assert!(batch.fits(&l, &e, &loose));
                }
                batch = next;
            }
            let raw = protobuf(&batch);
            prop_assert_eq!(batch.encoded_len(), raw.len());
            let decoded = PushRequest::decode(raw.as_slice()).unwrap();
            prop_assert_eq!(decoded.encoded_len(), raw.len());
            let body = encode(&batch, Format::Protobuf).unwrap().body;
            prop_assert_eq!(decode_snappy_protobuf(&body), decoded);
        }

        #[test]
        fn labels_text_parses_back_to_the_label_set(l in arb_labels()) {
            prop_assert_eq!(&parse_labels(&l.render()), l.as_map());
        }

        #[test]
        fn json_parses_back_to_the_batch(
            items in prop::collection::vec((arb_labels(), arb_entry()), 1..20)
        ) {
            let mut batch = Batch::new();
            for (l, e) in items {
                batch.push(&l, e);
            }
            let v: serde_json::Value = serde_json::from_slice(&json(&batch)).unwrap();
            let streams = v["streams"].as_array().unwrap();
            prop_assert_eq!(streams.len(), batch.streams().len());
            for (js, s) in streams.iter().zip(batch.streams()) {
                let stream: BTreeMap<String, String> =
                    serde_json::from_value(js["stream"].clone()).unwrap();
                prop_assert_eq!(&stream, s.labels.as_map());
                for (jv, e) in js["values"].as_array().unwrap().iter().zip(s.entries()) {
                    let ns = e.timestamp.unwrap().unix_nanos().to_string();
                    prop_assert_eq!(jv[0].as_str().unwrap(), ns.as_str());
                    prop_assert_eq!(jv[1].as_str().unwrap(), e.line.as_str());
                }
            }
        }
    }
}
