//! The age of the oldest unacknowledged line (`nodepulse_log_oldest_unacked_age_seconds`):
//! how far delivery lags behind reading. The reader notes, per file, the offset it has
//! read up to and when; the sender removes what a batch every sink settled covers (with
//! a spool too: a line safe on disk is still not delivered). The gauge is the age of
//! the oldest note left, 0 when nothing is pending.
//!
//! Bounded: a file keeps at most [`MAX_NOTES_PER_FILE`] notes; past that the two newest
//! are merged (keeping the older time), so the oldest note, the one the gauge reads,
//! stays exact and a later one may read older than it is (never younger).
//! Acknowledgements that do not match a note (a late ack for a file read again from 0
//! after a copytruncate, a file's other generation) simply find nothing to remove.

use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::tail::RawLine;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Notes kept per file at most.
pub const MAX_NOTES_PER_FILE: usize = 64;

/// Per file: (read up to offset, when), oldest first, offsets increasing.
#[derive(Debug, Default)]
pub struct Pending {
    files: HashMap<FileId, VecDeque<(u64, Instant)>>,
}

impl Pending {
    /// The reader handed on `lines` at `at`.
    pub fn read(&mut self, lines: &[RawLine], at: Instant) {
        let mut last: Option<(FileId, u64)> = None;
        for line in lines.iter().filter(|l| !l.is_end_of_file()) {
            match &mut last {
                Some((file, end)) if *file == line.file => *end = (*end).max(line.offset_end),
                _ => {
                    if let Some((file, end)) = last.take() {
                        self.note(file, end, at);
                    }
                    last = Some((line.file, line.offset_end));
                }
            }
        }
        if let Some((file, end)) = last {
            self.note(file, end, at);
        }
    }

    fn note(&mut self, file: FileId, end: u64, at: Instant) {
        let notes = self.files.entry(file).or_default();
        if notes.back().is_some_and(|&(last, _)| end < last) {
            // Read again from a lower offset (restarted): what was noted before is
            // another content of the file, whose acknowledgements no longer count.
            notes.clear();
        }
        if notes.back().is_some_and(|&(last, _)| end == last) {
            return;
        }
        notes.push_back((end, at));
        if notes.len() > MAX_NOTES_PER_FILE {
            let (newest, _) = notes.pop_back().expect("over the bound");
            notes.back_mut().expect("two at least").0 = newest;
        }
    }

    /// The sinks acknowledged `file` up to `offset`.
    pub fn acked(&mut self, file: &FileId, offset: u64) {
        let Some(notes) = self.files.get_mut(file) else {
            return;
        };
        while notes.front().is_some_and(|&(end, _)| end <= offset) {
            notes.pop_front();
        }
        if notes.is_empty() {
            self.files.remove(file);
        }
    }

    /// How long the oldest line still unacknowledged has waited; zero if none.
    pub fn oldest_age(&self, now: Instant) -> Duration {
        let oldest = self
            .files
            .values()
            .filter_map(|n| n.front())
            .map(|n| n.1)
            .min();
        oldest.map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::checkpoint::Fingerprint;
    use std::path::Path;
    use std::sync::Arc;

    fn id(ino: u64) -> FileId {
        let fingerprint = Fingerprint::of(b"x");
        FileId {
            dev: 1,
            ino,
            fingerprint,
        }
    }

    fn line(ino: u64, offset_end: u64) -> RawLine {
        RawLine {
            file: id(ino),
            path: Arc::from(Path::new("/p/0.log")),
            offset_end,
            bytes: bytes::Bytes::from_static(b"x\n"),
            truncated: false,
        }
    }

    #[test]
    fn the_age_is_the_oldest_unacknowledged_read_and_zero_when_none() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut p = Pending::default();
        assert_eq!(p.oldest_age(t0), Duration::ZERO);
        p.read(&[line(1, 10), line(2, 5), line(1, 20)], t0);
        p.read(&[line(1, 30)], t0 + s);
        p.read(&[line(2, 9)], t0 + 2 * s);
        assert_eq!(p.oldest_age(t0 + 5 * s), 5 * s);
        p.acked(&id(1), 20);
        assert_eq!(p.oldest_age(t0 + 5 * s), 5 * s, "file 2 still waits");
        p.acked(&id(2), 5);
        assert_eq!(p.oldest_age(t0 + 5 * s), 4 * s, "file 1's second read");
        p.acked(&id(1), 29);
        assert_eq!(p.oldest_age(t0 + 5 * s), 4 * s, "an ack short of it");
        p.acked(&id(1), 30);
        p.acked(&id(2), 9);
        assert_eq!(p.oldest_age(t0 + 5 * s), Duration::ZERO);
        assert!(p.files.is_empty());
    }

    #[test]
    fn a_new_generation_is_its_own_file_and_a_restart_from_zero_forgets_the_old() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut p = Pending::default();
        p.read(&[line(1, 500)], t0);
        // Copytruncate: the new content is read under the next generation.
        let mut next = line(1, 40);
        next.file.fingerprint = next.file.fingerprint.with_generation(1);
        p.read(&[next.clone()], t0 + 3 * s);
        p.acked(&id(1), 500); // the old content's (late) ack
        assert_eq!(
            p.oldest_age(t0 + 5 * s),
            2 * s,
            "the new content still waits"
        );
        p.acked(&next.file, 40);
        assert_eq!(p.oldest_age(t0 + 5 * s), Duration::ZERO);
        // The same id read again from a lower offset: the old notes are dropped.
        p.read(&[line(2, 500)], t0);
        p.read(&[line(2, 40)], t0 + 4 * s);
        assert_eq!(p.oldest_age(t0 + 5 * s), s);
    }

    #[test]
    fn notes_per_file_are_bounded_and_the_oldest_stays_exact() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        for i in 0..1000u64 {
            p.read(&[line(1, i + 1)], t0 + Duration::from_millis(i));
        }
        assert_eq!(p.files[&id(1)].len(), MAX_NOTES_PER_FILE);
        assert_eq!(
            p.oldest_age(t0 + Duration::from_secs(2)),
            Duration::from_secs(2)
        );
        p.acked(&id(1), 1000);
        assert!(p.files.is_empty());
    }
}
