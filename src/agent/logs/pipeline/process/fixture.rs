//! What the processor's tests share: raw lines of one stream (or of many), a
//! processor with batches of one event and a partial-flush timeout of the test's
//! choosing, and the events it pushes to its buffer.

use super::Processor;
use crate::agent::logs::buffer::{BatchLimits, Batcher, Buffer, BufferConfig, FileOffsets};
use crate::agent::logs::checkpoint::{FileId, Fingerprint};
use crate::agent::logs::pipeline::event::Event;
use crate::agent::logs::pipeline::reader::Chunk;
use crate::agent::logs::pipeline::PipelineMetrics;
use crate::agent::logs::tail::RawLine;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const LIVE: &str = "/var/log/pods/default_web-1_u1/app/0.log";

pub fn file(ino: u64) -> FileId {
    let fingerprint = Fingerprint::of(b"x");
    FileId {
        dev: 1,
        ino,
        fingerprint,
    }
}

/// A line of file `ino` of the stream at [`LIVE`].
pub fn raw(ino: u64, offset_end: u64, bytes: &str) -> RawLine {
    raw_at(Arc::from(Path::new(LIVE)), ino, offset_end, bytes)
}

/// A line of file `ino` of the stream at `path`.
pub fn raw_at(path: Arc<Path>, ino: u64, offset_end: u64, bytes: &str) -> RawLine {
    RawLine {
        file: file(ino),
        path,
        offset_end,
        bytes: bytes::Bytes::copy_from_slice(bytes.as_bytes()),
        truncated: false,
    }
}

/// A processor cutting a batch at every event, its buffer and its metrics.
pub fn processor(timeout: Duration) -> (Processor, Buffer<FileOffsets>, Arc<PipelineMetrics>) {
    let (p, buffer, metrics) = processor_with(BatchLimits {
        max_events: 1,
        max_bytes: 1 << 20,
        max_age: Duration::from_millis(10),
    });
    (p.with_partial_flush_timeout(timeout), buffer, metrics)
}

/// A processor batching by `limits`, its buffer and its metrics.
pub fn processor_with(
    limits: BatchLimits,
) -> (Processor, Buffer<FileOffsets>, Arc<PipelineMetrics>) {
    let buffer = Buffer::open(BufferConfig::default()).unwrap();
    let metrics = Arc::new(PipelineMetrics::default());
    let p = Processor::new(
        "n1".into(),
        1024,
        None,
        Vec::new(),
        Batcher::new(limits),
        buffer.clone(),
        metrics.clone(),
    );
    (p, buffer, metrics)
}

pub fn chunk(lines: Vec<RawLine>) -> Chunk {
    Chunk {
        ended: Vec::new(),
        lines,
        caught_up: false,
    }
}

/// The next event and its batch's token (waits, bounded).
pub async fn next(buffer: &Buffer<FileOffsets>) -> (Event, FileOffsets) {
    let d = tokio::time::timeout(Duration::from_secs(30), buffer.pop())
        .await
        .expect("an event in time")
        .expect("buffer open");
    let e = Event::from_record(d.batch.records.get(0).unwrap()).unwrap();
    (e, d.batch.token)
}

pub fn is_incomplete(e: &Event) -> bool {
    e.metadata.contains(&("incomplete".into(), "true".into()))
}
