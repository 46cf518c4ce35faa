use super::*;
use crate::aggregator::model::{stale_nan, STALE_NAN_BITS};
use proptest::prelude::*;

fn encode(samples: &[(i64, u64)]) -> Vec<u8> {
    let mut enc = XorEncoder::default();
    for &(t, bits) in samples {
        assert!(enc.append(t, f64::from_bits(bits)));
    }
    enc.into_bytes()
}

fn decode(bytes: &[u8]) -> Vec<(i64, u64)> {
    XorIter::new(bytes)
        .unwrap()
        .map(|s| s.map(|s| (s.t, s.v.to_bits())).unwrap())
        .collect()
}

/// Values as a node exporter's series and the odd ones: NaNs, the stale marker, ±Inf,
/// ±0, the extremes, random bit patterns.
fn value_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(STALE_NAN_BITS),
        Just(f64::NAN.to_bits()),
        Just(f64::INFINITY.to_bits()),
        Just(f64::NEG_INFINITY.to_bits()),
        Just((-0.0f64).to_bits()),
        Just(0.0f64.to_bits()),
        Just(f64::MAX.to_bits()),
        Just(f64::MIN_POSITIVE.to_bits()),
        (0u32..1_000_000).prop_map(|n| (n as f64).to_bits()),
        (-1e6f64..1e6).prop_map(f64::to_bits),
        any::<u64>(),
    ]
}

/// Timestamp steps: regular scrapes, jitter, each dod bucket's edges, huge and negative.
fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(15_000i64),
        14_000i64..16_000,
        Just(0),
        Just(8192),
        Just(-8191),
        Just(65_536),
        Just(524_288),
        Just(-524_289),
        -1_000_000_000i64..1_000_000_000,
        any::<i64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_series_round_trip_bit_exactly(
        start in any::<i64>(),
        points in prop::collection::vec((step(), value_bits()), 0..300),
    ) {
        let mut t = start;
        let samples: Vec<(i64, u64)> = points
            .into_iter()
            .map(|(d, v)| { t = t.wrapping_add(d); (t, v) })
            .collect();
        let bytes = encode(&samples);
        prop_assert_eq!(decode(&bytes), samples);
    }

    #[test]
    fn garbage_and_truncated_chunks_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(it) = XorIter::new(&bytes) {
            let _ = it.count();
        }
    }
}

#[test]
fn every_prefix_of_a_chunk_decodes_a_prefix_or_fails() {
    let samples: Vec<(i64, u64)> = (0..120)
        .map(|i| {
            (
                1_700_000_000_000 + i * 15_000 + (i % 7),
                (i as f64 * 1.5).to_bits(),
            )
        })
        .collect();
    let bytes = encode(&samples);
    for cut in 0..bytes.len() {
        let Ok(it) = XorIter::new(&bytes[..cut]) else {
            assert!(cut < 2);
            continue;
        };
        let decoded: Vec<_> = it.take_while(Result::is_ok).map(Result::unwrap).collect();
        assert!(decoded.len() < samples.len(), "cut at {cut}");
        for (d, s) in decoded.iter().zip(&samples) {
            assert_eq!((d.t, d.v.to_bits()), *s);
        }
    }
}

#[test]
fn the_layout_is_prometheus_s() {
    // Worked by hand from xor.go: count 3; varint(1000) = zig-zag 2000 = d0 0f; 1.0's
    // bits; uvarint(15) = 0f; value unchanged: 0; dod 0: 0; value unchanged: 0.
    let bytes = encode(&[
        (1000, 1f64.to_bits()),
        (1015, 1f64.to_bits()),
        (1030, 1f64.to_bits()),
    ]);
    let mut want = vec![0, 3, 0xd0, 0x0f];
    want.extend_from_slice(&1f64.to_bits().to_be_bytes());
    want.extend_from_slice(&[0x0f, 0b0000_0000]);
    assert_eq!(bytes, want);
}

#[test]
fn seek_finds_the_first_sample_at_or_after() {
    let samples: Vec<(i64, u64)> = (0..50).map(|i| (i * 10, stale_nan().to_bits())).collect();
    let bytes = encode(&samples);
    let mut it = XorIter::new(&bytes).unwrap();
    assert_eq!(it.seek(95).unwrap().map(|s| s.t), Some(100));
    assert_eq!(it.next_sample().unwrap().map(|s| s.t), Some(110));
    assert_eq!(it.seek(10_000).unwrap(), None);
}

#[test]
fn the_count_stops_at_u16_max() {
    let mut enc = XorEncoder::default();
    for i in 0..u16::MAX as i64 {
        assert!(enc.append(i, 0.0));
    }
    assert!(!enc.append(1 << 40, 1.0));
    assert_eq!(
        XorIter::new(enc.bytes()).unwrap().count(),
        u16::MAX as usize
    );
}

#[test]
fn a_byte_aligned_chunk_ends_with_prometheus_s_empty_byte() {
    // One sample: varint and value via writeByte leave an empty byte (found by the
    // promtool oracle in tests/tsdb_chunk_oracle.rs).
    let bytes = encode(&[(0, 0)]);
    assert_eq!(bytes, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(decode(&bytes), [(0, 0)]);
}
