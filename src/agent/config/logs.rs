//! The log pipeline's settings: which files to ship (include/exclude globs on the live
//! file path), where to start in files found at the first start, and every bound of the
//! pipeline (buffer, spool, batches, message cap, partial-line flush, open files, how
//! long a gone file's checkpoint is kept) and its redaction rules. Flags win over the file's `logs:` section, the file over
//! [`super::defaults`].

use super::file::{BatchFile, LogsFile, RedactFile, SpoolFile};
use super::size::{parse_duration, SizeValue};
use super::{defaults, invalid, ConfigError, Flags};
use crate::agent::logs::buffer::{BatchLimits, WhenFull};
use crate::agent::logs::redact::{RedactConfig, Redactor, RuleConfig, REDACTED};
use crate::agent::logs::tail::StartAt;
use std::time::Duration;

/// Validated log-shipping settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub start_at: StartAt,
    pub buffer_max_bytes: usize,
    pub when_full: WhenFull,
    /// 0: no disk spool.
    pub spool_max_bytes: u64,
    pub spool_segment_bytes: u64,
    pub batch: BatchLimits,
    /// The cap on a message after partial lines are joined.
    pub max_line_bytes: usize,
    pub partial_flush_timeout: Duration,
    pub max_open_files: usize,
    /// How long the checkpoint of a file no longer at its path is kept.
    pub checkpoint_retention: Duration,
    pub redact: RedactConfig,
}

impl Default for LogSettings {
    fn default() -> Self {
        settings(&mut Flags::default(), LogsFile::default()).expect("the defaults are valid")
    }
}

/// A setting's file key, its flag ("" when it has none) and its default.
struct Key<D> {
    key: &'static str,
    flag: &'static str,
    default: D,
}

const fn key<D>(key: &'static str, flag: &'static str, default: D) -> Key<D> {
    Key { key, flag, default }
}

const BUFFER_MAX: Key<u64> = key(
    "logs.buffer.max_bytes",
    "--logs.buffer.max-bytes",
    defaults::LOGS_BUFFER_MAX_BYTES,
);
const WHEN_FULL: Key<()> = key("logs.buffer.when_full", "--logs.buffer.when-full", ());
const SPOOL_MAX: Key<u64> = key(
    "logs.spool.max_bytes",
    "--logs.spool.max-bytes",
    defaults::LOGS_SPOOL_MAX_BYTES,
);
const SPOOL_SEGMENT: Key<u64> = key(
    "logs.spool.segment_bytes",
    "",
    defaults::LOGS_SPOOL_SEGMENT_BYTES,
);
const BATCH_BYTES: Key<u64> = key(
    "logs.batch.max_bytes",
    "--logs.batch.max-bytes",
    defaults::LOGS_BATCH_MAX_BYTES,
);
const BATCH_EVENTS: Key<u64> = key(
    "logs.batch.max_events",
    "--logs.batch.max-events",
    defaults::LOGS_BATCH_MAX_EVENTS,
);
const BATCH_TIMEOUT: Key<Duration> = key(
    "logs.batch.timeout",
    "--logs.batch.timeout",
    defaults::LOGS_BATCH_TIMEOUT,
);
const MAX_LINE: Key<u64> = key(
    "logs.max_line_bytes",
    "--logs.max-line-bytes",
    defaults::LOGS_MAX_LINE_BYTES,
);
const PARTIAL_FLUSH: Key<Duration> = key(
    "logs.partial_flush_timeout",
    "--logs.partial-flush-timeout",
    defaults::LOGS_PARTIAL_FLUSH_TIMEOUT,
);
const MAX_OPEN: Key<u64> = key(
    "logs.max_open_files",
    "--logs.max-open-files",
    defaults::LOGS_MAX_OPEN_FILES,
);
const CHECKPOINT_RETENTION: Key<Duration> = key(
    "logs.checkpoint_retention",
    "--logs.checkpoint-retention",
    defaults::LOGS_CHECKPOINT_RETENTION,
);

/// Merges the log flags (taken out of `f`) over the file's `logs:` section.
pub(super) fn settings(f: &mut Flags, c: LogsFile) -> Result<LogSettings, ConfigError> {
    let batch = batch(f, c.batch)?;
    let (spool_max_bytes, spool_segment_bytes) = spool(f, c.spool, &batch)?;
    let include = ("logs.include", "--logs.include");
    let exclude = ("logs.exclude", "--logs.exclude");
    Ok(LogSettings {
        include: globs(f.logs_include.take().or(c.include), include)?,
        exclude: globs(f.logs_exclude.take().or(c.exclude), exclude)?,
        start_at: start_at(f.logs_start_at.take().or(c.start_at))?,
        buffer_max_bytes: memory(f.buffer_max_bytes.take(), c.buffer.max_bytes, BUFFER_MAX)?,
        when_full: when_full(f.buffer_when_full.take().or(c.buffer.when_full))?,
        spool_max_bytes,
        spool_segment_bytes,
        batch,
        max_line_bytes: memory(f.max_line_bytes.take(), c.max_line_bytes, MAX_LINE)?,
        partial_flush_timeout: duration(
            f.partial_flush_timeout.take(),
            c.partial_flush_timeout,
            PARTIAL_FLUSH,
        )?,
        max_open_files: count(f.max_open_files.take(), c.max_open_files, MAX_OPEN)?,
        checkpoint_retention: duration(
            f.checkpoint_retention.take(),
            c.checkpoint_retention,
            CHECKPOINT_RETENTION,
        )?,
        redact: redact(c.redact)?,
    })
}

fn batch(f: &mut Flags, c: BatchFile) -> Result<BatchLimits, ConfigError> {
    Ok(BatchLimits {
        max_bytes: memory(f.batch_max_bytes.take(), c.max_bytes, BATCH_BYTES)?,
        max_events: count(f.batch_max_events.take(), c.max_events, BATCH_EVENTS)?,
        max_age: duration(f.batch_timeout.take(), c.timeout, BATCH_TIMEOUT)?,
    })
}

fn start_at(value: Option<String>) -> Result<StartAt, ConfigError> {
    match value.as_deref() {
        None | Some("beginning") => Ok(StartAt::Beginning),
        Some("end") => Ok(StartAt::End),
        Some(o) => Err(invalid(
            "logs.start_at",
            "--logs.start-at",
            format!("{o:?} is not beginning or end"),
        )),
    }
}

fn when_full(value: Option<String>) -> Result<WhenFull, ConfigError> {
    match value.as_deref() {
        None | Some("block") => Ok(WhenFull::Block),
        Some("drop_newest") => Ok(WhenFull::DropNewest),
        Some(o) => Err(WHEN_FULL.invalid(format!("{o:?} is not block or drop_newest"))),
    }
}

/// The spool's total and segment caps. A spool that cannot hold one batch would turn
/// every batch away, so that is refused here rather than found out during an outage.
fn spool(f: &mut Flags, c: SpoolFile, batch: &BatchLimits) -> Result<(u64, u64), ConfigError> {
    let max = size(f.spool_max_bytes.take(), c.max_bytes, &SPOOL_MAX)?;
    let segment = size(None, c.segment_bytes, &SPOOL_SEGMENT)?;
    if segment == 0 {
        return Err(SPOOL_SEGMENT.invalid("must be greater than zero"));
    }
    if max > 0 && max < batch.max_bytes as u64 {
        let msg = format!(
            "{max} bytes cannot hold one batch of logs.batch.max_bytes ({} bytes); use 0 (no spool) or more",
            batch.max_bytes
        );
        return Err(SPOOL_MAX.invalid(msg));
    }
    Ok((max, segment))
}

impl<D> Key<D> {
    fn invalid(&self, msg: impl ToString) -> ConfigError {
        invalid(self.key, self.flag, msg)
    }
}

/// A size: the flag's text over the file's value over the default.
fn size(flag: Option<String>, file: Option<SizeValue>, k: &Key<u64>) -> Result<u64, ConfigError> {
    match flag.map(SizeValue::from).or(file) {
        Some(v) => v.bytes().map_err(|e| k.invalid(e)),
        None => Ok(k.default),
    }
}

/// A size held in memory: greater than zero and addressable.
fn memory(
    flag: Option<String>,
    file: Option<SizeValue>,
    k: Key<u64>,
) -> Result<usize, ConfigError> {
    let n = size(flag, file, &k)?;
    positive_usize(n, &k)
}

/// A whole number greater than zero: the flag's text over the file's value.
fn count(flag: Option<String>, file: Option<u64>, k: Key<u64>) -> Result<usize, ConfigError> {
    let n = match flag {
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| k.invalid(format!("{s:?} is not a whole number")))?,
        None => file.unwrap_or(k.default),
    };
    positive_usize(n, &k)
}

fn positive_usize(n: u64, k: &Key<u64>) -> Result<usize, ConfigError> {
    if n == 0 {
        return Err(k.invalid("must be greater than zero"));
    }
    usize::try_from(n).map_err(|_| k.invalid(format!("{n} is too large")))
}

/// A duration greater than zero: the flag's text over the file's.
fn duration(
    flag: Option<String>,
    file: Option<String>,
    k: Key<Duration>,
) -> Result<Duration, ConfigError> {
    let d = match flag.or(file) {
        Some(s) => parse_duration(&s).map_err(|e| k.invalid(e))?,
        None => k.default,
    };
    if d.is_zero() {
        return Err(k.invalid("must be greater than zero"));
    }
    Ok(d)
}

/// `logs.redact`, compiled once here so a bad rule stops the agent with its name.
fn redact(file: RedactFile) -> Result<RedactConfig, ConfigError> {
    let config = RedactConfig {
        defaults: file.defaults.unwrap_or(true),
        rules: file
            .rules
            .into_iter()
            .map(|r| RuleConfig {
                name: r.name,
                pattern: r.regex,
                replacement: r.replacement.unwrap_or_else(|| REDACTED.to_owned()),
            })
            .collect(),
    };
    Redactor::new(&config).map_err(|e| invalid("logs.redact.rules", "", e))?;
    Ok(config)
}

/// Non-empty patterns, each a valid glob.
fn globs(
    patterns: Option<Vec<String>>,
    (key, flag): (&'static str, &'static str),
) -> Result<Vec<String>, ConfigError> {
    let patterns: Vec<String> = patterns
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    for p in &patterns {
        globset::Glob::new(p).map_err(|e| invalid(key, flag, e))?;
    }
    Ok(patterns)
}

#[cfg(test)]
mod tests;
