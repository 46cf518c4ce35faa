//! Where each document goes: a fixed index, a daily index from a `%Y %m %d` pattern
//! (`logs-%Y.%m.%d`, Fluent Bit's `Logstash_Format` and Vector's `index` template do the
//! same from the event's own timestamp), or a data stream. Names are validated once, at
//! start-up, against Elasticsearch's index-name rules so that a typo fails there and not
//! as a 400 on every batch.

use super::civil::Civil;
use std::fmt::Write;
use thiserror::Error;

/// The index setting, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexTarget {
    /// One index for every document.
    Fixed(String),
    /// A name built from the document's UTC date.
    Daily { pattern: String, pieces: Vec<Piece> },
    /// A data stream (e.g. `logs-kubernetes-default`); accepts only the `create` op.
    DataStream(String),
}

/// A literal run (byte range of the pattern) or a date field of a daily pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Literal { start: usize, end: usize },
    Year,
    Month,
    Day,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum IndexError {
    #[error("index name is empty")]
    Empty,
    #[error("index name {0:?} must be lowercase")]
    Uppercase(String),
    #[error("index name {name:?} contains the forbidden character {ch:?}")]
    Forbidden { name: String, ch: char },
    #[error("index name {0:?} must not start with '-', '_' or '+', nor be '.' or '..'")]
    BadStart(String),
    #[error("index name {0:?} is longer than 255 bytes")]
    TooLong(String),
    #[error("index pattern {pattern:?} uses {spec:?}; only %Y, %m and %d are supported")]
    UnknownSpec { pattern: String, spec: String },
}

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

impl IndexTarget {
    /// A fixed index name, or a daily pattern when `name` contains `%`.
    pub fn index(name: &str) -> Result<IndexTarget, IndexError> {
        if !name.contains('%') {
            validate(name)?;
            return Ok(IndexTarget::Fixed(name.to_owned()));
        }
        let target = IndexTarget::Daily {
            pattern: name.to_owned(),
            pieces: parse_pattern(name)?,
        };
        // A sample date checks the literal parts with the same rules as a real name.
        validate(&target.name_at(0))?;
        Ok(target)
    }

    /// A data stream name (no date pattern: the stream rolls over by itself).
    pub fn data_stream(name: &str) -> Result<IndexTarget, IndexError> {
        validate(name)?;
        Ok(IndexTarget::DataStream(name.to_owned()))
    }

    /// The index name for a document stamped `unix_nanos` (UTC).
    pub fn name_at(&self, unix_nanos: i64) -> String {
        match self {
            IndexTarget::Fixed(n) | IndexTarget::DataStream(n) => n.clone(),
            IndexTarget::Daily { pattern, pieces } => {
                format_date(pattern, pieces, &Civil::from_unix_nanos(unix_nanos))
            }
        }
    }
}

fn format_date(pattern: &str, pieces: &[Piece], date: &Civil) -> String {
    let mut s = String::with_capacity(pattern.len() + 4);
    for piece in pieces {
        // Writing to a String cannot fail.
        let _ = match *piece {
            Piece::Literal { start, end } => s.write_str(&pattern[start..end]),
            Piece::Year => write!(s, "{:04}", date.year),
            Piece::Month => write!(s, "{:02}", date.month),
            Piece::Day => write!(s, "{:02}", date.day),
        };
    }
    s
}

/// Remembers the last day's name, so a batch (almost always one day) formats it once.
#[derive(Debug, Default)]
pub struct NameCache {
    day: Option<i64>,
    name: String,
}

impl NameCache {
    pub fn get(&mut self, target: &IndexTarget, unix_nanos: i64) -> &str {
        let day = unix_nanos.div_euclid(NANOS_PER_DAY);
        if self.day != Some(day) {
            self.name = target.name_at(unix_nanos);
            self.day = Some(day);
        }
        &self.name
    }
}

fn parse_pattern(pattern: &str) -> Result<Vec<Piece>, IndexError> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut chars = pattern.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            continue;
        }
        if literal_start < i {
            pieces.push(Piece::Literal {
                start: literal_start,
                end: i,
            });
        }
        let spec = chars.next().map(|(_, s)| s);
        pieces.push(match spec {
            Some('Y') => Piece::Year,
            Some('m') => Piece::Month,
            Some('d') => Piece::Day,
            other => {
                return Err(IndexError::UnknownSpec {
                    pattern: pattern.to_owned(),
                    spec: format!("%{}", other.map(String::from).unwrap_or_default()),
                })
            }
        });
        literal_start = chars.peek().map_or(pattern.len(), |&(j, _)| j);
    }
    if literal_start < pattern.len() {
        pieces.push(Piece::Literal {
            start: literal_start,
            end: pattern.len(),
        });
    }
    Ok(pieces)
}

/// Elasticsearch's rules for index and data stream names (the create-index API docs):
/// lowercase; none of `\ / * ? " < > | , #`, space or `:`; not starting with `-`, `_`,
/// `+`; not `.` or `..`; at most 255 bytes.
fn validate(name: &str) -> Result<(), IndexError> {
    if name.is_empty() {
        return Err(IndexError::Empty);
    }
    if name.chars().any(char::is_uppercase) {
        return Err(IndexError::Uppercase(name.to_owned()));
    }
    let forbidden = |c: char| "\\/*?\"<>|, #:".contains(c) || c.is_control();
    if let Some(ch) = name.chars().find(|&c| forbidden(c)) {
        return Err(IndexError::Forbidden {
            name: name.to_owned(),
            ch,
        });
    }
    if name.starts_with(['-', '_', '+']) || name == "." || name == ".." {
        return Err(IndexError::BadStart(name.to_owned()));
    }
    if name.len() > 255 {
        return Err(IndexError::TooLong(name.to_owned()));
    }
    Ok(())
}
