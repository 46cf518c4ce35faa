//! The container runtime's writes in the kubelet model: CRI lines (F lines and P…F
//! sequences, stdout and stderr interleaved, a message left unfinished across other
//! operations) and where each message's pieces went.

use super::{Message, Node, STREAMS};
use crate::common::rng::Rng;
use std::fs::OpenOptions;
use std::io::Write;

impl Node {
    /// Writes 1–6 messages to the instance's live file, stdout and stderr pieces
    /// interleaved; a message may be left unfinished (its last pieces written later,
    /// perhaps after a rotation).
    pub fn write(&mut self, rng: &mut Rng, i: usize) {
        let target = self.instances[i].live;
        self.write_to(rng, i, target, true);
    }

    pub(super) fn write_to(&mut self, rng: &mut Rng, i: usize, target: usize, may_leave: bool) {
        let mut queues = std::mem::take(&mut self.instances[i].pending);
        for _ in 0..1 + rng.below(6) {
            let stream = rng.below(2) as usize;
            let seq = self.new_message(rng, i, stream);
            let pieces = split(rng, &self.messages[seq as usize].text);
            self.messages[seq as usize].split = pieces.len() > 1;
            queues[stream].extend(pieces.into_iter().map(|p| (seq, p)));
        }
        let mut out = String::new();
        while queues.iter().any(|q| !q.is_empty()) {
            let s = if queues[0].is_empty() || (!queues[1].is_empty() && rng.below(2) == 1) {
                1
            } else {
                0
            };
            // Leave the rest of a message for later (only between its pieces).
            if may_leave && queues[s].len() > 1 && rng.below(8) == 0 {
                let first = queues[s][0].0;
                if queues[s].iter().all(|(q, _)| *q == first) {
                    self.instances[i].pending[s] = std::mem::take(&mut queues[s]);
                    continue;
                }
            }
            let (seq, piece) = queues[s].remove(0);
            let last = queues[s].first().is_none_or(|(q, _)| *q != seq);
            out.push_str(&self.cri_line(seq, s, last, &piece));
            self.note(target, seq);
        }
        self.append(target, &out);
    }

    fn new_message(&mut self, rng: &mut Rng, i: usize, stream: usize) -> u64 {
        let seq = self.messages.len() as u64;
        let inst = &self.instances[i];
        let pad_len = match rng.below(20) {
            0 => 1000 + rng.below(5000),
            _ => rng.below(100),
        } as usize;
        let text = format!(
            "m{seq} {}/{}/{}/{} {} {}",
            inst.namespace,
            inst.pod,
            inst.container,
            inst.restart,
            STREAMS[stream],
            "x".repeat(pad_len)
        );
        // Distinct per message, so files begin with distinct bytes (identity).
        let timestamp_ns = 1_704_067_200_000_000_000 + seq as i64 * 1_000_003;
        self.messages.push(Message {
            instance: i,
            stream,
            text,
            timestamp_ns,
            split: false,
        });
        seq
    }

    fn cri_line(&self, seq: u64, stream: usize, last: bool, piece: &str) -> String {
        let ns = self.messages[seq as usize].timestamp_ns;
        let (secs, nanos) = (ns / 1_000_000_000 - 1_704_067_200, ns % 1_000_000_000);
        let ts = format!(
            "2024-01-01T{:02}:{:02}:{:02}.{nanos:09}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let tag = if last { "F" } else { "P" };
        format!("{ts} {} {tag} {piece}\n", STREAMS[stream])
    }

    fn note(&mut self, file: usize, seq: u64) {
        let f = &mut self.files[file];
        if f.messages.last() != Some(&seq) {
            f.messages.push(seq);
        }
        if f.unique.last() != Some(&seq) {
            f.unique.push(seq);
        }
    }

    fn append(&self, file: usize, text: &str) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(&self.files[file].path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Writes what is left of messages begun on the instance (before it stops).
    pub fn finish_pending(&mut self, i: usize) {
        let target = self.instances[i].live;
        let mut out = String::new();
        for s in 0..2 {
            let pieces = std::mem::take(&mut self.instances[i].pending[s]);
            for (k, (seq, piece)) in pieces.iter().enumerate() {
                out.push_str(&self.cri_line(*seq, s, k + 1 == pieces.len(), piece));
                self.note(target, *seq);
            }
        }
        self.append(target, &out);
    }

    /// Finishes the unfinished messages with a piece in `file` (so that every message
    /// in it can be delivered before it goes).
    pub fn finish_pending_in(&mut self, file: usize) {
        for i in 0..self.instances.len() {
            let pending = self.instances[i].pending.iter().flatten();
            let in_file = |(seq, _): &(u64, String)| self.files[file].messages.contains(seq);
            if pending.clone().any(in_file) {
                self.finish_pending(i);
            }
        }
    }
}

/// A message cut into 1–4 non-empty pieces (runtime-split P…F lines).
fn split(rng: &mut Rng, text: &str) -> Vec<String> {
    let n = match rng.below(4) {
        0 => 2 + rng.below(3) as usize,
        _ => 1,
    }
    .min(text.len());
    let mut cuts: Vec<usize> = (1..n)
        .map(|_| 1 + rng.below(text.len() as u64 - 1) as usize)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([text.len()]) {
        pieces.push(text[at..c].to_string());
        at = c;
    }
    pieces
}
