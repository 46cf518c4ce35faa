//! The data set both servers ingest: a realistic mix over the last ~50 minutes at a 15 s
//! scrape interval — counters with a reset, gauges, classic histograms with `le`
//! buckets, two jobs with several instances, a series that stops with a stale marker
//! and one that just stops, a gauge that goes NaN once. Seeded, so runs repeat.

use crate::common::rng::Rng;
use nodepulse::aggregator::model::{stale_nan, Labels, Sample};

pub const STEP_MS: i64 = 15_000;
/// Samples per series: 50 minutes (Prometheus refuses samples more than an hour older
/// than its head's newest, so the span stays under that).
pub const POINTS: i64 = 200;

/// The sample index at which the `temperature_celsius` series stop (the "gone" one with
/// a stale marker at this index, the "quiet" one without).
pub const STOP: i64 = POINTS * 2 / 3;

pub type Batch = Vec<(Labels, Vec<Sample>)>;

const TARGETS: [(&str, &str); 5] = [
    ("api", "10.0.0.1:9100"),
    ("api", "10.0.0.2:9100"),
    ("api", "10.0.0.3:9100"),
    ("web", "10.0.1.1:9100"),
    ("web", "10.0.1.2:9100"),
];
const BUCKETS: [&str; 5] = ["0.05", "0.1", "0.5", "1", "+Inf"];

fn labels(name: &str, job: &str, instance: &str, extra: &[(&str, &str)]) -> Labels {
    let mut pairs = vec![("__name__", name), ("job", job), ("instance", instance)];
    pairs.extend_from_slice(extra);
    Labels::from_pairs(&pairs)
}

fn times(start: i64) -> impl Iterator<Item = i64> {
    (0..POINTS).map(move |i| start + i * STEP_MS)
}

/// Every series, samples in time order, starting at `start` (ms).
pub fn generate(start: i64) -> Batch {
    let mut rng = Rng::new(0x5eed_0005);
    let mut out = Batch::new();
    for (i, (job, instance)) in TARGETS.into_iter().enumerate() {
        for (method, code) in [("GET", "200"), ("GET", "500"), ("POST", "200")] {
            let l = labels(
                "http_requests_total",
                job,
                instance,
                &[("method", method), ("code", code)],
            );
            // One counter resets half-way, as a restarted process does.
            let reset = (i == 1 && method == "POST").then_some(POINTS / 2);
            out.push((l, counter(&mut rng, start, reset)));
        }
        out.push((
            labels("node_memory_free_bytes", job, instance, &[]),
            gauge(&mut rng, start),
        ));
        out.push((
            labels("up", job, instance, &[]),
            times(start).map(|t| Sample { t, v: 1.0 }).collect(),
        ));
        out.extend(histogram(&mut rng, job, instance, start));
    }
    out.extend(odd_series(&mut rng, start));
    out
}

fn counter(rng: &mut Rng, start: i64, reset_at: Option<i64>) -> Vec<Sample> {
    let mut v = rng.range(0, 1000) as f64;
    times(start)
        .enumerate()
        .map(|(i, t)| {
            v = if reset_at == Some(i as i64) {
                3.0
            } else {
                v + rng.range(0, 40) as f64
            };
            Sample { t, v }
        })
        .collect()
}

fn gauge(rng: &mut Rng, start: i64) -> Vec<Sample> {
    let mut v = 4.0e9 + rng.range(0, 1_000_000) as f64;
    times(start)
        .map(|t| {
            v += rng.range(0, 2_000_000) as f64 - 1_000_000.0 + 0.25;
            Sample { t, v }
        })
        .collect()
}

fn histogram(rng: &mut Rng, job: &str, instance: &str, start: i64) -> Batch {
    let mut counts = [0.0; 5];
    let mut sum = 0.0;
    let mut series: Vec<Vec<Sample>> = vec![Vec::new(); 7];
    for t in times(start) {
        for _ in 0..rng.range(0, 20) {
            let obs = rng.range(1, 1500) as f64 / 1000.0;
            sum += obs;
            for (b, le) in BUCKETS.iter().enumerate() {
                if *le == "+Inf" || obs <= le.parse::<f64>().unwrap() {
                    counts[b] += 1.0;
                }
            }
        }
        for (b, c) in counts.iter().enumerate() {
            series[b].push(Sample { t, v: *c });
        }
        series[5].push(Sample { t, v: sum });
        series[6].push(Sample { t, v: counts[4] });
    }
    let name = "request_duration_seconds";
    let mut out = Batch::new();
    for (b, le) in BUCKETS.iter().enumerate() {
        let l = labels(&format!("{name}_bucket"), job, instance, &[("le", le)]);
        out.push((l, std::mem::take(&mut series[b])));
    }
    out.push((
        labels(&format!("{name}_sum"), job, instance, &[]),
        std::mem::take(&mut series[5]),
    ));
    out.push((
        labels(&format!("{name}_count"), job, instance, &[]),
        std::mem::take(&mut series[6]),
    ));
    out
}

/// A series that stops two thirds in with a stale marker, one that stops without, and
/// a gauge with a NaN sample.
fn odd_series(rng: &mut Rng, start: i64) -> Batch {
    let stop = STOP;
    let mut marked: Vec<Sample> = times(start)
        .take(stop as usize)
        .map(|t| Sample {
            t,
            v: 20.0 + rng.range(0, 100) as f64 / 10.0,
        })
        .collect();
    marked.push(Sample {
        t: start + stop * STEP_MS,
        v: stale_nan(),
    });
    let unmarked = times(start)
        .take(stop as usize)
        .map(|t| Sample {
            t,
            v: rng.range(0, 9) as f64,
        })
        .collect();
    let with_nan = times(start)
        .enumerate()
        .map(|(i, t)| Sample {
            t,
            v: if i == 100 { f64::NAN } else { i as f64 * 0.5 },
        })
        .collect();
    vec![
        (
            labels(
                "temperature_celsius",
                "web",
                "10.0.1.1:9100",
                &[("sensor", "gone")],
            ),
            marked,
        ),
        (
            labels(
                "temperature_celsius",
                "web",
                "10.0.1.2:9100",
                &[("sensor", "quiet")],
            ),
            unmarked,
        ),
        (labels("queue_depth", "api", "10.0.0.1:9100", &[]), with_nan),
    ]
}
