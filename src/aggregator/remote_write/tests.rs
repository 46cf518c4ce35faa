use super::*;
use crate::aggregator::model::{is_stale, stale_nan};

fn body(req: &WriteRequest) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap()
}

fn series_of(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| ProtoLabel {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(t, v)| ProtoSample {
                value: v,
                timestamp: t,
            })
            .collect(),
    }
}

#[test]
fn round_trips_a_batch_with_stale_markers() {
    let batch = vec![
        (
            Labels::from_pairs(&[("__name__", "up"), ("job", "a")]),
            vec![
                Sample { t: 1, v: 1.0 },
                Sample {
                    t: 2,
                    v: stale_nan(),
                },
            ],
        ),
        (
            Labels::from_pairs(&[("__name__", "x:y"), ("le", "+Inf")]),
            vec![Sample {
                t: -5,
                v: f64::INFINITY,
            }],
        ),
    ];
    let got = decode(&encode(&batch), &Limits::default()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, batch[0].0);
    assert!(is_stale(got[0].1[1].v));
    assert_eq!(got[1], batch[1]);
}

#[test]
fn labels_come_out_sorted_without_empty_values() {
    let req = WriteRequest {
        timeseries: vec![series_of(
            &[("z", "1"), ("__name__", "m"), ("empty", "")],
            &[(10, 2.5)],
        )],
    };
    let got = decode(&body(&req), &Limits::default()).unwrap();
    assert_eq!(
        got[0].0,
        Labels::from_pairs(&[("__name__", "m"), ("z", "1")])
    );
}

#[test]
fn refuses_bad_snappy() {
    let err = decode(b"\xff\xff\xff\xff\xff\xff not snappy", &Limits::default()).unwrap_err();
    assert!(matches!(err, WriteError::Snappy(_)), "{err:?}");
    let err = decode(b"", &Limits::default()).unwrap_err();
    assert!(matches!(err, WriteError::Snappy(_)), "{err:?}");
}

#[test]
fn refuses_a_header_claiming_4_gib_before_decompressing() {
    // The varint length header of 4 GiB - 1, then a few bytes of nothing.
    let mut b = vec![0xff, 0xff, 0xff, 0xff, 0x0f];
    b.extend_from_slice(&[0; 8]);
    let err = decode(&b, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        WriteError::TooLarge {
            size: 0xffff_ffff,
            limit: 128 << 20
        }
    );
}

#[test]
fn refuses_truncated_protobuf() {
    let req = WriteRequest {
        timeseries: vec![series_of(&[("__name__", "m")], &[(1, 1.0), (2, 2.0)])],
    };
    let raw = req.encode_to_vec();
    let cut = snap::raw::Encoder::new()
        .compress_vec(&raw[..raw.len() - 3])
        .unwrap();
    let err = decode(&cut, &Limits::default()).unwrap_err();
    assert!(matches!(err, WriteError::Protobuf(_)), "{err:?}");
}

#[test]
fn refuses_invalid_labels() {
    let cases: &[&[(&str, &str)]] = &[
        &[("__name__", "m"), ("bad-name", "1")],
        &[("__name__", "0m")],
        &[("__name__", "m"), ("a", "1"), ("a", "2")],
        &[("1a", "x")],
        &[],
        &[("a", "")],
    ];
    for labels in cases {
        let req = WriteRequest {
            timeseries: vec![series_of(labels, &[(1, 1.0)])],
        };
        let err = decode(&body(&req), &Limits::default()).unwrap_err();
        assert!(matches!(err, WriteError::Labels(_)), "{labels:?}: {err:?}");
    }
}

#[test]
fn enforces_series_and_label_limits() {
    let limits = Limits {
        max_series: 1,
        max_labels_per_series: 2,
        ..Limits::default()
    };
    let two = WriteRequest {
        timeseries: vec![
            series_of(&[("__name__", "a")], &[]),
            series_of(&[("__name__", "b")], &[]),
        ],
    };
    let err = decode(&body(&two), &limits).unwrap_err();
    assert_eq!(err, WriteError::TooManySeries { count: 2, limit: 1 });
    let wide = WriteRequest {
        timeseries: vec![series_of(&[("__name__", "a"), ("b", "1"), ("c", "2")], &[])],
    };
    assert!(matches!(
        decode(&body(&wide), &limits).unwrap_err(),
        WriteError::Labels(_)
    ));
}

#[test]
fn ignores_metadata_and_unknown_fields() {
    // Field 3 (metadata) of WriteRequest: a length-delimited message prost skips.
    let mut raw = WriteRequest {
        timeseries: vec![series_of(&[("__name__", "m")], &[(7, 3.0)])],
    }
    .encode_to_vec();
    raw.extend_from_slice(&[0x1a, 0x02, 0x08, 0x01]);
    let b = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    let got = decode(&b, &Limits::default()).unwrap();
    assert_eq!(got[0].1, vec![Sample { t: 7, v: 3.0 }]);
}
