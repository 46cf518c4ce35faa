//! The log pipeline's settings that have flags: which files to ship (include/exclude
//! globs on the live file path) and where to start in files found at the first start.

use super::{invalid, ConfigError};
use crate::agent::logs::tail::StartAt;

/// Validated log-shipping settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub start_at: StartAt,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            include: Vec::new(),
            exclude: Vec::new(),
            start_at: StartAt::Beginning,
        }
    }
}

/// Merges the flags' values over the file's (each already picked by the caller).
pub(super) fn settings(
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    start_at: Option<String>,
) -> Result<LogSettings, ConfigError> {
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
