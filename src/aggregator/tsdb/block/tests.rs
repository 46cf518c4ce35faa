//! Blocks on disk: a round trip through the files, and damage (flipped bits, truncated
//! files) refused with the damaged file named.

use super::*;
use std::sync::Arc;

fn labels(i: usize) -> Labels {
    let job = if i % 2 == 0 { "a" } else { "b" };
    Labels::from_pairs(&[("__name__", "up"), ("job", job), ("i", &i.to_string())])
}

/// Four series, two chunks each, written as a block of `0..7200000`.
fn written(dir: &Path) -> PathBuf {
    let mut series = Vec::new();
    for i in 0..4 {
        let mut chunks = Vec::new();
        for c in 0..2i64 {
            let mut enc = crate::aggregator::tsdb::chunk::XorEncoder::default();
            for k in 0..120 {
                enc.append(c * 1_800_000 + k * 15_000, (i as i64 * 1000 + k) as f64);
            }
            let max = c * 1_800_000 + 119 * 15_000;
            chunks.push((c * 1_800_000, max, enc.into_bytes()));
        }
        series.push((Arc::new(labels(i)), chunks));
    }
    write(dir, 0, 7_200_000, &series).unwrap()
}

fn m(n: &str, v: &str) -> Matcher {
    use promql_parser::parser::token::T_EQL;
    Matcher::new_matcher(T_EQL, n.into(), v.into()).unwrap()
}

#[test]
fn a_written_block_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let b = Block::open(&written(dir.path())).unwrap();
    assert_eq!(b.meta.stats.num_series, 4);
    assert_eq!(
        (b.meta.stats.num_chunks, b.meta.stats.num_samples),
        (8, 960)
    );
    assert_eq!(b.meta.ulid.len(), 26);
    let all = b.select(&[], i64::MIN, i64::MAX).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].samples.len(), 240);
    let b_jobs = b
        .select(&[m("job", "b")], 1_800_000, 1_800_000 + 30_000)
        .unwrap();
    let got: Vec<_> = b_jobs
        .iter()
        .map(|s| (s.labels.get("i"), s.samples.len()))
        .collect();
    assert_eq!(got, vec![(Some("1"), 3), (Some("3"), 3)]);
    // Between two chunks of a series: no sample, no label set.
    assert!(b.label_sets(&[], 1_785_001, 1_799_999).unwrap().is_empty());
    assert_eq!(b.label_sets(&[m("i", "2")], 0, 0).unwrap(), vec![labels(2)]);
}

fn flip(path: &Path, at: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = at as usize % bytes.len();
    bytes[at] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_damaged_index_or_truncated_chunks_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let block = written(dir.path());
    let index = block.join("index");
    let len = std::fs::metadata(&index).unwrap().len();
    for at in [0, 9, len / 2, len - 5, len - 1] {
        let good = std::fs::read(&index).unwrap();
        flip(&index, at);
        let e = Block::open(&block).unwrap_err().to_string();
        assert!(e.contains("index"), "{at}: {e}");
        std::fs::write(&index, good).unwrap();
    }
    let chunks = block.join("chunks");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&chunks)
        .unwrap();
    f.set_len(f.metadata().unwrap().len() - 1).unwrap();
    let e = Block::open(&block).unwrap_err().to_string();
    assert!(e.contains("chunks"), "{e}");
    std::fs::write(block.join("meta.json"), b"{").unwrap();
    assert!(Block::open(&block)
        .unwrap_err()
        .to_string()
        .contains("meta.json"));
}

#[test]
fn a_flipped_chunk_bit_fails_the_query_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let block = written(dir.path());
    flip(&block.join("chunks"), 40);
    let b = Block::open(&block).unwrap();
    let e = b.select(&[], i64::MIN, i64::MAX).unwrap_err().to_string();
    assert!(e.contains("chunks") && e.contains("CRC"), "{e}");
}

#[test]
fn garbage_indexes_are_errors_not_panics() {
    let mut bytes = b"NPI1".to_vec();
    bytes.extend_from_slice(&[0xff; 40]);
    for cut in 0..bytes.len() {
        assert!(index::decode(&bytes[..cut], 0).is_err());
    }
    // A valid CRC over nonsense offsets and counts.
    let mut body = b"NPI1".to_vec();
    body.extend_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
    for x in [4u64, 4, u64::MAX, 0] {
        body.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert!(index::decode(&body, 0).is_err());
}

#[test]
fn a_block_shares_equal_label_sets_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = Block::open(&written(dir.path())).unwrap();
    let before = b.select(&[], i64::MIN, i64::MAX).unwrap();
    // Sorted as the block's series: an extra set before, between and after; 1 and 3 absent.
    let mut theirs = vec![
        labels(0),
        labels(2),
        Labels::from_pairs(&[("__name__", "aaa")]),
        Labels::from_pairs(&[("__name__", "up"), ("job", "a"), ("i", "10")]),
        Labels::from_pairs(&[("__name__", "zzz")]),
    ];
    theirs.sort();
    assert_eq!(b.share_labels(&theirs), 2);
    for s in &b.series {
        let found = theirs.iter().find(|l| **l == s.labels);
        assert_eq!(
            found.map(Labels::id),
            found.map(|_| s.labels.id()),
            "{:?}",
            s.labels
        );
    }
    let shared = b
        .series
        .iter()
        .filter(|s| theirs.iter().any(|l| l.id() == s.labels.id()));
    assert_eq!(shared.count(), 2);
    assert_eq!(b.select(&[], i64::MIN, i64::MAX).unwrap(), before);
}
