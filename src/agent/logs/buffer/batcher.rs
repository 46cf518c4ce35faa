//! Cuts a stream of records into batches by count, bytes and age. Time comes in as a
//! `now: Instant` argument so tests control it and the caller owns the timer (it sleeps
//! until [`Batcher::deadline`]).

use super::batch::{AckToken, Batch};
use super::pool::RecordsPool;
use super::records::Records;
use std::time::{Duration, Instant};

/// When a batch is cut. Each limit is a setting; a zero limit is treated as 1 (events,
/// bytes) or "cut at the next poll" (age).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_age: Duration,
}

impl Default for BatchLimits {
    /// Loki's promtail client defaults: 1 MiB or 1 s; 10,000 events keeps a request's
    /// stream count sane.
    fn default() -> Self {
        BatchLimits {
            max_events: 10_000,
            max_bytes: 1024 * 1024,
            max_age: Duration::from_secs(1),
        }
    }
}

/// Room beyond the last batch's size reserved for a new one (see `expect_bytes`).
const OVERFLOW_ROOM: usize = 32 * 1024;

struct Open<T> {
    records: Records,
    token: T,
    started: Instant,
}

pub struct Batcher<T> {
    limits: BatchLimits,
    open: Option<Open<T>>,
    /// Room reserved for a new batch: the size the last one was cut at, plus room for
    /// the record that does not fit (written, then moved to the next batch).
    expect_bytes: usize,
    /// Where new batches' buffers come from (given back by the sender).
    pool: RecordsPool,
}

impl<T: AckToken> Batcher<T> {
    pub fn new(limits: BatchLimits) -> Self {
        Self::with_pool(limits, RecordsPool::default())
    }

    /// A batcher whose batches' buffers come from `pool`, where the sender gives them
    /// back once delivered.
    pub fn with_pool(limits: BatchLimits, pool: RecordsPool) -> Self {
        Batcher {
            limits,
            open: None,
            expect_bytes: 0,
            pool,
        }
    }

    /// Adds one record with the position of the input it came from. Returns the batches
    /// this completed, oldest first (at most two; usually none): see [`Batcher::write`].
    pub fn push(&mut self, record: &[u8], part: T::Part, now: Instant) -> Vec<Batch<T>> {
        let mut done = Vec::new();
        self.write(part, now, &mut done, |out| out.extend_from_slice(record));
        done
    }

    /// Adds one record, written by `write` straight into the open batch, with the
    /// position of the input it came from. The batches this completes go to `done`,
    /// oldest first: the open batch if the record did not fit in it (the record then
    /// starts the next one), and the record's own batch if it reached a limit.
    pub fn write(
        &mut self,
        part: T::Part,
        now: Instant,
        done: &mut Vec<Batch<T>>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let expect = self.expect_bytes;
        let pool = &self.pool;
        let open = self.open.get_or_insert_with(|| Open {
            records: pool.take(expect),
            token: T::default(),
            started: now,
        });
        open.records.write(write);
        if open.records.len() > 1 && !self.limits.fit(&open.records) {
            let room = room_after(&self.limits, open.records.bytes());
            let record = open.records.split_off_last(self.pool.take(room));
            done.extend(self.flush());
            self.open = Some(Open {
                records: record,
                token: T::default(),
                started: now,
            });
        }
        let open = self.open.as_mut().expect("a batch is open");
        open.token.add(part);
        if self.limits.reached(&open.records) {
            done.extend(self.flush());
        }
    }

    /// Adds only a token part, for input read but not shipped (an excluded stream): the
    /// open batch carries it, or a batch of no records opened for it, which the sender
    /// settles without a request. The batches this completes go to `done`.
    pub fn skip(&mut self, part: T::Part, now: Instant, done: &mut Vec<Batch<T>>) {
        let open = self.open.get_or_insert_with(|| Open {
            records: Records::new(),
            token: T::default(),
            started: now,
        });
        open.token.add(part);
        if self.limits.reached(&open.records) {
            done.extend(self.flush());
        }
    }

    /// The open batch, if it has reached its age.
    pub fn poll(&mut self, now: Instant) -> Option<Batch<T>> {
        match self.deadline() {
            Some(deadline) if now >= deadline => self.flush(),
            _ => None,
        }
    }

    /// When the open batch reaches its age, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.open.as_ref().map(|o| o.started + self.limits.max_age)
    }

    /// Cuts the open batch now (shutdown, rotation).
    pub fn flush(&mut self) -> Option<Batch<T>> {
        let mut open = self.open.take()?;
        self.expect_bytes = room_after(&self.limits, open.records.bytes());
        // Room far beyond what was written (a batch cut by time, or grown for one long
        // record) is given back: the buffer's limit counts bytes, not room.
        if open.records.capacity() > open.records.bytes() + 2 * OVERFLOW_ROOM {
            open.records.shrink_to_fit();
        }
        Some(Batch::new(open.records, open.token))
    }
}

/// Room for the batch after one of `bytes` (batches are cut at much the same size).
fn room_after(limits: &BatchLimits, bytes: usize) -> usize {
    bytes.min(limits.max_bytes) + OVERFLOW_ROOM
}

impl BatchLimits {
    /// Within the limits (a batch of one record always is: never split).
    fn fit(&self, records: &Records) -> bool {
        records.len() <= self.max_events.max(1) && records.bytes() <= self.max_bytes
    }

    /// At a limit: the batch is cut.
    fn reached(&self, records: &Records) -> bool {
        records.len() >= self.max_events || records.bytes() >= self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BatchLimits = BatchLimits {
        max_events: 3,
        max_bytes: 10,
        max_age: Duration::from_secs(1),
    };

    fn sizes(batches: &[Batch<u64>]) -> Vec<Vec<usize>> {
        let sizes = |b: &Batch<u64>| b.records.iter().map(<[u8]>::len).collect();
        batches.iter().map(sizes).collect()
    }

    #[test]
    fn cuts_at_the_event_limit() {
        let (mut b, t0) = (Batcher::new(LIMITS), Instant::now());
        assert!(b.push(&[1], 1, t0).is_empty());
        assert!(b.push(&[2], 2, t0).is_empty());
        let done = b.push(&[3], 3, t0);
        assert_eq!(sizes(&done), vec![vec![1, 1, 1]]);
        assert_eq!(done[0].token, 3);
        assert!(b.flush().is_none());
    }

    #[test]
    fn cuts_before_a_record_that_would_pass_the_byte_limit() {
        let (mut b, t0) = (Batcher::new(LIMITS), Instant::now());
        assert!(b.push(&[0; 6], 1, t0).is_empty());
        let done = b.push(&[0; 6], 2, t0);
        assert_eq!(sizes(&done), vec![vec![6]]);
        assert_eq!(done[0].token, 1);
        assert_eq!(sizes(&[b.flush().unwrap()]), vec![vec![6]]);
    }

    #[test]
    fn cuts_when_the_byte_limit_is_reached_exactly() {
        let (mut b, t0) = (Batcher::new(LIMITS), Instant::now());
        assert!(b.push(&[0; 4], 1, t0).is_empty());
        assert_eq!(sizes(&b.push(&[0; 6], 2, t0)), vec![vec![4, 6]]);
    }

    #[test]
    fn never_splits_a_record_larger_than_the_limit() {
        let (mut b, t0) = (Batcher::new(LIMITS), Instant::now());
        assert!(b.push(&[0; 2], 1, t0).is_empty());
        let done = b.push(&[0; 25], 2, t0);
        assert_eq!(sizes(&done), vec![vec![2], vec![25]]);
        assert!(b.flush().is_none());
    }

    #[test]
    fn cuts_by_age_from_the_first_record() {
        let (mut b, t0) = (Batcher::new(LIMITS), Instant::now());
        assert_eq!(b.deadline(), None);
        assert!(b.poll(t0 + Duration::from_secs(5)).is_none());
        assert!(b.push(&[1], 1, t0).is_empty());
        assert!(b.push(&[2], 2, t0 + Duration::from_millis(900)).is_empty());
        assert_eq!(b.deadline(), Some(t0 + Duration::from_secs(1)));
        assert!(b.poll(t0 + Duration::from_millis(999)).is_none());
        let aged = b.poll(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!((aged.events(), aged.token), (2, 2));
        assert_eq!(b.deadline(), None);
    }
}
