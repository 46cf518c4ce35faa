//! Whatever arrives, the pure parts answer with a value or an error, never a panic:
//! arbitrary bytes through every envelope and format, arbitrary label and selector
//! text, and every truncation of valid bodies.

use super::body::decode;
use super::labels::parse_labels;
use super::limits::LokiLimits;
use super::selector::parse_selector;
use super::stats::LokiStats;
use super::validate::validate;
use proptest::prelude::*;

const ENVELOPES: [(Option<&str>, Option<&str>, bool); 6] = [
    (Some("application/x-protobuf"), None, false),
    (Some("application/json"), None, false),
    (Some("application/json"), None, true),
    (None, None, false),
    (Some("application/json"), Some("gzip"), false),
    (Some("application/x-protobuf"), Some("deflate"), false),
];

/// Decodes and validates: the receiver's whole pure path.
fn through(ct: Option<&str>, enc: Option<&str>, legacy: bool, body: &[u8]) {
    if let Ok(raw) = decode(ct, enc, legacy, body, 1 << 20) {
        let _ = validate(raw, &LokiLimits::default(), 0, &LokiStats::default());
    }
}

proptest! {
    #[test]
    fn arbitrary_bodies(body in prop::collection::vec(any::<u8>(), 0..512)) {
        for (ct, enc, legacy) in ENVELOPES {
            through(ct, enc, legacy, &body);
        }
    }

    #[test]
    fn arbitrary_label_and_selector_text(text in "[{}a-z_=!~\"'`\\\\,. \u{e9}0-9|]{0,40}") {
        let _ = parse_labels(&text);
        let _ = parse_selector(&text);
    }
}

#[test]
fn every_truncation_of_valid_bodies() {
    let json = br#"{"streams":[{"stream":{"a":"1"},"values":[["1","x",{"k":"v"}]]}]}"#;
    let legacy = br#"{"streams":[{"labels":"{a=\"1\"}","entries":[{"ts":"2023-01-01T00:00:00Z","line":"x"}]}]}"#;
    let proto = {
        use crate::loki_proto::{EntryAdapter, PushRequest, StreamAdapter};
        use prost::Message;
        let entry = EntryAdapter {
            timestamp: None,
            line: "x".into(),
            structured_metadata: vec![],
        };
        let stream = StreamAdapter {
            labels: r#"{a="é"}"#.into(),
            entries: vec![entry],
            hash: 0,
        };
        let raw = PushRequest {
            streams: vec![stream],
        }
        .encode_to_vec();
        snap::raw::Encoder::new().compress_vec(&raw).unwrap()
    };
    for cut in 0..=json.len() {
        through(Some("application/json"), None, false, &json[..cut]);
    }
    for cut in 0..=legacy.len() {
        through(Some("application/json"), None, true, &legacy[..cut]);
    }
    for cut in 0..=proto.len() {
        through(Some("application/x-protobuf"), None, false, &proto[..cut]);
    }
    let labels = r#"up{a="é\u00e9", b='x', c=`y`,}"#;
    for (cut, _) in labels.char_indices() {
        let _ = parse_labels(&labels[..cut]);
        let _ = parse_selector(&labels[..cut]);
    }
}
