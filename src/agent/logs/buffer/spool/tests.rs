use super::files::{segment_id, segment_name};
use super::*;
use std::fs::OpenOptions;

fn config(dir: &Path, segment: u64, total: u64) -> SpoolConfig {
    SpoolConfig {
        dir: dir.join("spool"),
        max_segment_bytes: segment,
        max_total_bytes: total,
    }
}

/// A batch of two records whose token is `n`.
fn batch(n: u64) -> Batch<u64> {
    Batch::new(vec![format!("line {n}").into_bytes(), vec![b'x'; 40]], n)
}

fn read_all(spool: &mut Spool) -> Vec<(u64, SpoolPos)> {
    std::iter::from_fn(|| spool.read_next::<u64>().map(|(b, seg)| (b.token, seg))).collect()
}

fn tokens(read: &[(u64, SpoolPos)]) -> Vec<u64> {
    read.iter().map(|(token, _)| *token).collect()
}

fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    segment_files(&dir.join("spool"))
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

#[test]
fn round_trips_in_order_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path(), 300, 1 << 20)).unwrap();
    for n in 0..10 {
        spool.append(&batch(n), false).unwrap();
    }
    assert!(spool.stats().segments > 2, "{:?}", spool.stats());
    let read = read_all(&mut spool);
    assert_eq!(tokens(&read), (0..10).collect::<Vec<_>>());
    assert!(!spool.has_unread());
    assert_eq!(spool.read_next::<u64>(), None);
    for (_, segment) in read {
        spool.ack(segment);
    }
    assert_eq!(spool.stats().segments, 1, "only the open segment stays");
    assert_eq!(segment_paths(dir.path()).len(), 1);
    drop(spool);
    let spool = Spool::open(config(dir.path(), 300, 1 << 20)).unwrap();
    assert_eq!(spool.stats().replayed_batches, 0, "every ack was noted");
    assert!(segment_paths(dir.path()).is_empty(), "and the segment went");
}

#[test]
fn names_segments_so_that_name_order_is_write_order() {
    assert_eq!(segment_name(42), "segment-00000000000000000042.spool");
    assert_eq!(segment_id("segment-00000000000000000042.spool"), Some(42));
    for name in [
        "segment-42.spool",
        "segment-0000000000000000004x.spool",
        "other",
    ] {
        assert_eq!(segment_id(name), None, "{name}");
    }
}

#[test]
fn a_segment_goes_only_when_every_batch_in_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path(), 200, 1 << 20)).unwrap();
    for n in 1..=3 {
        spool.append(&batch(n), false).unwrap(); // 1 and 2 fill the first segment
    }
    let read = read_all(&mut spool);
    assert_ne!(read[1].1.segment, read[2].1.segment);
    assert!(!spool.ack(read[1].1), "one batch of two acknowledged");
    assert_eq!(segment_paths(dir.path()).len(), 2);
    assert!(spool.ack(read[0].1));
    assert_eq!(segment_paths(dir.path()).len(), 1);
    assert!(
        !spool.ack(read[2].1),
        "the open segment stays until it is full"
    );
    spool.append(&batch(4), false).unwrap(); // rolls: the done segment goes
    assert_eq!(segment_paths(dir.path()).len(), 1);
    assert_eq!(spool.stats().segments, 1);
}

#[test]
fn restart_replays_unacknowledged_batches_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 200, 1 << 20);
    let mut spool = Spool::open(cfg.clone()).unwrap();
    for n in 0..6 {
        spool.append(&batch(n), false).unwrap();
    }
    let read = read_all(&mut spool);
    // Batches 0 and 1 fill the first segment: acknowledging them deletes it.
    assert_eq!(read[0].1.segment, read[1].1.segment);
    assert_ne!(read[1].1.segment, read[2].1.segment);
    spool.ack(read[0].1);
    spool.ack(read[1].1);
    spool.ack(read[3].1); // shares its segment with 2, which is not acknowledged
    assert!(dir
        .path()
        .join("spool")
        .join(segment_name(1))
        .with_extension("acks")
        .exists());
    drop(spool);

    let mut spool = Spool::open(cfg).unwrap();
    assert_eq!(spool.stats().replayed_batches, 3);
    assert_eq!(
        tokens(&read_all(&mut spool)),
        vec![2, 4, 5],
        "3 was acknowledged"
    );
    spool.append(&batch(6), false).unwrap();
    assert_eq!(
        tokens(&read_all(&mut spool)),
        vec![6],
        "new segment after the old"
    );
}

#[test]
fn a_torn_last_record_is_counted_and_the_records_before_it_replay() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 1 << 20, 1 << 20);
    let mut spool = Spool::open(cfg.clone()).unwrap();
    for n in 0..3 {
        spool.append(&batch(n), false).unwrap();
    }
    drop(spool);
    let path = segment_paths(dir.path()).remove(0);
    let len = fs::metadata(&path).unwrap().len();
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 10).unwrap(); // the crash came mid-append of batch 2

    let mut spool = Spool::open(cfg.clone()).unwrap();
    assert_eq!(spool.stats().torn_records, 1);
    assert!(spool.stats().torn_bytes > 0);
    let read = read_all(&mut spool);
    assert_eq!(tokens(&read), vec![0, 1]);
    spool.append(&batch(9), false).unwrap();
    assert_eq!(
        segment_paths(dir.path()).len(),
        2,
        "a torn segment is never appended to"
    );
    for (_, segment) in read {
        spool.ack(segment);
    }
    assert_eq!(
        segment_paths(dir.path()).len(),
        1,
        "the torn segment went once acknowledged"
    );
}

#[test]
fn garbage_after_the_last_record_is_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 1 << 20, 1 << 20);
    let mut spool = Spool::open(cfg.clone()).unwrap();
    spool.append(&batch(0), false).unwrap();
    spool.append(&batch(1), false).unwrap();
    drop(spool);
    let path = segment_paths(dir.path()).remove(0);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&[0u8; 100]).unwrap(); // a torn write that left zeros
    file.write_all(b"random garbage that is not a record")
        .unwrap();
    drop(file);

    for _ in 0..2 {
        // The same on every start: never a crash loop.
        let mut spool = Spool::open(cfg.clone()).unwrap();
        assert_eq!(
            (spool.stats().torn_records, spool.stats().torn_bytes),
            (1, 135)
        );
        assert_eq!(tokens(&read_all(&mut spool)), vec![0, 1]);
    }
}

#[test]
fn a_bit_flip_inside_a_record_is_caught_by_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 1 << 20, 1 << 20);
    let mut spool = Spool::open(cfg.clone()).unwrap();
    spool.append(&batch(0), false).unwrap();
    spool.append(&batch(1), false).unwrap();
    drop(spool);
    let path = segment_paths(dir.path()).remove(0);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    fs::write(&path, bytes).unwrap();

    let mut spool = Spool::open(cfg).unwrap();
    assert_eq!(spool.stats().torn_records, 1);
    assert_eq!(tokens(&read_all(&mut spool)), vec![0]);
}

#[test]
fn a_file_that_is_not_a_segment_is_set_aside_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let spool_dir = dir.path().join("spool");
    fs::create_dir_all(&spool_dir).unwrap();
    let bad = spool_dir.join(segment_name(3));
    fs::write(&bad, [0u8; 4096]).unwrap(); // Promtail's NUL-filled file (PITFALLS 2)
    fs::write(spool_dir.join(segment_name(4)), b"NPSP").unwrap(); // crash after create

    let mut spool = Spool::open(config(dir.path(), 1 << 20, 1 << 20)).unwrap();
    assert_eq!(spool.stats().corrupt_segments, 1);
    assert!(!bad.exists() && segment_paths(dir.path()).is_empty());
    let kept: Vec<_> = fs::read_dir(&spool_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].to_string_lossy().contains(".corrupt-"), "{kept:?}");
    spool.append(&batch(1), false).unwrap();
    assert_eq!(
        segment_id(
            &segment_paths(dir.path())[0]
                .file_name()
                .unwrap()
                .to_string_lossy()
        ),
        Some(5)
    );
}

#[test]
fn the_total_size_cap_is_never_passed() {
    let dir = tempfile::tempdir().unwrap();
    let total = 1000;
    let mut spool = Spool::open(config(dir.path(), 250, total)).unwrap();
    let mut stored = 0;
    while spool.append(&batch(stored), false).is_ok() {
        stored += 1;
    }
    assert!(matches!(
        spool.append(&batch(99), false),
        Err(AppendError::Full)
    ));
    let on_disk: u64 = segment_paths(dir.path())
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(on_disk, spool.stats().bytes);
    assert!(spool.stats().max_bytes_seen <= total && on_disk > total - 250);
    assert_eq!(spool.stats().spooled_batches, stored);

    let read = read_all(&mut spool);
    let first = read
        .iter()
        .filter(|(_, pos)| pos.segment == read[0].1.segment);
    assert!(first.clone().count() > 1);
    for (_, pos) in first {
        spool.ack(*pos);
    }
    spool
        .append(&batch(100), false)
        .expect("room again once a segment is acknowledged");
    assert!(spool.stats().max_bytes_seen <= total);
}

#[test]
fn a_batch_larger_than_a_segment_gets_a_segment_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path(), 100, 1 << 20)).unwrap();
    let big = Batch::new(vec![vec![7u8; 500]], 1u64);
    spool.append(&batch(0), false).unwrap();
    spool.append(&big, false).unwrap();
    spool.append(&batch(2), false).unwrap();
    assert_eq!(spool.stats().segments, 3);
    assert_eq!(tokens(&read_all(&mut spool)), vec![0, 1, 2]);
}

#[test]
fn a_held_record_is_not_read_back_but_replays_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 1 << 20, 1 << 20);
    let mut spool = Spool::open(cfg.clone()).unwrap();
    let held = spool.append(&batch(0), true).unwrap();
    let acked = spool.append(&batch(1), true).unwrap();
    assert!(
        !spool.has_unread(),
        "the caller delivers held batches itself"
    );
    spool.append(&batch(2), false).unwrap();
    assert_eq!(tokens(&read_all(&mut spool)), vec![2]);
    spool.ack(acked);
    drop(spool); // a crash while batch 0 was in flight

    let mut spool = Spool::open(cfg).unwrap();
    let read = read_all(&mut spool);
    assert_eq!(tokens(&read), vec![0, 2], "1 was acknowledged");
    assert_eq!(read[0].1, held);
    for (_, pos) in read {
        spool.ack(pos);
    }
    assert!(segment_paths(dir.path()).is_empty());
}
