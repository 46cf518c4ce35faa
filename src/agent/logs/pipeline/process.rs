//! The processor: raw lines ─▶ decode (format detected per stream from its first line)
//! ─▶ reassemble partial lines ─▶ enrich ─▶ [`Stage`]s ─▶ batcher ─▶ buffer.
//!
//! A line that does not decode is not dropped: it is shipped as it is (lossy UTF-8, the
//! time it was read, stream "unknown") and counted by reason. Vector's kubernetes_logs
//! drops such a line (`ParserMatchError`, `DROP_EVENT` in
//! src/sources/kubernetes_logs/parser/cri.rs); we keep it, because DESIGN.md says
//! nothing is lost silently and a line a runtime wrote oddly is still the application's.
//!
//! Each event carries the token `FileOffsets[(file, offset_end)]` of the line that ended
//! it; a batch's token is the merge of its events', so the checkpoint of a file moves
//! only past lines whose batch settled. While a partial message is held on one stream
//! (stdout), events the other stream (stderr) completes carry an offset capped at the
//! start of the held pieces, so a crash re-reads the whole message rather than its end.

use super::applog_stage::AppLogStage;
use super::enrich::Enricher;
use super::event::{Origin, Stage};
use super::metrics::{decode_reason, PipelineMetrics};
use super::reader::Chunk;
use crate::agent::logs::buffer::{Batch, Batcher, Buffer, FileOffsets, Pushed};
use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::decode::{self, Format};
use crate::agent::logs::reassemble::Reassembler;
use crate::agent::logs::tail::RawLine;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

mod ends;
#[cfg(test)]
mod fixture;
mod flush;
mod incomplete;
mod streams;
mod writer;
pub use flush::{DEFAULT_PARTIAL_FLUSH_TIMEOUT, REASONS as INCOMPLETE_REASONS};
use writer::RecordWriter;

/// Per stream (live path): what its path says, its format once detected, and its
/// partial lines. Made at the stream's first line, removed at its end (`ends.rs`).
struct StreamState {
    origin: Origin,
    format: Option<Format>,
    reassembler: Reassembler,
    /// Where the oldest partial piece still held begins: tokens of this file stop there
    /// while it is held, so a checkpoint never passes the start of an unsent message.
    held_from: Option<(FileId, u64)>,
}

impl StreamState {
    /// Keeps `held_from` in step with the reassembler after `line` was pushed.
    fn track_held(&mut self, line: &RawLine, partial: bool) {
        if !self.reassembler.pending() {
            self.held_from = None;
        } else if partial && self.held_from.is_none() {
            let start = line.offset_end.saturating_sub(line.bytes.len() as u64);
            self.held_from = Some((line.file, start));
        }
    }

    /// The token part of an event ended by `line`: its offset, capped at a held
    /// partial.
    fn token(&self, line: &RawLine) -> (FileId, u64) {
        let end = match self.held_from {
            Some((file, start)) if file == line.file => line.offset_end.min(start),
            _ => line.offset_end,
        };
        (line.file, end)
    }
}

/// What writing records produced: they go straight into the batcher's open batch, and
/// the batches they complete wait here, in order, until the chunk (or flush) is done,
/// since pushing a batch awaits room in the buffer.
#[derive(Default)]
pub(super) struct Emitted {
    batches: Vec<Batch<FileOffsets>>,
    events: u64,
    /// Messages of excluded streams: their token parts only went to the batcher.
    excluded: u64,
}

/// Where records go while a chunk is processed: the batcher, at the chunk's time.
struct Out<'a> {
    batcher: &'a mut Batcher<FileOffsets>,
    now: Instant,
    emitted: &'a mut Emitted,
}

impl Out<'_> {
    /// The record `write` writes, or for a stream excluded by annotation, only its
    /// token part (so the checkpoint still moves past it).
    fn record(&mut self, origin: &Origin, part: (FileId, u64), write: impl FnOnce(&mut Vec<u8>)) {
        if origin.excluded {
            self.emitted.excluded += 1;
            self.batcher.skip(part, self.now, &mut self.emitted.batches);
            return;
        }
        self.emitted.events += 1;
        self.batcher
            .write(part, self.now, &mut self.emitted.batches, write);
    }
}

/// Index of the "unknown" stream in [`super::event::STREAMS`].
const UNKNOWN: usize = 2;

pub(super) struct Processor {
    pub node: String,
    pub max_message_bytes: usize,
    /// Redaction and lifted fields, run on every message (none in some tests).
    pub app_log: Option<AppLogStage>,
    /// Later stages: when there are any, each message is built as an
    /// [`super::event::Event`] for them.
    pub stages: Vec<Box<dyn Stage>>,
    pub batcher: Batcher<FileOffsets>,
    pub buffer: Buffer<FileOffsets>,
    pub metrics: Arc<PipelineMetrics>,
    streams: streams::Streams,
    /// The lifted fields of the message being written (reused).
    lifted: Vec<u8>,
    /// Partials never completed: flushed after a timeout or at their file's end.
    partials: flush::Partials,
    /// Pod metadata (labels, exclusion) for each stream, when there is a pod cache.
    enricher: Option<Arc<dyn Enricher>>,
}

impl Processor {
    pub fn new(
        node: String,
        max_message_bytes: usize,
        app_log: Option<AppLogStage>,
        stages: Vec<Box<dyn Stage>>,
        batcher: Batcher<FileOffsets>,
        buffer: Buffer<FileOffsets>,
        metrics: Arc<PipelineMetrics>,
    ) -> Self {
        Processor {
            node,
            max_message_bytes,
            app_log,
            stages,
            batcher,
            buffer,
            metrics,
            streams: streams::Streams::default(),
            lifted: Vec::new(),
            partials: flush::Partials::new(DEFAULT_PARTIAL_FLUSH_TIMEOUT),
            enricher: None,
        }
    }

    /// Enriches each stream from `enricher` (see [`super::enrich`]).
    pub fn with_enricher(mut self, enricher: Option<Arc<dyn Enricher>>) -> Self {
        self.enricher = enricher;
        self
    }

    /// Runs until the reader is gone, then flushes the batcher and closes the buffer.
    /// A chunk read when the reader had caught up with every file cuts the open batch:
    /// at low rates a line waits for the next poll, not for the batch's age.
    pub async fn run(mut self, mut lines: mpsc::Receiver<Chunk>) {
        loop {
            let deadline = earliest(self.batcher.deadline(), self.partial_deadline());
            let wait_age = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                got = lines.recv() => match got {
                    Some(chunk) => {
                        let caught_up = chunk.caught_up;
                        self.handle(chunk).await;
                        if caught_up {
                            if let Some(batch) = self.batcher.flush() {
                                self.push(batch).await;
                            }
                        }
                    }
                    None => break,
                },
                () = wait_age => {
                    self.flush_expired_partials().await;
                    if let Some(batch) = self.batcher.poll(Instant::now()) {
                        self.push(batch).await;
                    }
                }
            }
        }
        if let Some(batch) = self.batcher.flush() {
            self.push(batch).await;
        }
        self.buffer.close();
    }

    /// The streams that ended before the chunk's lines were read, then its lines.
    async fn handle(&mut self, chunk: Chunk) {
        let now = Instant::now();
        let mut emitted = Emitted::default();
        for path in &chunk.ended {
            self.end_of_stream(path, now, &mut emitted);
        }
        for line in &chunk.lines {
            self.process_line(line, now, &mut emitted);
        }
        drop(chunk);
        self.ship(emitted).await;
        if let Some(batch) = self.batcher.poll(now) {
            self.push(batch).await;
        }
    }

    /// Counts what was written (and the streams held now) and pushes the batches it
    /// completed.
    async fn ship(&mut self, emitted: Emitted) {
        if let Some(app_log) = &self.app_log {
            app_log.publish();
        }
        {
            let mut p = self
                .metrics
                .process
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            p.events += emitted.events;
            p.excluded += emitted.excluded;
            p.streams = self.streams.len() as u64;
        }
        for batch in emitted.batches {
            self.push(batch).await;
        }
    }

    /// Waits for room (backpressure); a drop (only under DropNewest or after close) is
    /// counted by the buffer.
    async fn push(&self, batch: Batch<FileOffsets>) {
        if let Pushed::DroppedFull | Pushed::DroppedClosed = self.buffer.push(batch).await {
            tracing::warn!("The log buffer turned a batch away; it is counted.");
        }
    }

    fn process_line(&mut self, line: &RawLine, now: Instant, emitted: &mut Emitted) {
        if line.is_end_of_file() {
            return self.end_of_file(line, now, emitted);
        }
        let bytes = line.bytes.strip_suffix(b"\n").unwrap_or(&line.bytes);
        let max = self.max_message_bytes;
        let Processor {
            node,
            metrics,
            streams,
            app_log,
            stages,
            lifted,
            partials,
            batcher,
            enricher,
            ..
        } = self;
        let enricher = enricher.as_deref();
        let mut writer = RecordWriter {
            app_log,
            stages,
            lifted,
        };
        let mut out = Out {
            batcher,
            now,
            emitted,
        };
        let state = streams.entry(&line.path, || StreamState {
            origin: Origin::enriched(&line.path, node, enricher),
            format: None,
            reassembler: Reassembler::new(max),
            held_from: None,
        });
        if let Some(e) = enricher {
            if e.generation() != state.origin.generation {
                state.origin = Origin::enriched(&line.path, node, Some(e));
            }
        }
        let format = match state.format {
            Some(f) => Ok(f),
            None => decode::detect(bytes),
        };
        let decoded = format.and_then(|f| {
            state.format = Some(f);
            f.decode(bytes)
        });
        match decoded {
            Ok(d) => {
                let before = state.reassembler.stats().truncated_messages;
                let partial = d.partial;
                let held_before = state.reassembler.pending();
                let message = state.reassembler.push(d);
                state.track_held(line, partial);
                let pending = state.reassembler.pending();
                if pending || held_before {
                    partials.note(line, pending);
                }
                if let Some(m) = message {
                    let truncated = state.reassembler.stats().truncated_messages - before;
                    if truncated > 0 {
                        metrics
                            .process
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .truncated += truncated;
                    }
                    let stream = stream_index(m.stream);
                    out.record(&state.origin, state.token(line), |buf| {
                        writer.write(buf, &state.origin, stream, m.timestamp_nanos, &m.text)
                    });
                }
            }
            Err(e) => {
                let reason = decode_reason(&e);
                tracing::debug!(path = %line.path.display(), error = %e, "A log line did not decode; it is shipped as is.");
                let mut p = metrics.process.lock().unwrap_or_else(|e| e.into_inner());
                *p.decode_errors.entry(reason).or_default() += 1;
                let text = String::from_utf8_lossy(bytes);
                out.record(&state.origin, state.token(line), |buf| {
                    writer.write(buf, &state.origin, UNKNOWN, now_ns(), &text)
                });
            }
        }
    }
}

/// The index of a decoded stream in [`super::event::STREAMS`].
fn stream_index(stream: decode::Stream) -> usize {
    match stream {
        decode::Stream::Stdout => 0,
        decode::Stream::Stderr => 1,
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn now_ns() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
