use super::*;
use crate::loki_proto::{LabelPairAdapter, StreamAdapter, Timestamp};

fn entry(ts: i64, line: &str, metadata: &[(&str, &str)]) -> LogEntry {
    LogEntry {
        ts,
        line: line.into(),
        metadata: metadata
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn push_request() -> PushRequest {
    PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{app="api", pod="p-1"}"#.into(),
            entries: vec![
                EntryAdapter {
                    timestamp: Some(Timestamp::from_unix_nanos(1_700_000_000_123_456_789)),
                    line: "GET /healthz 200".into(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "trace_id".into(),
                        value: "abc".into(),
                    }],
                },
                EntryAdapter {
                    timestamp: None,
                    line: "no time".into(),
                    structured_metadata: vec![],
                },
            ],
            hash: 0,
        }],
    }
}

#[test]
fn protobuf_with_structured_metadata() {
    let streams = protobuf(&push_request().encode_to_vec()).unwrap();
    assert_eq!(
        streams,
        vec![RawStream {
            labels: LabelSource::Text(r#"{app="api", pod="p-1"}"#.into()),
            entries: vec![
                entry(
                    1_700_000_000_123_456_789,
                    "GET /healthz 200",
                    &[("trace_id", "abc")]
                ),
                entry(0, "no time", &[]),
            ],
        }]
    );
}

#[test]
fn truncated_protobuf_is_an_error() {
    let raw = push_request().encode_to_vec();
    for cut in [1, raw.len() / 2, raw.len() - 1] {
        let e = protobuf(&raw[..cut]).unwrap_err();
        assert!(matches!(e, BodyError::Corrupt("protobuf", _)), "{cut}: {e}");
    }
}

#[test]
fn protobuf_strings_must_be_utf8() {
    let mut raw = push_request().encode_to_vec();
    let at = raw.windows(7).position(|w| w == b"/health").unwrap();
    raw[at] = 0xff;
    let e = protobuf(&raw).unwrap_err();
    assert!(e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn protobuf_timestamps_out_of_range() {
    let mut req = push_request();
    req.streams[0].entries[0].timestamp = Some(Timestamp {
        seconds: i64::MAX / 2,
        nanos: 0,
    });
    let e = protobuf(&req.encode_to_vec()).unwrap_err();
    assert!(e.to_string().contains("timestamp out of range"), "{e}");
}

#[test]
fn loki_json() {
    let body = br#"{"streams":[
        {"stream":{"job":"x","app":"y"},"values":[
            ["1700000000000000001","one"],
            ["1700000000000000002","two",{"trace_id":"t1","user":"u"}]]},
        {"stream":{"job":"z"},"values":[]}]}"#;
    let got = json(body).unwrap();
    let pairs = |p: &[(&str, &str)]| {
        LabelSource::Pairs(
            p.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    };
    assert_eq!(
        got,
        vec![
            RawStream {
                labels: pairs(&[("app", "y"), ("job", "x")]),
                entries: vec![
                    entry(1_700_000_000_000_000_001, "one", &[]),
                    entry(
                        1_700_000_000_000_000_002,
                        "two",
                        &[("trace_id", "t1"), ("user", "u")]
                    ),
                ],
            },
            RawStream {
                labels: pairs(&[("job", "z")]),
                entries: vec![],
            },
        ]
    );
    assert_eq!(json(b"{}").unwrap(), vec![]);
}

#[test]
fn bad_json_says_why() {
    let cases: &[(&[u8], &str)] = &[
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[[1700000000, "x"]]}]}"#,
            "invalid type",
        ),
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[["17x", "x"]]}]}"#,
            "timestamp",
        ),
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}"#,
            "without a line",
        ),
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[["1","x",{},"y"]]}]}"#,
            "at most 3",
        ),
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":1}]]}]}"#,
            "invalid type",
        ),
        (br#"{"streams":[{"stream":{"a":1}}]}"#, "invalid type"),
        (
            br#"{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]"#,
            "EOF",
        ),
        (
            b"{\"streams\":[{\"stream\":{\"a\":\"\xff\"}}]}",
            "invalid UTF-8 at byte 28",
        ),
        (b"not json", "expected"),
    ];
    for (body, want) in cases {
        let e = json(body).unwrap_err().to_string();
        assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(body));
    }
}

#[test]
fn legacy_json_of_the_old_endpoint() {
    let body = br#"{"streams":[{"labels":"{logger=\"app\", severity=\"info\"}",
        "entries":[{"ts":"2023-11-14T22:13:20.123456Z","line":"hello"}]}]}"#;
    assert_eq!(
        legacy_json(body).unwrap(),
        vec![RawStream {
            labels: LabelSource::Text(r#"{logger="app", severity="info"}"#.into()),
            entries: vec![entry(1_700_000_000_123_456_000, "hello", &[])],
        }]
    );
    let bad = br#"{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"yesterday","line":"x"}]}]}"#;
    let e = legacy_json(bad).unwrap_err().to_string();
    assert!(e.contains("RFC 3339"), "{e}");
}
