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

use super::event::{Event, Origin, Stage};
use super::metrics::{decode_reason, PipelineMetrics};
use crate::agent::logs::buffer::{Batch, Batcher, Buffer, FileOffsets, Pushed};
use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::decode::{self, Format};
use crate::agent::logs::reassemble::Reassembler;
use crate::agent::logs::tail::RawLine;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

mod flush;
pub use flush::{DEFAULT_PARTIAL_FLUSH_TIMEOUT, REASONS as INCOMPLETE_REASONS};

/// Per stream (live path): what its path says, its format once detected, and its
/// partial lines.
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

    /// The token of an event ended by `line`: its offset, capped at a held partial.
    fn token(&self, line: &RawLine) -> FileOffsets {
        let end = match self.held_from {
            Some((file, start)) if file == line.file => line.offset_end.min(start),
            _ => line.offset_end,
        };
        FileOffsets(vec![(line.file, end)])
    }
}

pub(super) struct Processor {
    pub node: String,
    pub max_message_bytes: usize,
    pub stages: Vec<Box<dyn Stage>>,
    pub batcher: Batcher<FileOffsets>,
    pub buffer: Buffer<FileOffsets>,
    pub metrics: Arc<PipelineMetrics>,
    streams: HashMap<Arc<Path>, StreamState>,
    /// Partials never completed: flushed after a timeout or at their file's end.
    partials: flush::Partials,
}

impl Processor {
    pub fn new(
        node: String,
        max_message_bytes: usize,
        stages: Vec<Box<dyn Stage>>,
        batcher: Batcher<FileOffsets>,
        buffer: Buffer<FileOffsets>,
        metrics: Arc<PipelineMetrics>,
    ) -> Self {
        Processor {
            node,
            max_message_bytes,
            stages,
            batcher,
            buffer,
            metrics,
            streams: HashMap::new(),
            partials: flush::Partials::new(DEFAULT_PARTIAL_FLUSH_TIMEOUT),
        }
    }

    /// Runs until the reader is gone, then flushes the batcher and closes the buffer.
    pub async fn run(mut self, mut lines: mpsc::Receiver<Vec<RawLine>>) {
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
                    Some(raw) => self.handle(raw).await,
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

    async fn handle(&mut self, raw: Vec<RawLine>) {
        let mut events = Vec::with_capacity(raw.len());
        for line in &raw {
            self.process_line(line, &mut events);
        }
        self.metrics
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .events += events.len() as u64;
        let now = Instant::now();
        for (mut event, token) in events {
            for stage in &mut self.stages {
                stage.apply(&mut event);
            }
            for batch in self.batcher.push(event.to_record(), token, now) {
                self.push(batch).await;
            }
        }
        if let Some(batch) = self.batcher.poll(now) {
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

    fn process_line(&mut self, line: &RawLine, out: &mut Vec<(Event, FileOffsets)>) {
        if line.is_end_of_file() {
            return self.end_of_file(line, out);
        }
        let bytes = line.bytes.strip_suffix(b"\n").unwrap_or(&line.bytes);
        let max = self.max_message_bytes;
        let (metrics, node) = (&self.metrics, self.node.as_str());
        let state = self
            .streams
            .entry(line.path.clone())
            .or_insert_with(|| StreamState {
                origin: Origin::of(&line.path, node),
                format: None,
                reassembler: Reassembler::new(max),
                held_from: None,
            });
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
                let message = state.reassembler.push(d);
                state.track_held(line, partial);
                self.partials.note(line, state.reassembler.pending());
                if let Some(m) = message {
                    let truncated = state.reassembler.stats().truncated_messages - before;
                    if truncated > 0 {
                        metrics
                            .process
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .truncated += truncated;
                    }
                    let text = m.text.into_owned();
                    let event = state
                        .origin
                        .event(m.stream.as_str(), m.timestamp_nanos, text);
                    out.push((event, state.token(line)));
                }
            }
            Err(e) => {
                let reason = decode_reason(&e);
                tracing::debug!(path = %line.path.display(), error = %e, "A log line did not decode; it is shipped as is.");
                let mut p = metrics.process.lock().unwrap_or_else(|e| e.into_inner());
                *p.decode_errors.entry(reason).or_default() += 1;
                let text = String::from_utf8_lossy(bytes).into_owned();
                let event = state.origin.event("unknown", now_ns(), text);
                out.push((event, state.token(line)));
            }
        }
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
mod tests {
    use super::*;
    use crate::agent::logs::buffer::{BatchLimits, BufferConfig};
    use crate::agent::logs::checkpoint::Fingerprint;
    use std::time::Duration;

    const LIVE: &str = "/var/log/pods/default_web-1_u1/app/0.log";

    fn raw(offset_end: u64, bytes: &[u8]) -> RawLine {
        RawLine {
            file: FileId {
                dev: 1,
                ino: 2,
                fingerprint: Fingerprint::of(b"x"),
            },
            path: Arc::from(Path::new(LIVE)),
            offset_end,
            bytes: bytes.to_vec(),
            truncated: false,
        }
    }

    /// Feeds `lines` through a processor and returns the events and the last token.
    async fn run(lines: Vec<RawLine>) -> (Vec<Event>, FileOffsets, Arc<PipelineMetrics>) {
        let buffer = Buffer::open(BufferConfig::default()).unwrap();
        let metrics = Arc::new(PipelineMetrics::default());
        let limits = BatchLimits {
            max_events: 1000,
            max_bytes: 1 << 20,
            max_age: Duration::from_secs(60),
        };
        let p = Processor::new(
            "n1".into(),
            1024,
            Vec::new(),
            Batcher::new(limits),
            buffer.clone(),
            metrics.clone(),
        );
        let (tx, rx) = mpsc::channel(1);
        tx.send(lines).await.unwrap();
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
}
