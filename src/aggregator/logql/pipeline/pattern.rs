//! The `pattern` parser: `<ip> - <_> [<ts>] "<method> <path>"` splits a line at the
//! literals between captures (each capture ends at the first following occurrence of
//! the next literal), as Loki's `pkg/logql/log/pattern`. `<_>` skips; a capture that
//! finds no next literal takes the rest of the line.

use super::labels::LabelSet;
use crate::aggregator::model::Labels;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `None` is `<_>`.
    Capture(Option<String>),
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(String);

impl Pattern {
    pub fn new(src: &str) -> Result<Self, PatternError> {
        let mut parts = Vec::new();
        let mut rest = src;
        while !rest.is_empty() {
            match capture_at(rest) {
                Some((name, len)) => {
                    if matches!(parts.last(), Some(Part::Capture(_))) {
                        return Err(PatternError(
                            "found consecutive capture: invalid expression".into(),
                        ));
                    }
                    let name = (name != "_").then(|| name.to_string());
                    if name.is_some() && parts.contains(&Part::Capture(name.clone())) {
                        return Err(PatternError(format!(
                            "duplicate capture name ({})",
                            name.unwrap_or_default()
                        )));
                    }
                    parts.push(Part::Capture(name));
                    rest = &rest[len..];
                }
                None => {
                    let ch = rest.chars().next().map_or(1, char::len_utf8);
                    match parts.last_mut() {
                        Some(Part::Literal(l)) => l.push_str(&rest[..ch]),
                        _ => parts.push(Part::Literal(rest[..ch].to_string())),
                    }
                    rest = &rest[ch..];
                }
            }
        }
        if !parts.iter().any(|p| matches!(p, Part::Capture(Some(_)))) {
            return Err(PatternError("at least one capture is required".into()));
        }
        Ok(Pattern { parts })
    }

    /// Sets the captured labels of `line` (none when its leading literal is missing).
    pub fn apply(&self, line: &str, stream: &Labels, labels: &mut LabelSet) {
        let mut parts = &self.parts[..];
        let mut rest = line;
        if let Some(Part::Literal(l)) = parts.first() {
            let Some(after) = rest.strip_prefix(l.as_str()) else {
                return;
            };
            rest = after;
            parts = &parts[1..];
        }
        while let [Part::Capture(name), tail @ ..] = parts {
            let found = match tail.first() {
                Some(Part::Literal(l)) => {
                    memchr::memmem::find(rest.as_bytes(), l.as_bytes()).map(|i| (i, l.len()))
                }
                _ => None,
            };
            let value = found.map_or(rest, |(i, _)| &rest[..i]);
            if let Some(name) = name {
                labels.set_extracted(stream, name, value);
            }
            let Some((i, n)) = found else { return };
            rest = &rest[i + n..];
            parts = &tail[1..];
        }
    }
}

/// `<name>` at the start of `s` (a valid label name or `_`): the name and length.
fn capture_at(s: &str) -> Option<(&str, usize)> {
    let body = s.strip_prefix('<')?;
    let end = body.find('>')?;
    let name = &body[..end];
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    valid.then_some((name, end + 2))
}
