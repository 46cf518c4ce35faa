//! Random push/pop/ack/restart against a model of the pipeline: a producer that re-reads
//! from its checkpoint after a restart (the tailer), and a checkpoint that moves only to
//! released tokens. With the spool as write-ahead, a restart replays exactly the batches
//! not acknowledged, in push order, and the producer has nothing to read again.

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

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
    rt: tokio::runtime::Runtime,
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let buffer = spooled(dir.path(), MEMORY, SPOOL);
        World {
            rt,
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
        let pushed = self
            .rt
            .block_on(self.buffer.try_push(batch(n, self.sizes[n as usize])));
        match pushed {
            Ok(Pushed::Stored(place)) => {
                assert_eq!(place, Stored::Spooled, "the disk never fails here");
                let instance = self.instances;
                self.instances += 1;
                self.durable.insert(instance, n);
                self.expect.push_back((n, instance));
                self.next += 1;
                true
            }
            Ok(other) => panic!("Block never drops: {other:?}"),
            Err(_) => false, // full: the producer waits (Block)
        }
    }

    fn pop(&mut self) {
        let Some(delivery) = self.rt.block_on(self.buffer.try_pop()) else {
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
        self.rt.block_on(self.buffer.ack(ack));
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
        // The tailer re-reads from the checkpoint: every batch pushed was durable, so
        // there is nothing to read again.
        assert_eq!(self.checkpoint, self.next, "all pushed batches settled");
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
