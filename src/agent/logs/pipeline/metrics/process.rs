//! The processor's families: lines that did not decode, messages cut or flushed
//! incomplete, events made, and the streams it holds state for.

use super::super::process::INCOMPLETE_REASONS;
use crate::agent::logs::decode::DecodeError;
use crate::exposition::MetricFamily;
use std::collections::BTreeMap;

/// What the processor counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProcessStats {
    /// Lines that did not decode, by reason; each was shipped raw with stream "unknown".
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// Messages cut at the message cap (reassembler).
    pub truncated: u64,
    pub events: u64,
    /// Partial messages flushed before their final piece, by reason ("timeout",
    /// "file_end"); each shipped marked `incomplete="true"`.
    pub incomplete: BTreeMap<&'static str, u64>,
    /// Container log streams the processor holds state for now (a gauge): those whose
    /// files the tailer has not let go of for good.
    pub streams: u64,
    /// Messages of pods and containers excluded by annotation: read and acknowledged,
    /// not shipped.
    pub excluded: u64,
}

/// The reason label of a decode error.
pub fn decode_reason(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Empty => "empty",
        DecodeError::MissingField(_) => "missing_field",
        DecodeError::BadTimestamp { .. } => "bad_timestamp",
        DecodeError::BadStream(_) => "bad_stream",
        DecodeError::BadTag(_) => "bad_tag",
        DecodeError::BadJson(_) => "bad_json",
    }
}

/// The `reason` values of `nodepulse_log_decode_errors_total`, one per [`DecodeError`].
const DECODE_REASONS: [&str; 6] = [
    "empty",
    "missing_field",
    "bad_timestamp",
    "bad_stream",
    "bad_tag",
    "bad_json",
];

pub(super) fn collect(p: &ProcessStats, out: &mut Vec<MetricFamily>) {
    out.push(by_reason(
        "nodepulse_log_decode_errors_total",
        "Log lines that did not decode (shipped raw with stream=\"unknown\"), by reason.",
        &DECODE_REASONS,
        |r| p.decode_errors.get(r).copied(),
    ));
    out.push(counter(
        "nodepulse_log_truncated_messages_total",
        "Log messages cut at the message cap.",
        p.truncated,
    ));
    out.push(by_reason(
        "nodepulse_log_incomplete_messages_total",
        "Partial log messages never completed, shipped marked incomplete, by reason.",
        &INCOMPLETE_REASONS,
        |r| p.incomplete.get(r).copied(),
    ));
    out.push(counter(
        "nodepulse_log_events_total",
        "Log events made from the lines read.",
        p.events,
    ));
    out.push(counter(
        "nodepulse_log_excluded_messages_total",
        "Log messages of pods or containers excluded by annotation (nodepulse.io/exclude, \
         nodepulse.io/exclude-containers): read and acknowledged, not shipped.",
        p.excluded,
    ));
    out.push(
        MetricFamily::gauge(
            "nodepulse_log_streams",
            "Container log streams the processor holds state for (format, partial lines): \
             those whose files are not all gone and let go of.",
        )
        .value(p.streams as f64),
    );
}

fn counter(name: &'static str, help: &'static str, v: u64) -> MetricFamily {
    MetricFamily::counter(name, help).value(v as f64)
}

/// A counter family with one sample per reason, every reason listed (0 when none).
fn by_reason(
    name: &'static str,
    help: &'static str,
    reasons: &[&'static str],
    count: impl Fn(&str) -> Option<u64>,
) -> MetricFamily {
    let mut family = MetricFamily::counter(name, help);
    for reason in reasons {
        family.push(&[("reason", reason)], count(reason).unwrap_or(0) as f64);
    }
    family
}
