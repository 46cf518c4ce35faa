//! The processor end to end on hand-made raw lines: partial lines joined, undecodable
//! lines shipped raw and counted, tokens capped at a partial held on the other stream.

use super::*;
use crate::agent::logs::buffer::BatchLimits;
use crate::agent::logs::checkpoint::Fingerprint;
use crate::agent::logs::pipeline::event::Event;
use std::path::Path;
use std::time::Duration;

use super::fixture::LIVE;

fn raw(offset_end: u64, bytes: &[u8]) -> RawLine {
    RawLine {
        file: FileId {
            dev: 1,
            ino: 2,
            fingerprint: Fingerprint::of(b"x"),
        },
        path: Arc::from(Path::new(LIVE)),
        offset_end,
        bytes: bytes::Bytes::copy_from_slice(bytes),
        truncated: false,
    }
}

/// Feeds `lines` through a processor and returns the events and the last token.
async fn run(lines: Vec<RawLine>) -> (Vec<Event>, FileOffsets, Arc<PipelineMetrics>) {
    let (p, buffer, metrics) = super::fixture::processor_with(BatchLimits {
        max_events: 1000,
        max_bytes: 1 << 20,
        max_age: Duration::from_secs(60),
    });
    let (tx, rx) = mpsc::channel(1);
    let chunk = Chunk {
        ended: Vec::new(),
        lines,
        caught_up: false,
    };
    tx.send(chunk).await.unwrap();
    drop(tx);
    p.run(rx).await; // flushes and closes the buffer
    let mut events = Vec::new();
    let mut token = FileOffsets::default();
    while let Some(d) = buffer.pop().await {
        events.extend(
            d.batch
                .records
                .iter()
                .map(|r| Event::from_record(r).unwrap()),
        );
        token = d.batch.token;
    }
    (events, token, metrics)
}

#[tokio::test]
async fn joins_partials_ships_undecodable_lines_raw_and_counts_them() {
    let lines = vec![
        raw(40, b"2024-01-01T00:00:00.000000001Z stdout P hel"),
        raw(80, b"2024-01-01T00:00:00.000000002Z stdout F lo\n"),
        raw(95, b"not a cri line\n"),
        raw(140, b"2024-01-01T00:00:01.000000000Z stderr F oops\n"),
    ];
    let (events, token, metrics) = run(lines).await;
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.line.as_str(),
                e.labels
                    .iter()
                    .find(|(k, _)| k == "stream")
                    .unwrap()
                    .1
                    .as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("hello", "stdout"),
            ("not a cri line", "unknown"),
            ("oops", "stderr")
        ]
    );
    assert_eq!(events[0].timestamp_ns, 1_704_067_200_000_000_001);
    assert_eq!(
        token.0[0].1, 140,
        "the batch covers the file up to its last line"
    );
    assert_eq!(
        metrics.process().decode_errors.get("bad_timestamp"),
        Some(&1)
    );
    assert_eq!(metrics.process().events, 3);
}

#[tokio::test]
async fn a_held_partial_caps_the_token_of_the_other_stream() {
    let texts: [&[u8]; 3] = [
        b"2024-01-01T00:00:00.000000001Z stdout F first\n",
        b"2024-01-01T00:00:00.000000002Z stdout P hel\n",
        b"2024-01-01T00:00:00.000000003Z stderr F other\n",
    ];
    let mut end = 0;
    let lines: Vec<RawLine> = texts
        .iter()
        .map(|t| {
            end += t.len() as u64;
            raw(end, t)
        })
        .collect();
    let (events, token, _) = run(lines).await;
    assert_eq!(events.len(), 2, "the partial is still held");
    let held_start = texts[0].len() as u64;
    assert_eq!(
        token.0[0].1, held_start,
        "the checkpoint stops at the held piece"
    );
}
