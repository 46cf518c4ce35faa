//! The hand-written push request against prost's encoding of the same entries.

use super::*;
use crate::agent::sinks::loki::{protobuf, Batch, LokiEntry, StreamLabels};

impl PushEntry for LokiEntry {
    fn timestamp_ns(&self) -> i64 {
        self.timestamp_ns
    }
    fn line(&self) -> &[u8] {
        self.line.as_bytes()
    }
    fn metadata(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.metadata
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }
}

fn entry(ts: i64, line: &str, meta: &[(&str, &str)]) -> LokiEntry {
    LokiEntry {
        timestamp_ns: ts,
        line: line.into(),
        metadata: meta
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn writes_what_prost_writes() {
    let a = StreamLabels::new([("pod", "web-0"), ("stream", "stdout")]).unwrap();
    let b = StreamLabels::new([("pod", "db\"1"), ("stream", "stderr")]).unwrap();
    let long = "x".repeat(300);
    let cases = [
        (
            &a,
            entry(1_700_000_000_123_456_789, "hello", &[("pod_uid", "u1")]),
        ),
        (&b, entry(0, "", &[])),
        (&a, entry(-1, &long, &[("2bad-name", "v"), ("empty", "")])),
        (
            &b,
            entry(5_000_000_000, "é", &[("level", "warn"), ("trace_id", "ab")]),
        ),
        (&a, entry(i64::MIN, "min", &[])),
    ];
    let mut batch = Batch::new();
    for (labels, e) in &cases {
        batch.push(labels, e.clone());
    }
    let (ra, rb) = (a.render(), b.render());
    let pick = |l: &'static str| -> Vec<&LokiEntry> {
        let want = if l == "a" { &a } else { &b };
        cases
            .iter()
            .filter(|(x, _)| *x == want)
            .map(|(_, e)| e)
            .collect()
    };
    let streams = [
        StreamEntries {
            labels: &ra,
            entries: pick("a"),
        },
        StreamEntries {
            labels: &rb,
            entries: pick("b"),
        },
    ];
    let mut out = Vec::new();
    write_push(&streams, &mut out);
    assert_eq!(out, protobuf(&batch));
    assert_eq!(out.len(), batch.encoded_len());
}

#[test]
fn varint_lengths() {
    for (v, n) in [
        (0, 1),
        (127, 1),
        (128, 2),
        (16_383, 2),
        (16_384, 3),
        (u64::MAX, 10),
    ] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        assert_eq!((varint_len(v), out.len()), (n, n), "{v}");
    }
}

/// An entry whose metadata key is its pairs' bytes, as a record's metadata block is.
struct Keyed(LokiEntry, Vec<u8>);

impl Keyed {
    fn new(e: LokiEntry) -> Keyed {
        let key = e
            .metadata
            .iter()
            .flat_map(|(n, v)| [n.as_bytes(), b"\0", v.as_bytes(), b"\0"].concat())
            .collect();
        Keyed(e, key)
    }
}

impl PushEntry for Keyed {
    fn timestamp_ns(&self) -> i64 {
        self.0.timestamp_ns
    }
    fn line(&self) -> &[u8] {
        self.0.line()
    }
    fn metadata(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.0.metadata()
    }
    fn metadata_key(&self) -> Option<&[u8]> {
        Some(&self.1)
    }
}

#[test]
fn runs_of_equal_metadata_are_written_as_prost_writes_them() {
    let labels = StreamLabels::new([("pod", "web-0")]).unwrap();
    let metas: [&[(&str, &str)]; 6] = [
        &[("level", "info")],
        &[("level", "info")],
        &[("level", "warn"), ("bad name", "x")],
        &[],
        &[("level", "info")],
        &[("level", "info"), ("trace_id", "ab")],
    ];
    let entries: Vec<Keyed> = metas
        .iter()
        .enumerate()
        .map(|(i, m)| Keyed::new(entry(1_000 + i as i64, &format!("line {i}"), m)))
        .collect();
    let mut batch = Batch::new();
    for e in &entries {
        batch.push(&labels, e.0.clone());
    }
    let rendered = labels.render();
    let streams = [StreamEntries {
        labels: &rendered,
        entries: entries.iter().collect(),
    }];
    let mut out = Vec::new();
    write_push(&streams, &mut out);
    assert_eq!(out, protobuf(&batch));
}
