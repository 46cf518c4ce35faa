//! The buffer as the pipeline uses it: Block and DropNewest, the memory bound, the spool
//! as write-ahead with memory caching the head in FIFO order, tokens released only for
//! settled prefixes, restarts. The lock split is tested in [`concurrency`], random
//! push/pop/ack/restart sequences in [`model`].

use super::*;
use std::path::Path;
use std::time::Duration;

mod concurrency;
mod model;

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

/// Pops (reading back from disk as needed) until nothing is left; the tokens.
async fn drain(buffer: &Buffer<u64>) -> Vec<u64> {
    let mut tokens = Vec::new();
    while let Some(delivery) = buffer.try_pop().await {
        tokens.push(delivery.batch.token);
        buffer.ack(delivery.ack).await;
    }
    tokens
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
        buffer.ack(delivery.ack).await;
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
    stored(buffer.try_push(batch(0, 30)).await);
    stored(buffer.try_push(batch(1, 30)).await);
    let waiting = tokio::spawn({
        let buffer = buffer.clone();
        async move { buffer.push(batch(2, 30)).await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let first = buffer.try_pop().await.unwrap();
    assert_eq!(waiting.await.unwrap(), Pushed::Stored(Stored::Memory));
    assert_eq!(first.batch.token, 1);
}

#[tokio::test]
async fn drop_newest_counts_what_it_drops() {
    let buffer = memory_only(100, WhenFull::DropNewest);
    for n in 0..5 {
        let _ = buffer.try_push(batch(n, 40)).await;
    }
    let stats = buffer.stats();
    assert_eq!((stats.memory_batches, stats.memory_bytes), (2, 80));
    let dropped = Dropped {
        batches: 3,
        events: 3,
        bytes: 120,
    };
    assert_eq!(stats.dropped_full, dropped);
    assert_eq!(drain(&buffer).await, vec![1, 2], "the oldest are kept");
}

#[tokio::test]
async fn a_batch_larger_than_memory_goes_in_alone_and_is_counted() {
    let buffer = memory_only(100, WhenFull::Block);
    stored(buffer.try_push(batch(0, 10)).await);
    assert!(
        buffer.try_push(batch(1, 500)).await.is_err(),
        "waits for memory to empty"
    );
    buffer.try_pop().await.unwrap();
    stored(buffer.try_push(batch(1, 500)).await);
    assert_eq!(buffer.stats().oversized_batches, 1);
}

#[tokio::test]
async fn with_a_spool_every_batch_is_written_and_memory_caches_the_head_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 100, 1 << 20);
    for n in 0..6 {
        assert_eq!(stored(buffer.try_push(batch(n, 40)).await), Stored::Spooled);
    }
    let stats = buffer.stats();
    assert_eq!((stats.memory_batches, stats.spool.unread_batches), (2, 4));
    assert_eq!(buffer.take_settled(), Some(6), "all durable at once");
    let first = buffer.try_pop().await.unwrap();
    assert_eq!(first.batch.token, 1);
    // Room in memory now, but the spool holds older batches unread: this one follows
    // them on disk instead of jumping ahead of them in memory.
    stored(buffer.try_push(batch(6, 40)).await);
    assert_eq!(buffer.stats().memory_batches, 1, "batch 6 is on disk only");
    buffer.ack(first.ack).await;
    assert_eq!(drain(&buffer).await, vec![2, 3, 4, 5, 6, 7]);
    stored(buffer.try_push(batch(7, 40)).await);
    let stats = buffer.stats();
    assert_eq!(
        (stats.memory_batches, stats.spool.unread_batches),
        (1, 0),
        "spool drained: cached again"
    );
    assert_eq!(drain(&buffer).await, vec![8]);
    let stats = buffer.stats().spool;
    assert_eq!(
        stats.segments, 1,
        "all acknowledged: only the open segment stays"
    );
}

#[tokio::test]
async fn a_batch_the_disk_failed_to_write_holds_back_later_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 1000, 1 << 20);
    assert_eq!(
        stored(buffer.try_push(batch(0, 250)).await),
        Stored::Spooled
    );
    assert_eq!(buffer.take_settled(), Some(1));
    // The next record needs a new segment, and the directory is gone: a failing disk.
    std::fs::remove_dir_all(dir.path().join("spool")).unwrap();
    assert_eq!(stored(buffer.try_push(batch(1, 250)).await), Stored::Memory);
    assert_eq!(buffer.stats().spool.write_errors, 1);
    std::fs::create_dir_all(dir.path().join("spool")).unwrap();
    assert_eq!(
        stored(buffer.try_push(batch(2, 250)).await),
        Stored::Spooled
    );
    assert_eq!(buffer.take_settled(), None, "batch 1 is not safe yet");
    assert_eq!(drain(&buffer).await, vec![1, 2, 3]);
    assert_eq!(buffer.take_settled(), Some(3), "1 acknowledged, 2 durable");
}

#[tokio::test]
async fn a_full_spool_blocks_until_a_segment_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 100, 600);
    let mut n = 0;
    while buffer.try_push(batch(n, 100)).await.is_ok() {
        n += 1;
    }
    assert!(n >= 2, "{n} batches fit");
    let waiting = tokio::spawn({
        let buffer = buffer.clone();
        async move { buffer.push(batch(n, 100)).await }
    });
    tokio::task::yield_now().await;
    assert!(
        !waiting.is_finished(),
        "the spool is the buffer: full is full"
    );
    // Two records of this size share a 300-byte segment: both acknowledged, it goes.
    for _ in 0..2 {
        let delivery = buffer.try_pop().await.unwrap();
        buffer.ack(delivery.ack).await;
    }
    let pushed = tokio::time::timeout(Duration::from_secs(30), waiting).await;
    assert_eq!(
        pushed.expect("resumed").unwrap(),
        Pushed::Stored(Stored::Spooled)
    );
    assert_eq!(drain(&buffer).await, (3..=n + 1).collect::<Vec<_>>());
}

#[tokio::test]
async fn restart_replays_what_was_not_acknowledged_before_new_batches() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 50, 1 << 20);
    for n in 0..4 {
        stored(buffer.try_push(batch(n, 40)).await);
    }
    let first = buffer.try_pop().await.unwrap(); // cached in memory
    let second = buffer.try_pop().await.unwrap(); // read back from disk
    buffer.ack(second.ack).await;
    drop((first, buffer)); // a crash while batch 0 was in flight

    let buffer = spooled(dir.path(), 50, 1 << 20);
    assert_eq!(buffer.stats().spool.replayed_batches, 3);
    stored(buffer.try_push(batch(9, 10)).await);
    assert_eq!(drain(&buffer).await, vec![1, 3, 4, 10]);
}

#[tokio::test]
async fn close_ends_waiting_pushes_and_pops() {
    let buffer = memory_only(10, WhenFull::Block);
    stored(buffer.try_push(batch(0, 10)).await);
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

#[tokio::test]
async fn after_close_what_is_on_disk_only_stays_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 50, 1 << 20);
    for n in 0..3 {
        stored(buffer.try_push(batch(n, 40)).await);
    }
    buffer.close();
    let first = buffer.pop().await.unwrap();
    buffer.ack(first.ack).await;
    assert!(buffer.pop().await.is_none(), "no disk reads at shutdown");
    drop(buffer);
    let buffer = spooled(dir.path(), 50, 1 << 20);
    assert_eq!(drain(&buffer).await, vec![2, 3]);
}
