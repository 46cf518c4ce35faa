//! The log pipeline's settings: which files to ship (include/exclude globs on the live
//! file path), where to start in files found at the first start, and every bound of the
//! pipeline (buffer, spool, batches, message cap, partial-line flush, open files) and
//! its redaction rules. Flags win over the file's `logs:` section, the file over
//! [`super::defaults`].

use super::file::{LogsFile, RedactFile, SpoolFile};
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
    pub redact: RedactConfig,
}

impl Default for LogSettings {
    fn default() -> Self {
        settings(&mut Flags::default(), LogsFile::default()).expect("the defaults are valid")
    }
}

/// A setting's file key and flag ("" when it has none), for error messages.
type Key = (&'static str, &'static str);

const BUFFER_MAX: Key = ("logs.buffer.max_bytes", "--logs.buffer.max-bytes");
const WHEN_FULL: Key = ("logs.buffer.when_full", "--logs.buffer.when-full");
const SPOOL_MAX: Key = ("logs.spool.max_bytes", "--logs.spool.max-bytes");
const SPOOL_SEGMENT: Key = ("logs.spool.segment_bytes", "");
const BATCH_BYTES: Key = ("logs.batch.max_bytes", "--logs.batch.max-bytes");
const BATCH_EVENTS: Key = ("logs.batch.max_events", "--logs.batch.max-events");
const BATCH_TIMEOUT: Key = ("logs.batch.timeout", "--logs.batch.timeout");
const MAX_LINE: Key = ("logs.max_line_bytes", "--logs.max-line-bytes");
const PARTIAL_FLUSH: Key = ("logs.partial_flush_timeout", "--logs.partial-flush-timeout");
const MAX_OPEN: Key = ("logs.max_open_files", "--logs.max-open-files");

/// Merges the log flags (taken out of `f`) over the file's `logs:` section.
pub(super) fn settings(f: &mut Flags, c: LogsFile) -> Result<LogSettings, ConfigError> {
    let batch = BatchLimits {
        max_bytes: memory(
            f.batch_max_bytes.take(),
            c.batch.max_bytes,
            defaults::LOGS_BATCH_MAX_BYTES,
            BATCH_BYTES,
        )?,
        max_events: count(
            f.batch_max_events.take(),
            c.batch.max_events,
            defaults::LOGS_BATCH_MAX_EVENTS,
            BATCH_EVENTS,
        )?,
        max_age: duration(
            f.batch_timeout.take(),
            c.batch.timeout,
            defaults::LOGS_BATCH_TIMEOUT,
            BATCH_TIMEOUT,
        )?,
    };
    let (spool_max_bytes, spool_segment_bytes) = spool(f, c.spool, &batch)?;
    Ok(LogSettings {
        include: globs(
            f.logs_include.take().or(c.include),
            ("logs.include", "--logs.include"),
        )?,
        exclude: globs(
            f.logs_exclude.take().or(c.exclude),
            ("logs.exclude", "--logs.exclude"),
        )?,
        start_at: start_at(f.logs_start_at.take().or(c.start_at))?,
        buffer_max_bytes: memory(
            f.buffer_max_bytes.take(),
            c.buffer.max_bytes,
            defaults::LOGS_BUFFER_MAX_BYTES,
            BUFFER_MAX,
        )?,
        when_full: when_full(f.buffer_when_full.take().or(c.buffer.when_full))?,
        spool_max_bytes,
        spool_segment_bytes,
        batch,
        max_line_bytes: memory(
            f.max_line_bytes.take(),
            c.max_line_bytes,
            defaults::LOGS_MAX_LINE_BYTES,
            MAX_LINE,
        )?,
        partial_flush_timeout: duration(
            f.partial_flush_timeout.take(),
            c.partial_flush_timeout,
            defaults::LOGS_PARTIAL_FLUSH_TIMEOUT,
            PARTIAL_FLUSH,
        )?,
        max_open_files: count(
            f.max_open_files.take(),
            c.max_open_files,
            defaults::LOGS_MAX_OPEN_FILES,
            MAX_OPEN,
        )?,
        redact: redact(c.redact)?,
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
        Some(o) => Err(invalid(
            WHEN_FULL.0,
            WHEN_FULL.1,
            format!("{o:?} is not block or drop_newest"),
        )),
    }
}

/// The spool's total and segment caps. A spool that cannot hold one batch would turn
/// every batch away, so that is refused here rather than found out during an outage.
fn spool(f: &mut Flags, c: SpoolFile, batch: &BatchLimits) -> Result<(u64, u64), ConfigError> {
    let max = size(
        f.spool_max_bytes.take(),
        c.max_bytes,
        defaults::LOGS_SPOOL_MAX_BYTES,
        SPOOL_MAX,
    )?;
    let segment = size(
        None,
        c.segment_bytes,
        defaults::LOGS_SPOOL_SEGMENT_BYTES,
        SPOOL_SEGMENT,
    )?;
    if segment == 0 {
        return Err(invalid(
            SPOOL_SEGMENT.0,
            SPOOL_SEGMENT.1,
            "must be greater than zero",
        ));
    }
    if max > 0 && max < batch.max_bytes as u64 {
        let msg = format!(
            "{max} bytes cannot hold one batch of logs.batch.max_bytes ({} bytes); use 0 (no spool) or more",
            batch.max_bytes
        );
        return Err(invalid(SPOOL_MAX.0, SPOOL_MAX.1, msg));
    }
    Ok((max, segment))
}

/// A size: the flag's text over the file's value over the default.
fn size(
    flag: Option<String>,
    file: Option<SizeValue>,
    default: u64,
    (key, fl): Key,
) -> Result<u64, ConfigError> {
    match flag.map(SizeValue::from).or(file) {
        Some(v) => v.bytes().map_err(|e| invalid(key, fl, e)),
        None => Ok(default),
    }
}

/// A size held in memory: greater than zero and addressable.
fn memory(
    flag: Option<String>,
    file: Option<SizeValue>,
    default: u64,
    key: Key,
) -> Result<usize, ConfigError> {
    let n = size(flag, file, default, key)?;
    positive_usize(n, key)
}

/// A whole number greater than zero: the flag's text over the file's value.
fn count(
    flag: Option<String>,
    file: Option<u64>,
    default: u64,
    key: Key,
) -> Result<usize, ConfigError> {
    let n = match flag {
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| invalid(key.0, key.1, format!("{s:?} is not a whole number")))?,
        None => file.unwrap_or(default),
    };
    positive_usize(n, key)
}

fn positive_usize(n: u64, (key, flag): Key) -> Result<usize, ConfigError> {
    if n == 0 {
        return Err(invalid(key, flag, "must be greater than zero"));
    }
    usize::try_from(n).map_err(|_| invalid(key, flag, format!("{n} is too large")))
}

/// A duration greater than zero: the flag's text over the file's.
fn duration(
    flag: Option<String>,
    file: Option<String>,
    default: Duration,
    (key, fl): Key,
) -> Result<Duration, ConfigError> {
    let d = match flag.or(file) {
        Some(s) => parse_duration(&s).map_err(|e| invalid(key, fl, e))?,
        None => default,
    };
    if d.is_zero() {
        return Err(invalid(key, fl, "must be greater than zero"));
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
fn globs(patterns: Option<Vec<String>>, (key, flag): Key) -> Result<Vec<String>, ConfigError> {
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
