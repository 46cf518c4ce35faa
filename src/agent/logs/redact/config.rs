//! Redaction config in two stages: the serde struct users write, validated into
//! compiled rules at start-up with errors that name the rule.

use regex::Regex;
use serde::Deserialize;
use thiserror::Error;

/// The replacement a user rule gets when it names none.
pub const REDACTED: &str = "[REDACTED]";

/// `redact:` in the agent's config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Apply the default rules (see `defaults.rs`) before the user's. Default: true.
    #[serde(default = "yes")]
    pub defaults: bool,
    /// The user's rules, applied in order after the defaults. Default: none.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            defaults: true,
            rules: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// One user rule: every match of `pattern` (Rust `regex` syntax) is replaced by
/// `replacement`, which may refer to the pattern's groups as `$1`, `${name}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique; labels the rule's replacement counter.
    pub name: String,
    pub pattern: String,
    /// Default: `[REDACTED]`.
    #[serde(default = "redacted")]
    pub replacement: String,
}

fn redacted() -> String {
    REDACTED.to_owned()
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RedactConfigError {
    #[error("redact.rules[{index}]: the name is empty")]
    EmptyName { index: usize },
    #[error("redaction rule {name:?}: the name is used twice (default rules included)")]
    DuplicateName { name: String },
    #[error("redaction rule {name:?}: invalid pattern: {message}")]
    Pattern { name: String, message: String },
    #[error("redaction rule {name:?}: the pattern matches the empty string")]
    MatchesEmpty { name: String },
    #[error("redaction rule {name:?}: the replacement refers to group ${group}, which the pattern does not have")]
    UnknownGroup { name: String, group: String },
}

/// A validated rule.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub name: std::sync::Arc<str>,
    pub regex: Regex,
    pub replacement: String,
}

impl Rule {
    pub(super) fn compile(
        name: &str,
        pattern: &str,
        replacement: &str,
    ) -> Result<Rule, RedactConfigError> {
        let regex = Regex::new(pattern).map_err(|e| RedactConfigError::Pattern {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        if regex.is_match("") {
            return Err(RedactConfigError::MatchesEmpty {
                name: name.to_owned(),
            });
        }
        if let Some(group) = unknown_group(&regex, replacement) {
            return Err(RedactConfigError::UnknownGroup {
                name: name.to_owned(),
                group,
            });
        }
        Ok(Rule {
            name: name.into(),
            regex,
            replacement: replacement.to_owned(),
        })
    }
}

/// The first `$group` reference in `replacement` that `regex` lacks. `regex` would
/// silently expand it to nothing, and a typo (`$1x` is group "1x") would go unseen.
/// Syntax as `regex::Captures::expand`: `$$`, `$name`, `${name}`, `$1`.
fn unknown_group(regex: &Regex, replacement: &str) -> Option<String> {
    let mut rest = replacement;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let (group, after) = if let Some(r) = rest.strip_prefix('$') {
            ("", r)
        } else if let Some((g, r)) = rest.strip_prefix('{').and_then(|r| r.split_once('}')) {
            (g, r)
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            rest.split_at(end)
        };
        rest = after;
        let known = match group.parse::<usize>() {
            _ if group.is_empty() => true,
            Ok(n) => n < regex.captures_len(),
            Err(_) => regex.capture_names().any(|n| n == Some(group)),
        };
        if !known {
            return Some(group.to_owned());
        }
    }
    None
}
