//! Severity names as applications write them, normalized to six lowercase names.
//!
//! The names come from the loggers that write JSON or logfmt to stdout: zap, logrus and
//! slog (Go), pino and bunyan (Node: numbers 10..60), Python's logging (`levelname`),
//! Serilog (`Verbose`, `Information`), Java's JUL (`FINE`, `SEVERE`), syslog (`notice`,
//! `crit`, `emerg`) and logrus' four-letter text forms (`WARN`, `ERRO`, `FATA`).

/// A normalized severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// Accepted spellings (compared ASCII case-insensitively) and what they mean.
const NAMES: &[(&str, Level)] = &[
    ("info", Level::Info),
    ("error", Level::Error),
    ("warn", Level::Warn),
    ("warning", Level::Warn),
    ("debug", Level::Debug),
    ("trace", Level::Trace),
    ("fatal", Level::Fatal),
    ("information", Level::Info),
    ("informational", Level::Info),
    ("notice", Level::Info),
    ("inf", Level::Info),
    ("err", Level::Error),
    ("erro", Level::Error),
    ("severe", Level::Error),
    ("wrn", Level::Warn),
    ("dbg", Level::Debug),
    ("debu", Level::Debug),
    ("fine", Level::Debug),
    ("trc", Level::Trace),
    ("trac", Level::Trace),
    ("verbose", Level::Trace),
    ("finest", Level::Trace),
    ("critical", Level::Fatal),
    ("crit", Level::Fatal),
    ("alert", Level::Fatal),
    ("emerg", Level::Fatal),
    ("emergency", Level::Fatal),
    ("panic", Level::Fatal),
    ("dpanic", Level::Fatal),
    ("pani", Level::Fatal),
    ("fata", Level::Fatal),
    ("ftl", Level::Fatal),
];

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// A level name, any case (`"WARNING"` is warn); `None` for names not listed.
    pub fn from_name(name: &str) -> Option<Level> {
        let name = name.trim();
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, level)| level)
    }

    /// pino's and bunyan's numeric levels (10 trace .. 60 fatal). Other numbers (pino's
    /// custom levels, OTel's 1..24 severity numbers) are not guessed at: `None`.
    pub fn from_number(n: u64) -> Option<Level> {
        match n {
            10 => Some(Level::Trace),
            20 => Some(Level::Debug),
            30 => Some(Level::Info),
            40 => Some(Level::Warn),
            50 => Some(Level::Error),
            60 => Some(Level::Fatal),
            _ => None,
        }
    }
}
