//! Partial lines that will never be completed: a stream that holds a partial (CRI `P`)
//! piece longer than `--logs.partial-flush-timeout`, or whose file ended for good
//! (drained after rotation, deleted, let go: the tailer's end-of-file mark), has its
//! held pieces emitted as one message marked `incomplete="true"` (structured metadata)
//! and counted by reason. Never dropped, never held for ever; stdout and stderr are
//! flushed each on its own (the reassembler keeps them apart).
//!
//! The token of a flushed message is the end of the last line its stream has processed
//! (capped at a partial still held on the other stream), so its checkpoint moves past
//! the pieces only once the message is acknowledged.

use super::streams::Streams;
use super::{stream_index, Emitted, Out, Processor, RecordWriter, StreamState};
use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::pipeline::record;
use crate::agent::logs::pipeline::PipelineMetrics;
use crate::agent::logs::reassemble::Message;
use crate::agent::logs::tail::RawLine;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default of `--logs.partial-flush-timeout`.
pub const DEFAULT_PARTIAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a partial message was flushed (the `reason` label).
pub const REASONS: [&str; 2] = ["timeout", "file_end"];

/// The streams that hold a partial now, with the end of the last line each processed.
pub(in crate::agent::logs::pipeline) struct Partials {
    timeout: Duration,
    held: HashMap<Arc<Path>, (FileId, u64)>,
}

impl Partials {
    pub fn new(timeout: Duration) -> Self {
        Partials {
            timeout,
            held: HashMap::new(),
        }
    }

    /// After `line` was processed, when its stream holds a partial or held one before
    /// it: remembered while the stream holds one (hashing the path for every line cost
    /// more than decoding it).
    pub fn note(&mut self, line: &RawLine, pending: bool) {
        match pending {
            true => {
                self.held
                    .insert(line.path.clone(), (line.file, line.offset_end));
            }
            false => {
                self.held.remove(&line.path);
            }
        }
    }
}

impl Processor {
    /// Flushes partials after `timeout` instead of the default.
    pub fn with_partial_flush_timeout(mut self, timeout: Duration) -> Self {
        self.partials.timeout = timeout;
        self
    }

    /// When the oldest held partial is due, if any is held.
    pub(super) fn partial_deadline(&self) -> Option<Instant> {
        let held = self.partials.held.keys();
        let oldest = held
            .filter_map(|p| self.streams.get(p)?.reassembler.oldest_held())
            .min()?;
        Some(oldest + self.partials.timeout)
    }

    /// Flushes every partial held for the timeout or longer, and ships it.
    pub(super) async fn flush_expired_partials(&mut self) {
        let now = Instant::now() + Duration::from_nanos(1);
        let Some(cutoff) = now.checked_sub(self.partials.timeout) else {
            return;
        };
        let mut emitted = Emitted::default();
        let paths: Vec<Arc<Path>> = self.partials.held.keys().cloned().collect();
        let Parts {
            streams,
            partials,
            metrics,
            mut writer,
            mut out,
        } = self.parts(now, &mut emitted);
        for path in paths {
            let Some(state) = streams.get_mut(&path) else {
                continue;
            };
            let messages = state.reassembler.flush_held_before(Some(cutoff));
            if messages.is_empty() {
                continue;
            }
            let (file, end) = partials.held[&path];
            let end = match state.held_from {
                Some((f, start)) if f == file && state.reassembler.pending() => end.min(start),
                _ => end,
            };
            if !state.reassembler.pending() {
                state.held_from = None;
                partials.held.remove(&path);
            }
            push_incomplete(&mut writer, state, metrics, messages, (file, end), &mut out);
        }
        self.count_incomplete("timeout", emitted.events);
        self.ship(emitted).await;
    }

    /// The tailer's mark that `line.file` ended for good: what its stream holds from it
    /// is flushed to the batcher.
    pub(super) fn end_of_file(&mut self, line: &RawLine, now: Instant, emitted: &mut Emitted) {
        let before = emitted.events;
        let Parts {
            streams,
            partials,
            metrics,
            mut writer,
            mut out,
        } = self.parts(now, emitted);
        let Some(state) = streams.get_mut(&line.path) else {
            return;
        };
        if !matches!(state.held_from, Some((f, _)) if f == line.file) {
            return;
        }
        state.held_from = None;
        partials.held.remove(&line.path);
        let messages = state.reassembler.flush();
        let part = (line.file, line.offset_end);
        push_incomplete(&mut writer, state, metrics, messages, part, &mut out);
        let flushed = emitted.events - before;
        self.count_incomplete("file_end", flushed);
    }

    /// The processor split into what flushing held partials uses.
    fn parts<'a>(&'a mut self, now: Instant, emitted: &'a mut Emitted) -> Parts<'a> {
        let Processor {
            streams,
            partials,
            metrics,
            app_log,
            stages,
            lifted,
            batcher,
            ..
        } = self;
        Parts {
            streams,
            partials,
            metrics,
            writer: RecordWriter {
                app_log,
                stages,
                lifted,
            },
            out: Out {
                batcher,
                now,
                emitted,
            },
        }
    }

    fn count_incomplete(&self, reason: &'static str, events: u64) {
        if events == 0 {
            return;
        }
        let mut p = self
            .metrics
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *p.incomplete.entry(reason).or_default() += events;
    }
}

struct Parts<'a> {
    streams: &'a mut Streams,
    partials: &'a mut Partials,
    metrics: &'a PipelineMetrics,
    writer: RecordWriter<'a>,
    out: Out<'a>,
}

/// The flushed `messages` of one stream as incomplete records, each with the token
/// part `part`, to `out`; those cut at the cap counted as truncated (as whole ones are).
fn push_incomplete(
    writer: &mut RecordWriter<'_>,
    state: &StreamState,
    metrics: &PipelineMetrics,
    messages: Vec<Message<'static>>,
    part: (FileId, u64),
    out: &mut Out<'_>,
) {
    count_truncated(metrics, &messages);
    for m in messages {
        out.record(part, |buf| incomplete(writer, buf, state, m));
    }
}

fn count_truncated(metrics: &PipelineMetrics, messages: &[Message<'static>]) {
    let n = messages.iter().filter(|m| m.truncated_bytes > 0).count() as u64;
    if n > 0 {
        metrics
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .truncated += n;
    }
}

/// The record of a flushed message: its stream's, marked `incomplete="true"`.
fn incomplete(
    writer: &mut RecordWriter<'_>,
    out: &mut Vec<u8>,
    state: &StreamState,
    m: Message<'static>,
) {
    let mut mark = Vec::new();
    record::put_pair(&mut mark, "incomplete", "true");
    let stream = stream_index(m.stream);
    writer.write_marked(
        out,
        &state.origin,
        stream,
        m.timestamp_nanos,
        &mark,
        &m.text,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::buffer::{BatchLimits, Batcher, Buffer, BufferConfig, FileOffsets};
    use crate::agent::logs::checkpoint::Fingerprint;
    use crate::agent::logs::pipeline::event::Event;
    use crate::agent::logs::pipeline::reader::Chunk;
    use tokio::sync::mpsc;

    const LIVE: &str = "/var/log/pods/default_web-1_u1/app/0.log";

    fn file(ino: u64) -> FileId {
        let fingerprint = Fingerprint::of(b"x");
        FileId {
            dev: 1,
            ino,
            fingerprint,
        }
    }

    fn raw(ino: u64, offset_end: u64, bytes: &str) -> RawLine {
        RawLine {
            file: file(ino),
            path: Arc::from(Path::new(LIVE)),
            offset_end,
            bytes: bytes::Bytes::copy_from_slice(bytes.as_bytes()),
            truncated: false,
        }
    }

    fn processor(timeout: Duration) -> (Processor, Buffer<FileOffsets>, Arc<PipelineMetrics>) {
        let buffer = Buffer::open(BufferConfig::default()).unwrap();
        let metrics = Arc::new(PipelineMetrics::default());
        let limits = BatchLimits {
            max_events: 1,
            max_bytes: 1 << 20,
            max_age: Duration::from_millis(10),
        };
        let p = Processor::new(
            "n1".into(),
            1024,
            None,
            Vec::new(),
            Batcher::new(limits),
            buffer.clone(),
            metrics.clone(),
        )
        .with_partial_flush_timeout(timeout);
        (p, buffer, metrics)
    }

    fn chunk(lines: Vec<RawLine>) -> Chunk {
        Chunk {
            lines,
            caught_up: false,
        }
    }

    /// The next event and its batch's token (waits, bounded).
    async fn next(buffer: &Buffer<FileOffsets>) -> (Event, FileOffsets) {
        let d = tokio::time::timeout(Duration::from_secs(30), buffer.pop())
            .await
            .expect("an event in time")
            .expect("buffer open");
        let e = Event::from_record(d.batch.records.get(0).unwrap()).unwrap();
        (e, d.batch.token)
    }

    fn is_incomplete(e: &Event) -> bool {
        e.metadata.contains(&("incomplete".into(), "true".into()))
    }

    #[tokio::test]
    async fn a_partial_never_completed_is_flushed_after_the_timeout() {
        let (p, buffer, metrics) = processor(Duration::from_millis(50));
        let (tx, rx) = mpsc::channel(1);
        let run = tokio::spawn(p.run(rx));
        let p1 = "2024-01-01T00:00:00.000000001Z stdout P never ";
        tx.send(chunk(vec![raw(2, 50, p1)])).await.unwrap();
        let (e, token) = next(&buffer).await;
        assert_eq!(e.line, "never ");
        assert!(is_incomplete(&e), "{:?}", e.metadata);
        assert_eq!(token.0, [(file(2), 50)], "the checkpoint passes the pieces");
        // The stream goes on normally after it.
        let f = "2024-01-01T00:00:00.000000002Z stdout F next\n";
        tx.send(chunk(vec![raw(2, 100, f)])).await.unwrap();
        let (e, _) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("next", false));
        drop(tx);
        run.await.unwrap();
        assert_eq!(metrics.process().incomplete.get("timeout"), Some(&1));
    }

    #[tokio::test]
    async fn a_partial_completed_in_time_is_joined() {
        let (p, buffer, metrics) = processor(Duration::from_secs(3600));
        let (tx, rx) = mpsc::channel(1);
        let run = tokio::spawn(p.run(rx));
        let p1 = "2024-01-01T00:00:00.000000001Z stderr P hel";
        tx.send(chunk(vec![raw(2, 44, p1)])).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let f = "2024-01-01T00:00:00.000000002Z stderr F lo\n";
        tx.send(chunk(vec![raw(2, 88, f)])).await.unwrap();
        let (e, _) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("hello", false));
        drop(tx);
        run.await.unwrap();
        assert!(metrics.process().incomplete.is_empty());
    }

    #[tokio::test]
    async fn the_end_of_a_file_flushes_what_its_stream_holds_from_it() {
        let (p, buffer, metrics) = processor(Duration::from_secs(3600));
        let (tx, rx) = mpsc::channel(1);
        let run = tokio::spawn(p.run(rx));
        let lines = vec![
            raw(2, 45, "2024-01-01T00:00:00.000000001Z stdout P head "),
            RawLine::end_of_file(file(2), Arc::from(Path::new(LIVE)), 45),
            raw(3, 46, "2024-01-01T00:00:00.000000002Z stdout F tail\n"),
        ];
        tx.send(chunk(lines)).await.unwrap();
        let (e, token) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("head ", true));
        assert_eq!(token.0, [(file(2), 45)]);
        let (e, token) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("tail", false));
        assert_eq!(token.0, [(file(3), 46)]);
        drop(tx);
        run.await.unwrap();
        let p = metrics.process();
        assert_eq!(p.incomplete.get("file_end"), Some(&1));
        assert!(p.decode_errors.is_empty(), "the mark is not a line");
        assert_eq!(p.events, 2);
    }
}
