use super::*;
use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::record;
use crate::aggregator::tsdb::record::{encode_samples, encode_series, RefSample};

fn samples_payload(r: u64, n: i64) -> Vec<u8> {
    let s: Vec<RefSample> = (0..n).map(|t| RefSample { r, t, v: t as f64 }).collect();
    let mut buf = Vec::new();
    encode_samples(&s, &mut buf);
    buf
}

fn replay(dir: &Path, opts: WalOptions) -> Result<(Vec<Record>, ReplayStats), StorageError> {
    let mut got = Vec::new();
    let (_, stats) = Wal::open(dir, opts, |r| {
        got.push(r);
        Ok(())
    })?;
    Ok((got, stats))
}

fn write_three(dir: &Path, opts: WalOptions) {
    let (mut wal, _) = Wal::open(dir, opts, |_| Ok(())).unwrap();
    let mut series = Vec::new();
    encode_series(&[(1, &Labels::from_pairs(&[("a", "b")]))], &mut series);
    wal.log(&[
        (record::KIND_SERIES, &series),
        (record::KIND_SAMPLES, &samples_payload(1, 3)),
    ])
    .unwrap();
    wal.log(&[(record::KIND_SAMPLES, &samples_payload(1, 5))])
        .unwrap();
}

#[test]
fn records_come_back_in_order_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_bytes: 40,
        ..Default::default()
    };
    write_three(dir.path(), opts.clone());
    write_three(dir.path(), opts.clone());
    let (got, stats) = replay(dir.path(), opts).unwrap();
    assert_eq!(got.len(), 6);
    assert!(stats.segments >= 3, "{stats:?}");
    assert_eq!(stats.torn_bytes, 0);
    assert!(matches!(&got[5], Record::Samples(s) if s.len() == 5));
}

#[test]
fn a_torn_last_record_is_truncated_at_every_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    write_three(dir.path(), WalOptions::default());
    let seg = segment_path(dir.path(), 0);
    let whole = fs::read(&seg).unwrap();
    let last_len = HEADER + samples_payload(1, 5).len();
    let last_start = whole.len() - last_len;
    for cut in last_start..whole.len() {
        fs::write(&seg, &whole[..cut]).unwrap();
        let (got, stats) = replay(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(got.len(), 2, "cut at {cut}");
        assert_eq!(stats.torn_bytes, (cut - last_start) as u64);
        assert_eq!(fs::metadata(&seg).unwrap().len(), last_start as u64);
        // The log goes on after the truncation.
        let (mut wal, _) = Wal::open(dir.path(), WalOptions::default(), |_| Ok(())).unwrap();
        wal.log(&[(record::KIND_SAMPLES, &samples_payload(1, 2))])
            .unwrap();
        drop(wal);
        let (got, stats) = replay(dir.path(), WalOptions::default()).unwrap();
        assert_eq!((got.len(), stats.torn_bytes), (3, 0));
    }
}

#[test]
fn a_zero_filled_tail_is_torn_but_corruption_inside_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_three(dir.path(), WalOptions::default());
    let seg = segment_path(dir.path(), 0);
    let whole = fs::read(&seg).unwrap();
    let mut zeros = whole.clone();
    zeros.extend_from_slice(&[0; 4096]);
    fs::write(&seg, &zeros).unwrap();
    let (got, stats) = replay(dir.path(), WalOptions::default()).unwrap();
    assert_eq!((got.len(), stats.torn_bytes), (3, 4096));

    let mut flipped = whole.clone();
    flipped[HEADER + 1] ^= 0x40; // inside the first record's payload
    fs::write(&seg, &flipped).unwrap();
    let err = replay(dir.path(), WalOptions::default()).unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt(ref m) if m.contains("CRC")),
        "{err}"
    );
    assert_eq!(fs::read(&seg).unwrap(), flipped, "nothing truncated");
}

#[test]
fn a_short_record_in_a_closed_segment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_bytes: 40,
        ..Default::default()
    };
    write_three(dir.path(), opts.clone());
    let seg = segment_path(dir.path(), 0);
    let whole = fs::read(&seg).unwrap();
    fs::write(&seg, &whole[..whole.len() - 1]).unwrap();
    assert!(matches!(
        replay(dir.path(), opts),
        Err(StorageError::Corrupt(_))
    ));
}

#[test]
fn an_oversized_record_is_refused_at_append() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        max_record_bytes: 10,
        ..Default::default()
    };
    let (mut wal, _) = Wal::open(dir.path(), opts, |_| Ok(())).unwrap();
    let big = samples_payload(1, 10);
    assert!(matches!(
        wal.log(&[(record::KIND_SAMPLES, &big)]),
        Err(StorageError::Limit(_))
    ));
    assert_eq!(wal.disk_bytes().unwrap(), 0);
}

/// Replay reads a segment a window at a time: records larger than the window and
/// records across its edges come back whole, and a tail of zeros longer than the window
/// with one stray byte far past it is still corruption, not a torn tail.
#[test]
fn records_across_the_read_window_and_a_long_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), WalOptions::default(), |_| Ok(())).unwrap();
    let sizes = [100_000, 200_000, 10, 70_000, 150_000, 3, 90_000];
    for n in sizes {
        wal.log(&[(record::KIND_SAMPLES, &samples_payload(1, n))])
            .unwrap();
    }
    drop(wal);
    let seg = segment_path(dir.path(), 0);
    let whole = fs::read(&seg).unwrap();
    assert!(
        whole.len() > 3 * (1 << 20),
        "spans several windows: {}",
        whole.len()
    );
    let (got, stats) = replay(dir.path(), WalOptions::default()).unwrap();
    let lens: Vec<usize> = got
        .iter()
        .map(|r| match r {
            Record::Samples(s) => s.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lens, sizes.map(|n| n as usize));
    assert_eq!(stats.torn_bytes, 0);

    let mut tail = whole.clone();
    tail.extend(std::iter::repeat_n(0u8, 3 << 20));
    tail.push(1);
    tail.extend_from_slice(&[0; 100]);
    fs::write(&seg, &tail).unwrap();
    let err = replay(dir.path(), WalOptions::default()).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt(_)), "{err}");
    tail.truncate(tail.len() - 101);
    fs::write(&seg, &tail).unwrap();
    let (got, stats) = replay(dir.path(), WalOptions::default()).unwrap();
    assert_eq!((got.len(), stats.torn_bytes), (sizes.len(), 3 << 20));
}
