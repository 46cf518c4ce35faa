//! Label filters as Loki 3 runs them (grafana/loki v3 `pkg/logql/log/label_filter.go`):
//! string matchers compare the label's value ("" when absent); numeric, duration and
//! byte filters drop a line without the label — also one that already failed a stage
//! (Loki 2 let those through) — and keep a line whose value does not convert, marked
//! `__error__="LabelFilterErr"` unless an earlier stage's error is already there.

use super::labels::LabelSet;
use crate::aggregator::logql::ast::LabelFilter;
use crate::aggregator::logql::units;

/// Loki's error for a label value that does not convert.
pub const LABEL_FILTER_ERR: &str = "LabelFilterErr";

/// Whether the line whose labels are `labels` passes `f` (may set `__error__`).
pub fn keep(f: &LabelFilter, labels: &mut LabelSet) -> bool {
    match f {
        LabelFilter::And(l, r) => keep(l, labels) && keep(r, labels),
        LabelFilter::Or(l, r) => keep(l, labels) || keep(r, labels),
        LabelFilter::Str(m) => m.is_match(labels.get(&m.name).unwrap_or("")),
        LabelFilter::Number { name, op, value } => numeric(
            labels,
            name,
            |v| v.trim().parse::<f64>().ok(),
            "float",
            |x| op.holds(x, *value),
        ),
        LabelFilter::Duration { name, op, value } => {
            numeric(labels, name, units::go_duration_secs, "duration", |x| {
                op.holds(x, *value)
            })
        }
        LabelFilter::Bytes { name, op, value } => {
            numeric(labels, name, units::bytes, "bytes", |x| op.holds(x, *value))
        }
    }
}

fn numeric(
    labels: &mut LabelSet,
    name: &str,
    convert: impl Fn(&str) -> Option<f64>,
    kind: &str,
    test: impl Fn(f64) -> bool,
) -> bool {
    let Some(raw) = labels.get(name) else {
        return false;
    };
    match convert(raw) {
        Some(x) => test(x),
        None => {
            let details = format!("cannot convert {raw:?} to {kind}");
            labels.set_error(LABEL_FILTER_ERR, &details);
            true
        }
    }
}
