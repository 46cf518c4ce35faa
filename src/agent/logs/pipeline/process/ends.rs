//! The tailer's two ends, in the order of the lines: a file ended for good (its mark
//! in the lines, [`RawLine::end_of_file`]) flushes what its stream holds from that
//! file; a stream ended for good (`Chunk::ended`: discovery no longer lists it and the
//! tailer let go of every file of it) flushes what the stream still holds and removes
//! its state, so the processor holds state only for streams that still exist.
//!
//! Both flushes are `incomplete="true"` messages counted as `file_end` (a stream ends
//! when its last file has), with the token of the last line the stream processed, as
//! the timeout's (`flush.rs`): nothing is dropped, and checkpoints move as before.

use super::incomplete::{push_incomplete, Parts};
use super::{Emitted, Processor};
use crate::agent::logs::tail::RawLine;
use std::path::Path;
use std::time::Instant;

impl Processor {
    /// The tailer's mark that `line.file` ended for good: what its stream holds from it
    /// is flushed to the batcher.
    pub(super) fn end_of_file(&mut self, line: &RawLine, now: Instant, emitted: &mut Emitted) {
        self.flush_at_end(now, emitted, |mut p| {
            let Some(state) = p.streams.get_mut(&line.path) else {
                return;
            };
            if !matches!(state.held_from, Some((f, _)) if f == line.file) {
                return;
            }
            state.held_from = None;
            p.partials.held.remove(&line.path);
            let messages = state.reassembler.flush();
            let part = (line.file, line.offset_end);
            push_incomplete(&mut p.writer, state, p.metrics, messages, part, &mut p.out);
        });
    }

    /// The stream at `path` ended for good: what it still holds (a partial whose file
    /// was closed with no mark, e.g. while parked) is flushed to the batcher, and its
    /// state goes.
    pub(super) fn end_of_stream(&mut self, path: &Path, now: Instant, emitted: &mut Emitted) {
        self.flush_at_end(now, emitted, |mut p| {
            let Some(mut state) = p.streams.remove(path) else {
                return;
            };
            // The end of the last line processed; `held_from` (where the held pieces
            // begin) only if that was never noted: the pieces are then read again.
            let part = p.partials.held.remove(path).or(state.held_from);
            if let (Some(part), true) = (part, state.reassembler.pending()) {
                let messages = state.reassembler.flush();
                push_incomplete(&mut p.writer, &state, p.metrics, messages, part, &mut p.out);
            }
        });
    }

    /// Runs `flush` on the processor's parts and counts what it emitted as `file_end`.
    fn flush_at_end(&mut self, now: Instant, emitted: &mut Emitted, flush: impl FnOnce(Parts)) {
        let before = emitted.events;
        flush(self.parts(now, emitted));
        let flushed = emitted.events - before;
        self.count_incomplete("file_end", flushed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{chunk, file, is_incomplete, next, processor, raw, raw_at, LIVE};
    use crate::agent::logs::tail::RawLine;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::mpsc;

    const HOUR: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn the_end_of_a_file_flushes_what_its_stream_holds_from_it() {
        let (p, buffer, metrics) = processor(HOUR);
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

    fn live(i: u64) -> Arc<Path> {
        Arc::from(Path::new(&format!(
            "/var/log/pods/ns_pod-{i}_u{i}/app/0.log"
        )))
    }

    /// Pod churn: the state of every stream that ended goes (the count on /metrics
    /// comes back down), and a partial a stream still held at its end (no end-of-file
    /// mark: a parked file, say) is shipped incomplete and counted, with its token.
    #[tokio::test]
    async fn ended_streams_are_forgotten_and_what_they_held_is_flushed() {
        let (p, buffer, metrics) = processor(HOUR);
        let (tx, rx) = mpsc::channel(1);
        let run = tokio::spawn(p.run(rx));
        let f = "2024-01-01T00:00:00.000000001Z stdout F whole\n";
        let held = "2024-01-01T00:00:00.000000002Z stderr P held ";
        let mut lines: Vec<RawLine> = (0..100).map(|i| raw_at(live(i), i, 46, f)).collect();
        lines.push(raw_at(live(7), 7, 91, held));
        tx.send(chunk(lines)).await.unwrap();
        for _ in 0..100 {
            let (e, _) = next(&buffer).await;
            assert!(!is_incomplete(&e));
        }
        assert_eq!(metrics.process().streams, 100);
        let mut end = chunk(Vec::new());
        end.ended = (0..100).map(live).collect();
        tx.send(end).await.unwrap();
        let (e, token) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("held ", true));
        assert_eq!(token.0, [(file(7), 91)], "the end of the line read last");
        drop(tx);
        run.await.unwrap();
        let p = metrics.process();
        assert_eq!(p.streams, 0, "every state removed");
        assert_eq!(p.incomplete.get("file_end"), Some(&1));
        assert_eq!(p.events, 101);
    }

    /// A stream ended before the lines of a chunk whose path comes back (a new stream
    /// by the same name): the old partial is flushed, the new lines start afresh.
    #[tokio::test]
    async fn a_stream_ended_then_met_again_starts_afresh() {
        let (p, buffer, metrics) = processor(HOUR);
        let (tx, rx) = mpsc::channel(1);
        let run = tokio::spawn(p.run(rx));
        let old = "2024-01-01T00:00:00.000000001Z stdout P old ";
        tx.send(chunk(vec![raw(2, 44, old)])).await.unwrap();
        let new = "2024-01-01T00:00:00.000000002Z stdout F new\n";
        let mut again = chunk(vec![raw(3, 45, new)]);
        again.ended = vec![Arc::from(Path::new(LIVE))];
        tx.send(again).await.unwrap();
        let (e, token) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("old ", true));
        assert_eq!(token.0, [(file(2), 44)]);
        let (e, token) = next(&buffer).await;
        assert_eq!((e.line.as_str(), is_incomplete(&e)), ("new", false));
        assert_eq!(token.0, [(file(3), 45)]);
        drop(tx);
        run.await.unwrap();
        assert_eq!(metrics.process().streams, 1);
    }
}
