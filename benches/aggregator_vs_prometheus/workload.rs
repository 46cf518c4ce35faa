//! The workload both servers ingest: nodes of a cluster, each scraped every 15 s as
//! Prometheus scrapes node_exporter and the kubelet's cAdvisor — CPU counters with
//! fractional increments, memory and filesystem gauges in whole pages, network byte
//! counters, constants (`up`, sizes), cAdvisor container series with long labels, and
//! classic histograms (`le` buckets, `_sum`, `_count`). Each node's scrapes carry its own
//! offset in the interval and a few ms of jitter. Seeded: every run sends the same data.

use super::cluster::{LES, SERIES_PER_NODE};
use crate::common::rng::Rng;
use nodepulse::aggregator::model::{Labels, Sample};

pub const STEP_MS: i64 = 15_000;

/// How a run of consecutive series moves from one scrape to the next.
pub(crate) enum Shape {
    /// Grows by about `per_s` a second; whole numbers when `whole`.
    Counter {
        per_s: f64,
        whole: bool,
    },
    /// Wanders by up to `spread` quanta.
    Gauge {
        quantum: f64,
        spread: u64,
    },
    Constant,
    /// `LES.len()` cumulative buckets, then `_sum` and `_count`.
    Histogram {
        per_s: u64,
    },
}

struct Family {
    shape: Shape,
    first: usize,
}

/// Every series of the cluster and its current value.
pub struct Workload {
    pub labels: Vec<Labels>,
    values: Vec<f64>,
    families: Vec<Family>,
    /// The node of each family (for its scrape offset).
    family_node: Vec<usize>,
    node_offset: Vec<i64>,
    rng: Rng,
}

impl Workload {
    /// About `series` series (whole nodes, at least one).
    pub fn new(series: usize) -> Workload {
        let nodes = (series as f64 / SERIES_PER_NODE as f64).round().max(1.0) as usize;
        let mut w = Workload {
            labels: Vec::new(),
            values: Vec::new(),
            families: Vec::new(),
            family_node: Vec::new(),
            node_offset: Vec::new(),
            rng: Rng::new(0x5eed_0b5b),
        };
        for n in 0..nodes {
            let offset = w.rng.below(STEP_MS as u64) as i64;
            w.node_offset.push(offset);
            w.node(n);
        }
        w
    }

    /// Samples in each series per scrape round.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub(crate) fn push(&mut self, shape: Shape, n: usize, series: Vec<Labels>) {
        let first = self.labels.len();
        for l in series {
            let v = match shape {
                Shape::Counter { .. } => self.rng.range(0, 1_000_000) as f64 / 8.0,
                Shape::Gauge { quantum, .. } => self.rng.range(100_000, 4_000_000) as f64 * quantum,
                Shape::Constant => self.rng.range(1, 64) as f64 * 1_073_741_824.0,
                Shape::Histogram { .. } => 0.0,
            };
            self.labels.push(l);
            self.values.push(v);
        }
        self.families.push(Family { shape, first });
        self.family_node.push(n);
    }

    /// One scrape round at `base` (ms): every series' next sample, in `labels` order.
    pub fn scrape(&mut self, base: i64, out: &mut [Vec<Sample>]) {
        for f in 0..self.families.len() {
            let node = self.family_node[f];
            let t = base + self.node_offset[node] + self.rng.below(4) as i64;
            let end = self.families.get(f + 1).map_or(self.len(), |x| x.first);
            let first = self.families[f].first;
            self.advance(f, first..end);
            for (series, &v) in out[first..end].iter_mut().zip(&self.values[first..end]) {
                series.push(Sample { t, v });
            }
        }
    }

    fn advance(&mut self, f: usize, range: std::ops::Range<usize>) {
        let rng = &mut self.rng;
        let values = &mut self.values[range];
        match self.families[f].shape {
            Shape::Counter { per_s, whole } => {
                for v in values {
                    let inc = per_s * 15.0 * rng.range(50, 150) as f64 / 100.0;
                    *v += if whole {
                        inc.round()
                    } else {
                        inc + 1e-6 * rng.below(1000) as f64
                    };
                }
            }
            Shape::Gauge { quantum, spread } => {
                for v in values {
                    let d = rng.range(0, 2 * spread) as f64 - spread as f64;
                    *v = (*v + d * quantum).max(0.0);
                }
            }
            Shape::Constant => {}
            Shape::Histogram { per_s } => histogram(rng, values, per_s),
        }
    }
}

/// New observations into cumulative buckets, `_sum` and `_count`.
fn histogram(rng: &mut Rng, values: &mut [f64], per_s: u64) {
    for _ in 0..rng.range(0, per_s * 30) {
        let obs = (rng.range(1, 3000) as f64 / 1000.0).powi(3);
        for (b, le) in LES.iter().enumerate() {
            if obs <= *le {
                values[b] += 1.0;
            }
        }
        values[LES.len()] += obs;
        values[LES.len() + 1] += 1.0;
    }
}
