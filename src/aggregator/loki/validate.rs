//! What Loki's distributor checks before it stores a push (`pkg/distributor/validator.go`),
//! with its wording: stream labels (parsed, empty values dropped, at least one, at most
//! `max_label_names`, name and value lengths, no duplicates) and each entry (line size —
//! refused or cut —, age, future, structured-metadata size and count). A bad stream or
//! entry is dropped and counted; the rest go on, and the first reason is the answer.

use super::labels::{is_valid_name, parse_labels};
use super::limits::LokiLimits;
use super::stats::{LokiStats, Reason};
use super::wire::{LabelSource, RawStream};
use crate::aggregator::model::logs::{LogEntry, PushStream};
use crate::aggregator::model::Labels;
use crate::civil::go_time;

/// A stream that passed, with its label text for later messages and its entry bytes
/// (lines and metadata, what the rate limit counts).
#[derive(Debug)]
pub struct Checked {
    pub text: String,
    pub stream: PushStream,
    pub bytes: u64,
}

/// A validated push: what may be stored, and the first refusal's message.
#[derive(Debug, Default)]
pub struct Validated {
    pub streams: Vec<Checked>,
    pub first_error: Option<String>,
}

impl Validated {
    pub fn entries(&self) -> u64 {
        self.streams
            .iter()
            .map(|s| s.stream.entries.len() as u64)
            .sum()
    }

    pub fn bytes(&self) -> u64 {
        self.streams.iter().map(|s| s.bytes).sum()
    }

    fn refuse(&mut self, stats: &LokiStats, reason: Reason, entries: usize, message: String) {
        stats.discard(reason, entries as u64);
        self.first_error.get_or_insert(message);
    }
}

/// Checks every stream and entry against `limits` at time `now` (ns).
pub fn validate(
    raw: Vec<RawStream>,
    limits: &LokiLimits,
    now: i64,
    stats: &LokiStats,
) -> Validated {
    let mut out = Validated::default();
    for s in raw {
        let text = label_text(&s.labels);
        let labels = match stream_labels(s.labels, &text, limits) {
            Ok(l) => l,
            Err((reason, msg)) => {
                out.refuse(stats, reason, s.entries.len(), msg);
                continue;
            }
        };
        let mut kept = Vec::with_capacity(s.entries.len());
        let mut bytes = 0;
        for mut e in s.entries {
            match check_entry(&mut e, &text, limits, now, stats) {
                Ok(()) => {
                    bytes += entry_bytes(&e);
                    kept.push(e);
                }
                Err((reason, msg)) => out.refuse(stats, reason, 1, msg),
            }
        }
        if !kept.is_empty() {
            let stream = PushStream {
                labels,
                entries: kept,
            };
            out.streams.push(Checked {
                text,
                stream,
                bytes,
            });
        }
    }
    out
}

/// Line and structured-metadata bytes, as Loki's ingestion rate counts them.
pub fn entry_bytes(e: &LogEntry) -> u64 {
    (e.line.len() + metadata_bytes(e)) as u64
}

fn metadata_bytes(e: &LogEntry) -> usize {
    e.metadata.iter().map(|(n, v)| n.len() + v.len()).sum()
}

/// The label text as sent, or the JSON object rendered as Loki's `LabelSet.String()`.
fn label_text(src: &LabelSource) -> String {
    match src {
        LabelSource::Text(t) => t.clone(),
        LabelSource::Pairs(p) => {
            let inner: Vec<String> = p.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

type Refused = (Reason, String);

fn stream_labels(src: LabelSource, text: &str, l: &LokiLimits) -> Result<Labels, Refused> {
    let invalid = |e: String| {
        let msg = format!("Error parsing labels '{text}' with error: {e}");
        (Reason::InvalidLabels, msg)
    };
    let mut pairs = match src {
        LabelSource::Text(t) => parse_labels(&t).map_err(|e| invalid(e.to_string()))?,
        LabelSource::Pairs(p) => p,
    };
    if let Some((n, _)) = pairs.iter().find(|(n, _)| !is_valid_name(n)) {
        return Err(invalid(format!("invalid label name {n:?}")));
    }
    pairs.retain(|(_, v)| !v.is_empty());
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    check_label_pairs(&pairs, text, l)?;
    Ok(Labels::new(pairs))
}

fn check_label_pairs(
    pairs: &[(String, String)],
    text: &str,
    l: &LokiLimits,
) -> Result<(), Refused> {
    if pairs.is_empty() {
        let msg = "error at least one label pair is required per stream".to_string();
        return Err((Reason::MissingLabels, msg));
    }
    if pairs.len() > l.max_label_names {
        let msg = format!(
            "entry for stream '{text}' has {} label names; limit {}",
            pairs.len(),
            l.max_label_names
        );
        return Err((Reason::MaxLabelNames, msg));
    }
    for (i, (n, v)) in pairs.iter().enumerate() {
        if n.len() > l.max_label_name_length {
            let msg = format!("stream '{text}' has label name too long: '{n}'");
            return Err((Reason::LabelNameTooLong, msg));
        }
        if v.len() > l.max_label_value_length {
            let msg = format!("stream '{text}' has label value too long: '{v}'");
            return Err((Reason::LabelValueTooLong, msg));
        }
        if i > 0 && pairs[i - 1].0 == *n {
            let msg = format!("stream '{text}' has duplicate label name: '{n}'");
            return Err((Reason::DuplicateLabelNames, msg));
        }
    }
    Ok(())
}

fn check_entry(
    e: &mut LogEntry,
    text: &str,
    l: &LokiLimits,
    now: i64,
    stats: &LokiStats,
) -> Result<(), Refused> {
    if let Some(max_age) = l.reject_older_than {
        let oldest = now.saturating_sub(duration_ns(max_age));
        if e.ts < oldest {
            let msg = format!(
                "entry for stream '{text}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                go_time(e.ts),
                go_time(oldest)
            );
            return Err((Reason::TooOld, msg));
        }
    }
    if e.ts > now.saturating_add(duration_ns(l.creation_grace)) {
        let msg = format!(
            "entry for stream '{text}' has timestamp too new: {}",
            go_time(e.ts)
        );
        return Err((Reason::TooNew, msg));
    }
    check_line(e, text, l, stats)?;
    check_metadata(e, text, l)
}

fn check_line(
    e: &mut LogEntry,
    text: &str,
    l: &LokiLimits,
    stats: &LokiStats,
) -> Result<(), Refused> {
    let max = l.max_line_size;
    if max == 0 || e.line.len() <= max {
        return Ok(());
    }
    if l.truncate_long_lines {
        e.line.truncate(floor_char_boundary(&e.line, max));
        stats
            .lines_truncated
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    }
    let msg = format!(
        "Max entry size '{max}' bytes exceeded for stream '{text}' while adding an entry with length '{}' bytes",
        e.line.len()
    );
    Err((Reason::LineTooLong, msg))
}

fn check_metadata(e: &LogEntry, text: &str, l: &LokiLimits) -> Result<(), Refused> {
    let size = metadata_bytes(e);
    if l.max_metadata_bytes != 0 && size > l.max_metadata_bytes {
        let msg = format!(
            "stream '{text}' has structured metadata too large: '{size}' bytes, limit: '{}' bytes",
            l.max_metadata_bytes
        );
        return Err((Reason::MetadataTooLarge, msg));
    }
    let count = e.metadata.len();
    if l.max_metadata_entries != 0 && count > l.max_metadata_entries {
        let msg = format!(
            "stream '{text}' has too many structured metadata labels: '{count}', limit: '{}'",
            l.max_metadata_entries
        );
        return Err((Reason::MetadataTooMany, msg));
    }
    Ok(())
}

/// The largest char boundary at or below `at` (`str::floor_char_boundary` is not
/// stable yet), so a cut never splits a UTF-8 sequence.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

fn duration_ns(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
