//! Redaction of secrets in log lines: rules (regex → replacement), compiled once into a
//! [`Redactor`], applied to every message before it is shipped.
//!
//! The hot path is a line with no secret: a literal prefilter derived from the rules
//! (`prefilter/`) passes over most such lines without running any regex. Where it
//! finds a keyword a rule's matches begin with, every rule is checked anchored there
//! (one multi-pattern regex, which gives up a few bytes past a keyword that announces
//! no secret); where it cannot say where a match would begin, one `RegexSet` pass
//! tests every rule over the whole line. A line no rule matches is returned borrowed,
//! untouched. Only the rules the set
//! reports are then run, in order (defaults first, then the user's), each on the
//! output of the one before; replacements are counted per rule.
//!
//! Redaction runs before app-log lifting (`applog.rs`), which reads the redacted line:
//! the lifted message and ids then come from the text that is shipped, so a secret
//! cannot leave through a lifted field, and one pass covers both. The default rules
//! keep JSON valid (the replacement has no quote or backslash), so lifting still works;
//! a user rule that breaks a line's JSON makes that line's lift fail (counted there).
//!
//! There is no size bound of its own: messages arrive capped by reassembly (1 MiB by
//! default) and `regex` runs in time linear in the line.

mod config;
mod defaults;
mod prefilter;

pub use config::{RedactConfig, RedactConfigError, RuleConfig, REDACTED};

use config::Rule;
use prefilter::{Prefilter, Verdict};
use regex::RegexSet;
use regex_automata::{meta, Anchored, Input};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

/// Rules compiled once; shared by every tailer (`&self`, cheap to clone).
#[derive(Debug, Clone)]
pub struct Redactor {
    prefilter: Prefilter,
    set: RegexSet,
    /// The rules as one regex, for the anchored checks at keywords.
    anchored: meta::Regex,
    rules: Vec<Rule>,
}

/// Counters for `/metrics` (a snapshot), from [`Redactor::new_stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactStats {
    /// Lines passed through `redact`.
    pub lines: u64,
    /// Lines with at least one replacement.
    pub lines_redacted: u64,
    /// Replacements per rule, in rule order.
    pub per_rule: Vec<RuleCount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: Arc<str>,
    pub replacements: u64,
}

impl Redactor {
    /// Validates and compiles the config: the default rules (when on), then the user's.
    pub fn new(config: &RedactConfig) -> Result<Redactor, RedactConfigError> {
        let defaults = defaults::DEFAULT_RULES.iter().filter(|_| config.defaults);
        let mut rules = Vec::new();
        for &(name, pattern, replacement) in defaults {
            rules.push(Rule::compile(name, pattern, replacement)?);
        }
        for (index, rule) in config.rules.iter().enumerate() {
            if rule.name.is_empty() {
                return Err(RedactConfigError::EmptyName { index });
            }
            rules.push(Rule::compile(&rule.name, &rule.pattern, &rule.replacement)?);
        }
        let mut names = HashSet::new();
        if let Some(dup) = rules.iter().find(|r| !names.insert(&r.name)) {
            return Err(RedactConfigError::DuplicateName {
                name: dup.name.to_string(),
            });
        }
        // Each pattern compiled alone above, so an error here is a size limit.
        let together = |message: String| RedactConfigError::Pattern {
            name: "(all rules together)".to_owned(),
            message,
        };
        let patterns: Vec<&str> = rules.iter().map(|r| r.regex.as_str()).collect();
        let set = RegexSet::new(&patterns).map_err(|e| together(e.to_string()))?;
        let anchored = meta::Regex::new_many(&patterns).map_err(|e| together(e.to_string()))?;
        let prefilter = Prefilter::new(patterns);
        Ok(Redactor {
            prefilter,
            set,
            anchored,
            rules,
        })
    }

    /// The rule names, in the order they are applied.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// Zeroed counters with one entry per rule.
    pub fn new_stats(&self) -> RedactStats {
        let per_rule = self.rules.iter().map(|r| RuleCount {
            rule: r.name.clone(),
            replacements: 0,
        });
        RedactStats {
            per_rule: per_rule.collect(),
            ..RedactStats::default()
        }
    }

    /// The line with every rule applied; borrowed when nothing matched.
    ///
    /// `stats` must come from this redactor's [`Redactor::new_stats`].
    pub fn redact<'a>(&self, text: &'a str, stats: &mut RedactStats) -> Cow<'a, str> {
        stats.lines += 1;
        if !self.may_match(text) {
            return Cow::Borrowed(text);
        }
        let mut out = Cow::Borrowed(text);
        let mut total = 0;
        for i in self.set.matches(text).iter() {
            let rule = &self.rules[i];
            if let Some((replaced, n)) = replace_counting(rule, &out) {
                out = Cow::Owned(replaced);
                stats.per_rule[i].replacements += n;
                total += n;
            }
        }
        stats.lines_redacted += u64::from(total > 0);
        out
    }
}

impl Redactor {
    /// Whether any rule matches `text`: the prefilter's verdict, with the rules
    /// checked anchored at its keywords, or the set over the whole line.
    fn may_match(&self, text: &str) -> bool {
        let mut anchored_at = |start: usize| {
            let input = Input::new(text)
                .range(start..)
                .anchored(Anchored::Yes)
                .earliest(true);
            self.anchored.is_match(input)
        };
        match self.prefilter.verdict(text, &mut anchored_at) {
            Verdict::Clean => false,
            Verdict::Match => true,
            Verdict::Whole => self.set.is_match(text),
        }
    }
}

/// `replace_all` that counts; `None` when the rule no longer matches (an earlier rule
/// replaced what it saw in the original line).
fn replace_counting(rule: &Rule, text: &str) -> Option<(String, u64)> {
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for caps in rule.regex.captures_iter(text) {
        let m = caps.get(0).expect("group 0 always matches");
        out.reserve(text.len() - last);
        out.push_str(&text[last..m.start()]);
        caps.expand(&rule.replacement, &mut out);
        last = m.end();
        n += 1;
    }
    (n > 0).then(|| {
        out.push_str(&text[last..]);
        (out, n)
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod verdict_tests;
