//! One `.prom` file's text ─▶ metric families, as node_exporter 1.5's textfile collector
//! turns a file into metrics: samples grouped by family, a family's missing labels
//! filled with "" (client_golang needs one label-name set per family), labels sorted,
//! no sample timestamps, no HELP yet (the collector names the source files).

use crate::exposition::parse::{parse, Parsed, ParsedSample};
use crate::exposition::{Label, MetricType, Sample};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// Why a file was skipped (the `reason` label of the skipped-files counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    ReadError,
    TooLarge,
    NotUtf8,
    Parse,
    Timestamps,
    UnsupportedType,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::ReadError,
        Reason::TooLarge,
        Reason::NotUtf8,
        Reason::Parse,
        Reason::Timestamps,
        Reason::UnsupportedType,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reason::ReadError => "read_error",
            Reason::TooLarge => "too_large",
            Reason::NotUtf8 => "not_utf8",
            Reason::Parse => "parse_error",
            Reason::Timestamps => "timestamps",
            Reason::UnsupportedType => "unsupported_type",
        }
    }
}

/// A skipped file: the reason and a message for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub reason: Reason,
    pub msg: String,
}

fn rejected(reason: Reason, msg: impl Into<String>) -> Rejected {
    Rejected {
        reason,
        msg: msg.into(),
    }
}

/// One family of one file. `help` is the file's HELP text, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFamily {
    pub name: String,
    pub help: Option<String>,
    pub kind: MetricType,
    pub samples: Vec<Sample>,
}

/// Converts a whole file, or says why node_exporter would skip it.
pub fn convert(text: &str) -> Result<Vec<FileFamily>, Rejected> {
    // expfmt's parser wants every line terminated ("unexpected end of input stream").
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(rejected(Reason::Parse, "unexpected end of input stream"));
    }
    let parsed = parse(text).map_err(|e| rejected(Reason::Parse, e.to_string()))?;
    check_type_words(&parsed)?;
    if parsed.samples.iter().any(|s| s.timestamp_ms.is_some()) {
        return Err(rejected(
            Reason::Timestamps,
            "contains unsupported client-side timestamps, skipping entire file",
        ));
    }
    let mut families: Vec<FileFamily> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for s in parsed.samples.iter() {
        let kind = sample_kind(&s.name, &parsed)?;
        let i = *index.entry(s.name.clone()).or_insert_with(|| {
            families.push(FileFamily {
                name: s.name.clone(),
                help: parsed.helps.get(&s.name).cloned(),
                kind,
                samples: Vec::new(),
            });
            families.len() - 1
        });
        families[i].samples.push(owned_sample(s));
    }
    families.iter_mut().for_each(fill_and_sort_labels);
    Ok(families)
}

/// The 0.0.4 format knows five types (case-insensitive in expfmt); any other word fails.
fn check_type_words(parsed: &Parsed) -> Result<(), Rejected> {
    for (name, word) in &parsed.types {
        let known = ["counter", "gauge", "untyped", "histogram", "summary"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            let msg = format!("unknown metric type {word:?} for {name:?}");
            return Err(rejected(Reason::Parse, msg));
        }
    }
    Ok(())
}

/// The type of the family a sample belongs to. Histograms and summaries (their own
/// name or `_bucket`/`_sum`/`_count` of one) are not in the agent's model: the file is
/// skipped and counted rather than served with wrong types.
fn sample_kind(name: &str, parsed: &Parsed) -> Result<MetricType, Rejected> {
    let word = |n: &str| parsed.types.get(n).map(|w| w.to_ascii_lowercase());
    let complex = |w: &str| w == "histogram" || w == "summary";
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix));
    if let Some(w) = base.and_then(word).filter(|w| complex(w)) {
        let msg = format!("{w} metric {name:?} is not supported");
        return Err(rejected(Reason::UnsupportedType, msg));
    }
    match word(name).as_deref() {
        None | Some("untyped") => Ok(MetricType::Untyped),
        Some("counter") => Ok(MetricType::Counter),
        Some("gauge") => Ok(MetricType::Gauge),
        Some(w) => Err(rejected(
            Reason::UnsupportedType,
            format!("{w} metric {name:?} is not supported"),
        )),
    }
}

fn owned_sample(s: &ParsedSample) -> Sample {
    let labels = s
        .labels
        .iter()
        .map(|(n, v)| (Cow::Owned(n.clone()), v.clone()))
        .collect();
    Sample {
        labels,
        shared: None,
        value: s.value,
    }
}

/// Gives every sample the family's full label-name set (absent ones as "") in
/// client_golang's order (sorted by name).
fn fill_and_sort_labels(family: &mut FileFamily) {
    let names: BTreeSet<Cow<'static, str>> = family
        .samples
        .iter()
        .flat_map(|s| s.labels.iter().map(|(n, _)| n.clone()))
        .collect();
    for sample in &mut family.samples {
        for name in &names {
            if !sample.labels.iter().any(|(n, _)| n == name) {
                let label: Label = (name.clone(), String::new());
                sample.labels.push(label);
            }
        }
        sample.labels.sort_by(|a, b| a.0.cmp(&b.0));
    }
}
