//! The store against `MemStore`, the reference: the same random batches (out of order,
//! duplicates, NaNs, stale markers) go to both; every outcome and every query must agree,
//! before and after a reopen that replays the WAL.

use super::*;
use crate::aggregator::model::{stale_nan, MemStore, Querier, Series};
use promql_parser::label::Matcher;
use promql_parser::parser::token::{T_EQL, T_EQL_REGEX, T_NEQ, T_NEQ_REGEX};

pub(super) struct Rng(pub(super) u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(super) fn label_sets() -> Vec<Labels> {
    let mut out = Vec::new();
    for name in ["up", "node_cpu_seconds_total", "mem"] {
        for job in ["a", "b", "c"] {
            for inst in 0..4 {
                let inst = inst.to_string();
                let mut pairs = vec![
                    ("__name__", name),
                    ("job", job),
                    ("instance", inst.as_str()),
                ];
                if inst == "3" {
                    pairs.push(("mode", "idle"));
                }
                out.push(Labels::from_pairs(&pairs));
            }
        }
    }
    out.push(Labels::from_pairs(&[("job", "nameless")]));
    out
}

fn value(rng: &mut Rng) -> f64 {
    match rng.below(20) {
        0 => stale_nan(),
        1 => f64::NAN,
        2 => -0.0,
        3 => f64::INFINITY,
        _ => rng.below(1000) as f64 / 4.0,
    }
}

/// Batches over `sets`: mostly in order at ~15 s, with repeats, older and equal times.
pub(super) fn batches(rng: &mut Rng, sets: &[Labels], n: usize) -> Vec<Vec<(Labels, Vec<Sample>)>> {
    let mut clock = vec![1_000_000i64; sets.len()];
    (0..n)
        .map(|_| {
            (0..1 + rng.below(6))
                .map(|_| {
                    let i = rng.below(sets.len() as u64) as usize;
                    let samples = (0..rng.below(4))
                        .map(|_| {
                            clock[i] += match rng.below(10) {
                                0 => -(rng.below(40_000) as i64),
                                1 => 0,
                                2 => 7_300_000, // past a chunk window
                                _ => 15_000,
                            };
                            Sample {
                                t: clock[i],
                                v: value(rng),
                            }
                        })
                        .collect();
                    (sets[i].clone(), samples)
                })
                .collect()
        })
        .collect()
}

fn m(op: u16, n: &str, v: &str) -> Matcher {
    Matcher::new_matcher(op, n.into(), v.into()).unwrap()
}

fn selectors() -> Vec<Vec<Matcher>> {
    vec![
        vec![],
        vec![m(T_EQL, "__name__", "up")],
        vec![m(T_EQL, "__name__", "up"), m(T_EQL, "job", "b")],
        vec![m(T_EQL_REGEX, "job", "a|c"), m(T_NEQ, "instance", "2")],
        vec![m(T_NEQ_REGEX, "__name__", "up|mem")],
        vec![m(T_EQL, "mode", "")],
        vec![m(T_NEQ, "mode", "")],
        vec![m(T_EQL, "job", "nameless")],
        vec![m(T_EQL, "job", "absent")],
        vec![m(T_EQL_REGEX, "instance", ".*")],
    ]
}

type Bits = Vec<(Labels, Vec<(i64, u64)>)>;

fn bits(series: Vec<Series>) -> Bits {
    series
        .into_iter()
        .map(|s| {
            (
                s.labels,
                s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
            )
        })
        .collect()
}

pub(super) fn assert_same(tsdb: &Tsdb, mem: &MemStore, ranges: &[(i64, i64)]) {
    for ms in selectors() {
        for &(lo, hi) in ranges {
            let want = bits(mem.select(&ms, lo, hi).unwrap());
            assert_eq!(
                bits(tsdb.select(&ms, lo, hi).unwrap()),
                want,
                "{ms:?} {lo}..{hi}"
            );
            assert_eq!(
                tsdb.label_names(&ms, lo, hi).unwrap(),
                mem.label_names(&ms, lo, hi).unwrap()
            );
            for name in ["job", "instance", "mode", "__name__"] {
                let want = mem.label_values(name, &ms, lo, hi).unwrap();
                assert_eq!(
                    tsdb.label_values(name, &ms, lo, hi).unwrap(),
                    want,
                    "{name} {ms:?}"
                );
            }
        }
    }
}

#[test]
fn the_store_answers_as_memstore_does_before_and_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mem, sets) = (MemStore::new(), label_sets());
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    for batch in batches(&mut rng, &sets, 600) {
        assert_eq!(tsdb.append(&batch).unwrap(), mem.append(&batch).unwrap());
    }
    let all = mem.select(&[], i64::MIN, i64::MAX).unwrap();
    let last = all
        .iter()
        .flat_map(|s| s.samples.last())
        .map(|s| s.t)
        .max()
        .unwrap();
    let ranges = [
        (i64::MIN, i64::MAX),
        (1_000_000, 1_500_000),
        (last - 400_000, last),
        (last + 1, i64::MAX),
    ];
    assert_same(&tsdb, &mem, &ranges);
    let before = tsdb.head_stats();
    assert!(before.chunks > before.series, "chunks cut: {before:?}");
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    assert_eq!(tsdb.head_stats(), before);
    assert_eq!(tsdb.open_stats().skipped_samples, 0);
    assert_same(&tsdb, &mem, &ranges);
    // Appends go on after a replay.
    for batch in batches(&mut Rng(7), &sets, 50) {
        assert_eq!(tsdb.append(&batch).unwrap(), mem.append(&batch).unwrap());
    }
    assert_same(&tsdb, &mem, &ranges);
}

#[test]
fn chunks_are_cut_at_120_samples_and_at_the_window_end() {
    let dir = tempfile::tempdir().unwrap();
    let tsdb = Tsdb::open(dir.path(), TsdbOptions::default()).unwrap();
    let labels = Labels::from_pairs(&[("__name__", "x")]);
    let samples: Vec<Sample> = (0..250)
        .map(|i| Sample {
            t: i * 1000,
            v: i as f64,
        })
        .collect();
    tsdb.append(&[(labels.clone(), samples)]).unwrap();
    assert_eq!(tsdb.head_stats().chunks, 3); // 120 + 120 + 10
    let window = TsdbOptions::default().chunk_range_ms;
    tsdb.append(&[(labels, vec![Sample { t: window, v: 1.0 }])])
        .unwrap();
    let st = tsdb.head_stats();
    assert_eq!((st.chunks, st.samples), (4, 251));
}

#[test]
fn an_interval_policy_store_replays_what_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        wal: WalOptions {
            sync: SyncPolicy::Interval(std::time::Duration::from_millis(5)),
            ..Default::default()
        },
        ..Default::default()
    };
    let tsdb = Tsdb::open(dir.path(), opts.clone()).unwrap();
    let labels = Labels::from_pairs(&[("__name__", "x")]);
    for t in 0..100 {
        tsdb.append(&[(labels.clone(), vec![Sample { t, v: 1.0 }])])
            .unwrap();
    }
    drop(tsdb);
    let tsdb = Tsdb::open(dir.path(), opts).unwrap();
    assert_eq!(tsdb.select(&[], 0, 99).unwrap()[0].samples.len(), 100);
}
