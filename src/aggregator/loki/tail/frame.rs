//! What a tail sends, and the bound between reading and the socket. A frame is Loki's
//! `TailResponse` as JSON text: `{"streams":[{"stream":{..},"values":[["<ns>","<line>"]]}],
//! "dropped_entries":[{"timestamp":"<ns>","labels":{..}}]}` (the latter only when some
//! were dropped). [`Outbox`] cuts lines into frames of at most 100 entries (Loki's
//! `maxEntriesPerTailResponse`) or ~1 MiB, and queues them for the socket's writer
//! without waiting: when the queue (10 frames, Loki's `maxBufferedTailResponses`) is
//! full, the frame's entries are dropped, counted, and named (up to 1000, Loki's
//! `maxDroppedEntriesPerTailResponse`) in the next frame that fits.

use crate::aggregator::http::json;
use crate::aggregator::logql::eval::lines::Kept;
use crate::aggregator::model::Labels;
use axum::extract::ws::Message;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::{self, error::TrySendError};

/// Frames queued for the socket.
pub const QUEUE_FRAMES: usize = 10;
const FRAME_ENTRIES: usize = 100;
const FRAME_BYTES: usize = 1 << 20;
const MAX_DROPPED: usize = 1000;

/// The socket's writer went away (the client closed or failed).
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

/// The queue to the socket's writer and the drops not yet reported.
pub struct Outbox<'s> {
    tx: mpsc::Sender<Message>,
    dropped: Vec<(Labels, i64)>,
    /// Counts every dropped entry (`nodepulse_loki_tail_dropped_entries_total`).
    counter: &'s AtomicU64,
}

impl<'s> Outbox<'s> {
    pub fn new(tx: mpsc::Sender<Message>, counter: &'s AtomicU64) -> Self {
        Outbox {
            tx,
            dropped: Vec::new(),
            counter,
        }
    }

    /// Queues `lines` (oldest first) as frames, dropping what does not fit.
    pub fn offer(&mut self, lines: Vec<Kept>) -> Result<(), Closed> {
        let mut frame = Vec::new();
        let mut bytes = 0;
        for k in lines {
            bytes += k.line.len();
            frame.push(k);
            if frame.len() >= FRAME_ENTRIES || bytes >= FRAME_BYTES {
                self.send(&mut frame)?;
                bytes = 0;
            }
        }
        if !frame.is_empty() {
            self.send(&mut frame)?;
        }
        Ok(())
    }

    /// Queues a ping if there is room (a busy queue needs none).
    pub fn ping(&self) {
        let _ = self.tx.try_send(Message::Ping(Default::default()));
    }

    /// Completes when the writer has gone (its client failed).
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    fn send(&mut self, frame: &mut Vec<Kept>) -> Result<(), Closed> {
        let full = match self.tx.try_reserve() {
            Ok(slot) => {
                let text = frame_json(frame, &self.dropped);
                slot.send(Message::Text(text.into()));
                self.dropped.clear();
                false
            }
            Err(TrySendError::Full(())) => true,
            Err(TrySendError::Closed(())) => return Err(Closed),
        };
        if full {
            self.drop_all(frame);
        }
        frame.clear();
        Ok(())
    }

    fn drop_all(&mut self, frame: &mut Vec<Kept>) {
        self.counter
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        let room = MAX_DROPPED.saturating_sub(self.dropped.len());
        let named = frame.drain(..).take(room).map(|k| (k.labels, k.ts));
        self.dropped.extend(named);
    }
}

/// One `TailResponse`: runs of lines with the same labels share a stream object.
pub fn frame_json(lines: &[Kept], dropped: &[(Labels, i64)]) -> String {
    let mut out = String::from("{\"streams\":[");
    let mut i = 0;
    while i < lines.len() {
        let labels = &lines[i].labels;
        let run = lines[i..]
            .iter()
            .take_while(|k| k.labels == *labels)
            .count();
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"stream\":");
        json::write_labels(&mut out, labels);
        out.push_str(",\"values\":[");
        for (j, k) in lines[i..i + run].iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[\"{}\",", k.ts);
            json::write_str(&mut out, &k.line);
            out.push(']');
        }
        out.push_str("]}");
        i += run;
    }
    out.push(']');
    write_dropped(&mut out, dropped);
    out.push('}');
    out
}

fn write_dropped(out: &mut String, dropped: &[(Labels, i64)]) {
    if dropped.is_empty() {
        return;
    }
    out.push_str(",\"dropped_entries\":[");
    for (i, (labels, ts)) in dropped.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"timestamp\":\"{ts}\",\"labels\":");
        json::write_labels(out, labels);
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(app: &str, ts: i64, line: &str) -> Kept {
        Kept {
            ts,
            line: line.into(),
            labels: Labels::from_pairs(&[("app", app)]),
        }
    }

    fn text(m: Message) -> String {
        match m {
            Message::Text(t) => t.to_string(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn a_frame_is_lokis_tail_response() {
        let lines = [kept("a", 1, "x"), kept("a", 2, "y\""), kept("b", 3, "z")];
        assert_eq!(
            frame_json(&lines, &[]),
            r#"{"streams":[{"stream":{"app":"a"},"values":[["1","x"],["2","y\""]]},{"stream":{"app":"b"},"values":[["3","z"]]}]}"#
        );
        let dropped = [(Labels::from_pairs(&[("app", "a")]), 7)];
        assert_eq!(
            frame_json(&lines[2..], &dropped),
            r#"{"streams":[{"stream":{"app":"b"},"values":[["3","z"]]}],"dropped_entries":[{"timestamp":"7","labels":{"app":"a"}}]}"#
        );
    }

    #[test]
    fn a_full_queue_drops_counts_and_reports_in_the_next_frame() {
        let (tx, mut rx) = mpsc::channel(2);
        let counter = AtomicU64::new(0);
        let mut out = Outbox::new(tx, &counter);
        // 250 lines: frames of 100, 100, 50; the third does not fit.
        let lines: Vec<Kept> = (0..250).map(|i| kept("a", i, "l")).collect();
        out.offer(lines).unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 50);
        let first: serde_json::Value = serde_json::from_str(&text(rx.try_recv().unwrap())).unwrap();
        assert_eq!(first["streams"][0]["values"].as_array().unwrap().len(), 100);
        assert!(first.get("dropped_entries").is_none());
        rx.try_recv().unwrap();
        out.offer(vec![kept("b", 300, "after")]).unwrap();
        let next: serde_json::Value = serde_json::from_str(&text(rx.try_recv().unwrap())).unwrap();
        let dropped = next["dropped_entries"].as_array().unwrap();
        assert_eq!(dropped.len(), 50);
        assert_eq!(dropped[0]["timestamp"], "200");
        assert_eq!(dropped[0]["labels"]["app"], "a");
        assert_eq!(next["streams"][0]["values"][0][1], "after");
        // Reported once.
        out.offer(vec![kept("b", 301, "again")]).unwrap();
        let last = text(rx.try_recv().unwrap());
        assert!(!last.contains("dropped_entries"), "{last}");
    }

    #[test]
    fn drops_named_are_bounded_but_all_counted() {
        let (tx, _rx) = mpsc::channel(1);
        let counter = AtomicU64::new(0);
        let mut out = Outbox::new(tx, &counter);
        let lines: Vec<Kept> = (0..1600).map(|i| kept("a", i, "l")).collect();
        out.offer(lines).unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 1500);
        assert_eq!(out.dropped.len(), MAX_DROPPED);
    }

    #[test]
    fn frames_are_cut_by_bytes_too() {
        let (tx, mut rx) = mpsc::channel(10);
        let counter = AtomicU64::new(0);
        let mut out = Outbox::new(tx, &counter);
        let big = "x".repeat(FRAME_BYTES / 2);
        out.offer((0..5).map(|i| kept("a", i, &big)).collect())
            .unwrap();
        let mut frames = 0;
        while rx.try_recv().is_ok() {
            frames += 1;
        }
        assert_eq!(frames, 3);
    }

    #[test]
    fn a_gone_writer_is_reported() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let counter = AtomicU64::new(0);
        let mut out = Outbox::new(tx, &counter);
        assert_eq!(out.offer(vec![kept("a", 1, "l")]), Err(Closed));
    }
}
