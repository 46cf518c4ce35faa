//! The lock split: memory-path operations and `stats` do not wait behind a spool append
//! (the spool lock is held exactly while an append writes and fsyncs), and FIFO order
//! holds with a producer and a consumer racing while memory and spool are both in use.

use super::*;
use std::sync::mpsc;

/// A thread that holds the spool lock, as an append does while it writes and fsyncs,
/// until told to let go.
fn slow_append(buffer: &Buffer<u64>) -> mpsc::Sender<()> {
    let (held_tx, held) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let buffer = buffer.clone();
    std::thread::spawn(move || {
        let _guard = buffer.hold_spool().expect("a spool");
        held_tx.send(()).unwrap();
        let _ = release_rx.recv();
    });
    held.recv().unwrap();
    release
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_memory_pops_do_not_wait_behind_a_slow_append() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = spooled(dir.path(), 1000, 1 << 20);
    stored(buffer.try_push(batch(0, 40)).await); // cached in memory
    let release = slow_append(&buffer);
    let pushing = tokio::spawn({
        let buffer = buffer.clone();
        async move { buffer.push(batch(1, 40)).await }
    });

    // From another thread, with a deadline: with one lock these would hang.
    let (tx, rx) = mpsc::channel();
    let other = buffer.clone();
    std::thread::spawn(move || {
        let _ = tx.send((other.stats(), other.take_settled(), other.is_empty()));
    });
    let (stats, settled, empty) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("stats waited behind the spool lock");
    assert_eq!((stats.memory_batches, settled, empty), (1, Some(1), false));
    let popped = tokio::time::timeout(Duration::from_secs(30), buffer.try_pop())
        .await
        .expect("a pop from memory waited behind the spool lock");
    assert_eq!(popped.unwrap().batch.token, 1);
    assert!(!pushing.is_finished(), "the push waits for the spool lock");

    release.send(()).unwrap();
    let pushed = tokio::time::timeout(Duration::from_secs(30), pushing).await;
    assert_eq!(
        pushed.expect("the push resumed").unwrap(),
        Pushed::Stored(Stored::Spooled)
    );
}

/// Sizes that make memory overflow and empty again many times (memory holds 2–5).
fn size(n: u64) -> usize {
    [40, 90, 20, 150, 60, 10, 120][n as usize % 7]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_holds_while_memory_and_spool_are_both_in_use() {
    const N: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let spool = SpoolConfig {
        dir: dir.path().join("spool"),
        max_segment_bytes: 2000,
        max_total_bytes: 20_000,
    };
    let config = BufferConfig {
        max_memory_bytes: 300,
        when_full: WhenFull::Block,
        spool: Some(spool),
    };
    let buffer: Buffer<u64> = Buffer::open(config).unwrap();
    let producer = tokio::spawn({
        let buffer = buffer.clone();
        async move {
            for n in 0..N {
                assert!(matches!(
                    buffer.push(batch(n, size(n))).await,
                    Pushed::Stored(Stored::Spooled)
                ));
            }
        }
    });
    let (mut seen, mut both_in_use) = (Vec::new(), 0);
    while seen.len() < N as usize {
        let delivery = buffer.pop().await.expect("never closed");
        seen.push(delivery.batch.token - 1);
        let stats = buffer.stats();
        if stats.memory_batches > 0 && stats.spool.unread_batches > 0 {
            both_in_use += 1;
        }
        buffer.ack(delivery.ack).await;
        if seen.len() % 5 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await; // a slower sink
        }
    }
    producer.await.unwrap();
    assert_eq!(seen, (0..N).collect::<Vec<_>>(), "FIFO, nothing lost");
    assert!(both_in_use > 0, "memory and disk were never both in use");
    let stats = buffer.stats();
    assert!(stats.max_memory_bytes_seen <= 300, "{stats:?}");
    assert_eq!(stats.spool.spooled_batches, N);
    assert_eq!(buffer.take_settled(), Some(N));
}
