//! `histogram_quantile` over classic buckets (`le` label), as Prometheus 2.42's
//! quantile.go: buckets grouped by their labels without `le` and `__name__`, sorted,
//! equal bounds coalesced, counts forced monotonic, linear interpolation in a bucket.

use super::{drop_name, Elem};
use crate::aggregator::model::Labels;
use std::collections::BTreeMap;

/// One φ-quantile per group of buckets in `v`; elements without a parsable `le` are
/// ignored.
pub(crate) fn histogram_quantile(q: f64, v: &[Elem]) -> Vec<Elem> {
    let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for e in v {
        let Some(le) = e.labels.get("le").and_then(parse_le) else {
            continue;
        };
        let pairs = drop_name(&e.labels)
            .to_pairs()
            .into_iter()
            .filter(|(n, _)| n != "le");
        groups
            .entry(Labels::new(pairs.collect()))
            .or_default()
            .push((le, e.v));
    }
    groups
        .into_iter()
        .map(|(labels, b)| Elem {
            labels,
            v: bucket_quantile(q, b),
        })
        .collect()
}

/// Go's `strconv.ParseFloat` for the forms `le` takes (`+Inf`, `0.5`, `1e3`).
fn parse_le(s: &str) -> Option<f64> {
    s.trim_start_matches('+')
        .parse::<f64>()
        .ok()
        .or(match s.to_ascii_lowercase().as_str() {
            "+inf" | "inf" | "+infinity" | "infinity" => Some(f64::INFINITY),
            "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        })
}

/// The quantile over `(upper bound, cumulative count)` buckets.
fn bucket_quantile(q: f64, mut b: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) {
        return f64::NAN;
    }
    let b = ensure_monotonic(coalesce(b));
    if b.len() < 2 {
        return f64::NAN;
    }
    let total = b[b.len() - 1].1;
    if total == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * total;
    let i = b[..b.len() - 1].partition_point(|x| x.1 < rank);
    if i == b.len() - 1 {
        return b[b.len() - 2].0;
    }
    if i == 0 && b[0].0 <= 0.0 {
        return b[0].0;
    }
    let (mut start, end, mut count) = (0.0, b[i].0, b[i].1);
    if i > 0 {
        start = b[i - 1].0;
        count -= b[i - 1].1;
        rank -= b[i - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same upper bound, adding their counts.
fn coalesce(b: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (le, c) in b {
        match out.last_mut() {
            Some(last) if last.0 == le => last.1 += c,
            _ => out.push((le, c)),
        }
    }
    out
}

/// Raises any count below an earlier bucket's to that count (2.42's ensureMonotonic).
fn ensure_monotonic(mut b: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut max = f64::NEG_INFINITY;
    for x in &mut b {
        if x.1 > max {
            max = x.1;
        } else if x.1 < max {
            x.1 = max;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::bucket_quantile;

    #[test]
    fn interpolates_inside_the_bucket() {
        let b = vec![(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (f64::INFINITY, 40.0)];
        // rank 20 lies halfway through (0.1, 0.5]: 10 of its 20 observations.
        assert!((bucket_quantile(0.5, b.clone()) - 0.3).abs() < 1e-12);
        // rank 40 reaches the last finite bucket: its upper bound.
        assert_eq!(bucket_quantile(1.0, b.clone()), 1.0);
        assert_eq!(bucket_quantile(-1.0, b.clone()), f64::NEG_INFINITY);
        assert!(bucket_quantile(0.5, vec![(1.0, 3.0)]).is_nan());
    }

    #[test]
    fn fixes_non_monotonic_counts_and_duplicate_bounds() {
        let b = vec![(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 10.0), (1.0, 0.0)];
        // Coalesced: (1, 10), (2, 5 -> 10), (+Inf, 10); rank 5 lies in (0, 1].
        assert!((bucket_quantile(0.5, b) - 0.5).abs() < 1e-12);
    }
}
