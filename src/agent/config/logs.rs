//! The log pipeline's settings that have flags: which files to ship (include/exclude
//! globs on the live file path), where to start in files found at the first start, and
//! the buffer's memory and disk bounds.

use super::{defaults, invalid, ConfigError};
use crate::agent::logs::tail::StartAt;

/// Validated log-shipping settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub start_at: StartAt,
    /// Bytes of batches held in memory.
    pub buffer_max_bytes: u64,
    /// Bytes of the disk spool; 0: no spool.
    pub spool_max_bytes: u64,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            include: Vec::new(),
            exclude: Vec::new(),
            start_at: StartAt::Beginning,
            buffer_max_bytes: defaults::LOGS_BUFFER_MAX_BYTES,
            spool_max_bytes: 0,
        }
    }
}

/// Merges the flags' values over the file's (each already picked by the caller).
pub(super) fn settings(
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    start_at: Option<String>,
    (buffer_max_bytes, spool_max_bytes): (Option<u64>, Option<u64>),
) -> Result<LogSettings, ConfigError> {
    let buffer_max_bytes = buffer_max_bytes.unwrap_or(defaults::LOGS_BUFFER_MAX_BYTES);
    if buffer_max_bytes == 0 {
        let msg = "the log buffer needs room for at least one batch";
        return Err(invalid(
            "logs.buffer.max_bytes",
            "--logs.buffer.max-bytes",
            msg,
        ));
    }
    Ok(LogSettings {
        include: globs(include, ("logs.include", "--logs.include"))?,
        exclude: globs(exclude, ("logs.exclude", "--logs.exclude"))?,
        start_at: match start_at.as_deref() {
            None | Some("beginning") => StartAt::Beginning,
            Some("end") => StartAt::End,
            Some(o) => {
                let msg = format!("{o:?} is not beginning or end");
                return Err(invalid("logs.start_at", "--logs.start-at", msg));
            }
        },
        buffer_max_bytes,
        spool_max_bytes: spool_max_bytes.unwrap_or(0),
    })
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
