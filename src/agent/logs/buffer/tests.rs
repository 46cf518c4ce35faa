//! The buffer as the pipeline uses it: Block and DropNewest, the memory bound, spilling
//! to the spool in FIFO order, tokens released only for settled prefixes, restarts; and
//! a model test of random push/pop/ack/restart sequences.

use super::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::time::Duration;

fn batch(n: u64, bytes: usize) -> Batch<u64> {
    Batch::new(vec![vec![n as u8; bytes]], n + 1)
}

fn memory_only(max: usize, when_full: WhenFull) -> Buffer<u64> {
    let config = BufferConfig {
        max_memory_bytes: max,
        when_full,
        spool: None,
    };
    Buffer::open(config).unwrap()
}

fn spooled(dir: &Path, max_memory: usize, total: u64) -> Buffer<u64> {
    let spool = SpoolConfig {
        dir: dir.join("spool"),
        max_segment_bytes: 300,
        max_total_bytes: total,
    };
    let config = BufferConfig {
        max_memory_bytes: max_memory,
        when_full: WhenFull::Block,
        spool: Some(spool),
    };
    Buffer::open(config).unwrap()
}

fn stored(pushed: Result<Pushed, Batch<u64>>) -> Stored {
    match pushed {
        Ok(Pushed::Stored(s)) => s,
        other => panic!("not stored: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_waits_for_room_and_always_resumes() {
    // Fluent Bit #1903: paused at its memory limit and never resumed.
    let buffer = memory_only(100, WhenFull::Block);
    let producer = {
        let buffer = buffer.clone();
        tokio::spawn(async move {
            for n in 0..200 {
                assert!(matches!(buffer.push(batch(n, 30)).await, Pushed::Stored(_)));
            }
            buffer.close();
        })
    };
    let mut seen = Vec::new();
    while let Some(delivery) = buffer.pop().await {
        seen.push(delivery.batch.token - 1);
        buffer.ack(delivery.ack);
        if seen.len() % 7 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await; // a slow sink
        }
    }
    producer.await.unwrap();
    assert_eq!(
        seen,
        (0..200).collect::<Vec<_>>(),
        "nothing lost, order kept"
    );
    let stats = buffer.stats();
    assert!(stats.max_memory_bytes_seen <= 100, "{stats:?}");
    assert_eq!(stats.dropped_full, Dropped::default());
    assert_eq!(buffer.take_settled(), Some(200));
}

#[tokio::test]
async fn a_blocked_push_resumes_when_one_batch_is_popped() {
    let buffer = memory_only(60, WhenFull::Block);
    stored(buffer.try_push(batch(0, 30)));
    stored(buffer.try_push(batch(1, 30)));
    let waiting = tokio::spawn({
        let buffer = buffer.clone();
        async move { buffer.push(batch(2, 30)).await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let first = buffer.try_pop().unwrap();
    assert_eq!(waiting.await.unwrap(), Pushed::Stored(Stored::Memory));
    assert_eq!(first.batch.token, 1);
}

#[test]
fn drop_newest_counts_what_it_drops() {
    let buffer = memory_only(100, WhenFull::DropNewest);
    for n in 0..5 {
        let _ = buffer.try_push(batch(n, 40));
    }
    let stats = buffer.stats();
    assert_eq!((stats.memory_batches, stats.memory_bytes), (2, 80));
    let dropped = Dropped {
        batches: 3,
        events: 3,
        bytes: 120,
    };
    assert_eq!(stats.dropped_full, dropped);
    let tokens: Vec<u64> = std::iter::from_fn(|| buffer.try_pop().map(|d| d.batch.token)).collect();
    assert_eq!(tokens, vec![1, 2], "the oldest are kept");
}

#[test]
fn a_batch_larger_than_memory_goes_in_alone_and_is_counted() {
    let buffer = memory_only(100, WhenFull::Block);
    stored(buffer.try_push(batch(0, 10)));
    assert!(
        buffer.try_push(batch(1, 500)).is_err(),
        "waits for memory to empty"
    );
    buffer.try_pop().unwrap();
    stored(buffer.try_push(batch(1, 500)));
    assert_eq!(buffer.stats().oversized_batches, 1);
}

#[test]
fn spills_to_the_spool_and_keeps_fifo_order() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 100, 1 << 20);
    let places: Vec<Stored> = (0..6)
        .map(|n| stored(buffer.try_push(batch(n, 40))))
        .collect();
    use Stored::{Memory, Spooled};
    assert_eq!(places, [Memory, Memory, Spooled, Spooled, Spooled, Spooled]);
    assert_eq!(buffer.try_pop().unwrap().batch.token, 1);
    // Room in memory now, but the spool holds older batches: this one follows them.
    assert_eq!(stored(buffer.try_push(batch(6, 40))), Spooled);
    let rest: Vec<u64> = std::iter::from_fn(|| buffer.try_pop().map(|d| d.batch.token)).collect();
    assert_eq!(rest, vec![2, 3, 4, 5, 6, 7]);
    assert_eq!(
        stored(buffer.try_push(batch(7, 40))),
        Memory,
        "spool drained"
    );
}

#[test]
fn a_spooled_token_waits_for_older_batches_held_only_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 100, 1 << 20);
    stored(buffer.try_push(batch(0, 60)));
    assert_eq!(stored(buffer.try_push(batch(1, 60))), Stored::Spooled);
    assert_eq!(buffer.take_settled(), None, "batch 0 is not safe yet");
    let first = buffer.try_pop().unwrap();
    buffer.ack(first.ack);
    assert_eq!(buffer.take_settled(), Some(2), "0 acknowledged, 1 durable");
    assert_eq!(buffer.take_settled(), None);
}

#[test]
fn restart_replays_spooled_batches_before_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 50, 1 << 20);
    for n in 0..4 {
        stored(buffer.try_push(batch(n, 40)));
    }
    let first = buffer.try_pop().unwrap(); // from memory
    let second = buffer.try_pop().unwrap(); // from the spool
    buffer.ack(second.ack);
    drop((first, buffer)); // a crash: batch 0 was only in memory

    let buffer = spooled(dir.path(), 50, 1 << 20);
    assert_eq!(buffer.stats().spool.replayed_batches, 2);
    assert_eq!(stored(buffer.try_push(batch(9, 10))), Stored::Spooled);
    let tokens: Vec<u64> = std::iter::from_fn(|| buffer.try_pop().map(|d| d.batch.token)).collect();
    assert_eq!(tokens, vec![3, 4, 10]);
}

#[tokio::test]
async fn close_ends_waiting_pushes_and_pops() {
    let buffer = memory_only(10, WhenFull::Block);
    stored(buffer.try_push(batch(0, 10)));
    let waiting = tokio::spawn({
        let buffer = buffer.clone();
        async move { buffer.push(batch(1, 10)).await }
    });
    tokio::task::yield_now().await;
    buffer.close();
    assert_eq!(waiting.await.unwrap(), Pushed::DroppedClosed);
    assert_eq!(buffer.stats().dropped_closed.batches, 1);
    assert!(buffer.pop().await.is_some(), "what is held drains");
    assert!(buffer.pop().await.is_none());
}

mod model {
    //! Random push/pop/ack/restart against a model of the pipeline: a producer that
    //! re-reads from its checkpoint after a restart (the tailer), and a checkpoint that
    //! moves only to released tokens.
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(usize),
        Pop,
        Ack(usize),
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1usize..70).prop_map(Op::Push),
            3 => Just(Op::Pop),
            3 => (0usize..8).prop_map(Op::Ack),
            1 => Just(Op::Restart),
        ]
    }

    /// Each push of a batch is an instance (the producer may read a batch twice).
    type Instance = u64;

    struct World {
        dir: tempfile::TempDir,
        buffer: Buffer<u64>,
        /// Batches 0..checkpoint are safe (the released token).
        checkpoint: u64,
        /// The next batch the producer reads, and sizes of every batch ever read.
        next: u64,
        sizes: Vec<usize>,
        instances: Instance,
        in_flight: Vec<(u64, Instance, AckHandle)>,
        /// Batches the sink acknowledged (any instance), and acknowledged instances.
        acked: BTreeSet<u64>,
        acked_instances: BTreeSet<Instance>,
        delivered: BTreeSet<u64>,
        /// This run: what the spool replays, then what was stored, in order.
        expect: VecDeque<(u64, Instance)>,
        /// Instances fsynced in the spool and not acknowledged, in push order.
        durable: BTreeMap<Instance, u64>,
    }

    const MEMORY: usize = 120;
    const SPOOL: u64 = 1200;

    impl World {
        fn new() -> World {
            let dir = tempfile::tempdir().unwrap();
            let buffer = spooled(dir.path(), MEMORY, SPOOL);
            World {
                dir,
                buffer,
                checkpoint: 0,
                next: 0,
                sizes: Vec::new(),
                instances: 0,
                in_flight: Vec::new(),
                acked: BTreeSet::new(),
                acked_instances: BTreeSet::new(),
                delivered: BTreeSet::new(),
                expect: VecDeque::new(),
                durable: BTreeMap::new(),
            }
        }

        fn push(&mut self) -> bool {
            let n = self.next;
            match self.buffer.try_push(batch(n, self.sizes[n as usize])) {
                Ok(Pushed::Stored(place)) => {
                    let instance = self.instances;
                    self.instances += 1;
                    if place == Stored::Spooled {
                        self.durable.insert(instance, n);
                    }
                    self.expect.push_back((n, instance));
                    self.next += 1;
                    true
                }
                Ok(other) => panic!("Block never drops: {other:?}"),
                Err(_) => false, // full: the producer waits (Block)
            }
        }

        fn pop(&mut self) {
            let Some(delivery) = self.buffer.try_pop() else {
                assert!(
                    self.expect.is_empty(),
                    "buffer empty but {:?} expected",
                    self.expect
                );
                return;
            };
            let n = delivery.batch.token - 1;
            let (expected, instance) = self.expect.pop_front().expect("a delivery expected");
            assert_eq!(n, expected, "FIFO");
            assert!(
                !self.acked_instances.contains(&instance),
                "batch {n} delivered after its ack"
            );
            self.delivered.insert(n);
            self.in_flight.push((n, instance, delivery.ack));
        }

        fn ack(&mut self, i: usize) {
            if self.in_flight.is_empty() {
                return;
            }
            let (n, instance, ack) = self.in_flight.remove(i % self.in_flight.len());
            self.buffer.ack(ack);
            self.acked.insert(n);
            self.acked_instances.insert(instance);
            self.durable.remove(&instance);
        }

        fn take_settled(&mut self) {
            if let Some(token) = self.buffer.take_settled() {
                assert!(token >= self.checkpoint, "tokens only move forward");
                self.checkpoint = token;
            }
            // At-least-once: everything below the checkpoint reached the sink or the disk.
            let safe = |n: &u64| self.acked.contains(n) || self.durable.values().any(|d| d == n);
            let unsafe_batch = (0..self.checkpoint).find(|n| !safe(n));
            assert_eq!(
                unsafe_batch, None,
                "checkpoint {} passed a batch held only in memory",
                self.checkpoint
            );
        }

        fn restart(&mut self) {
            let old = std::mem::replace(&mut self.buffer, memory_only(1, WhenFull::Block));
            drop(old);
            self.in_flight.clear();
            self.buffer = spooled(self.dir.path(), MEMORY, SPOOL);
            // The spool replays what is durable and unacknowledged, oldest first.
            self.expect = self.durable.iter().map(|(i, n)| (*n, *i)).collect();
            assert_eq!(
                self.buffer.stats().spool.replayed_batches,
                self.expect.len() as u64
            );
            // The tailer re-reads from the checkpoint.
            self.next = self.checkpoint;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn every_batch_arrives_in_order_and_never_after_its_ack(ops in proptest::collection::vec(op(), 1..120)) {
            let mut w = World::new();
            for op in ops {
                match op {
                    Op::Push(size) => {
                        if w.next as usize == w.sizes.len() {
                            w.sizes.push(size);
                        }
                        w.push();
                    }
                    Op::Pop => w.pop(),
                    Op::Ack(i) => w.ack(i),
                    Op::Restart => w.restart(),
                }
                w.take_settled();
                let stats = w.buffer.stats();
                prop_assert!(stats.memory_bytes <= MEMORY && stats.max_memory_bytes_seen <= MEMORY);
                prop_assert!(stats.spool.bytes <= SPOOL);
            }
            // Drain: the producer finishes what it has read; the sink takes everything.
            let read = w.sizes.len() as u64;
            while w.next < read || !w.expect.is_empty() {
                let pushed = w.next < read && w.push();
                if !pushed {
                    w.pop();
                    w.ack(0);
                }
                w.take_settled();
            }
            for n in 0..read {
                prop_assert!(w.delivered.contains(&n), "batch {} never delivered", n);
            }
        }
    }
}
