//! Partial lines that will never be completed: a stream that holds a partial (CRI `P`)
//! piece longer than `--logs.partial-flush-timeout`, or whose file ended for good
//! (drained after rotation, deleted, let go: the tailer's end-of-file mark, `ends.rs`)
//! or whose stream did, has its held pieces emitted as one message marked
//! `incomplete="true"` (structured metadata) and counted by reason (`incomplete.rs`).
//! Never dropped, never held for ever; stdout and stderr are flushed each on its own
//! (the reassembler keeps them apart). This file owns which streams hold a partial and
//! the timeout.
//!
//! The token of a flushed message is the end of the last line its stream has processed
//! (capped at a partial still held on the other stream), so its checkpoint moves past
//! the pieces only once the message is acknowledged.

use super::incomplete::{push_incomplete, Parts};
use super::{Emitted, Processor};
use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::tail::RawLine;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default of `--logs.partial-flush-timeout`.
pub const DEFAULT_PARTIAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a partial message was flushed (the `reason` label): held too long, or its file
/// (or its whole stream) ended for good.
pub const REASONS: [&str; 2] = ["timeout", "file_end"];

/// The streams that hold a partial now, with the end of the last line each processed.
pub(in crate::agent::logs::pipeline) struct Partials {
    timeout: Duration,
    pub(super) held: HashMap<Arc<Path>, (FileId, u64)>,
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
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{chunk, file, is_incomplete, next, processor, raw};
    use std::time::Duration;
    use tokio::sync::mpsc;

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
}
