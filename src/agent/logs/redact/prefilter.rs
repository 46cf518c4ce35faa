//! A cheap test run before the rules' `RegexSet`: most lines hold no secret, and most
//! lines hold none of the words a secret is announced by. Each rule yields the
//! literals every match of it must begin with (or end with), taken from its parsed
//! pattern by `regex-syntax`'s extractor, so the test is derived from the rules rather
//! than kept beside them by hand; one Aho-Corasick automaton over all of them, ASCII
//! case-insensitive, says whether the set must run at all.
//!
//! The literals are a necessary condition (a rule cannot match a line without one of
//! its literals in it), never a sufficient one: the set decides. A rule without usable
//! literals (a pattern that may match the empty string, or starts and ends with a
//! class that is too wide) turns the prefilter off: every line then goes to the set.
//! The set itself has no such prefilter of its own, because one of the default rules
//! (`url_basic_auth`) begins with a letter class, which makes the union's prefix set
//! infinite.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

/// Literals of one rule's side beyond this: too broad a filter to bother.
const MAX_LITERALS: usize = 64;

/// Decides whether a line can match any rule.
#[derive(Debug, Clone)]
pub(super) struct Prefilter {
    /// `None`: some rule has no literals; every line may match.
    automaton: Option<AhoCorasick>,
}

impl Prefilter {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Prefilter {
        let mut all = Vec::new();
        for pattern in patterns {
            match literals(pattern) {
                Some(lits) => all.extend(lits),
                None => return Prefilter { automaton: None },
            }
        }
        all.sort();
        all.dedup();
        // A DFA: with case-insensitive patterns there are too many start bytes for
        // aho-corasick's own prefilters, so every byte goes through the automaton,
        // and a DFA takes one table lookup per byte (the default NFA takes more).
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&all)
            .ok();
        Prefilter { automaton }
    }

    /// False only when no rule can match `text`.
    pub fn may_match(&self, text: &str) -> bool {
        self.automaton
            .as_ref()
            .is_none_or(|ac| ac.is_match(text.as_bytes()))
    }

    #[cfg(test)]
    pub fn is_active(&self) -> bool {
        self.automaton.is_some()
    }
}

/// The literals (ASCII-lowercased) one of which every match of `pattern` starts or
/// ends with, whichever side gives the longer shortest literal; `None` when neither
/// side gives a useful set (finite, at most [`MAX_LITERALS`], none empty or a lone
/// letter or digit).
fn literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let side = |kind| {
        // Case-insensitive keywords expand to every case variant (2^8 for "password",
        // 2^13 for "authorization"); with the default limit (250) they are cut to
        // their first letters ("pas", "aut"), which half the lines contain. Lowercased
        // and deduplicated below, the variants are one literal each again.
        let seq: Seq = Extractor::new()
            .kind(kind)
            .limit_total(1 << 15)
            .extract(&hir);
        let mut lits: Vec<Vec<u8>> = seq
            .literals()?
            .iter()
            .map(|l| l.as_bytes().to_ascii_lowercase())
            .collect();
        lits.sort();
        lits.dedup();
        // A lone letter or digit is in nearly every line: no filter at all.
        let poor = |l: &Vec<u8>| l.is_empty() || (l.len() == 1 && l[0].is_ascii_alphanumeric());
        if lits.iter().any(poor) || lits.len() > MAX_LITERALS {
            return None;
        }
        let shortest = lits.iter().map(Vec::len).min().unwrap_or(usize::MAX);
        Some((shortest, lits))
    };
    let best = match (side(ExtractKind::Prefix), side(ExtractKind::Suffix)) {
        (Some(p), Some(s)) => Some(if s.0 > p.0 { s } else { p }),
        (p, s) => p.or(s),
    };
    best.map(|(_, lits)| lits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_come_from_either_end_of_the_pattern() {
        let got = literals(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b").unwrap();
        assert_eq!(got, [b"akia".to_vec(), b"asia".to_vec()]);
        // Starts with a letter class: the suffix `@` is used instead.
        let got = literals(r#"(\b(?i-u:[a-z][a-z0-9+.-]*)://[^\s:/@"']+:)[^\s/@"']+@"#);
        assert_eq!(got.unwrap(), [b"@".to_vec()]);
        assert_eq!(literals(r"\w+"), None, "no literal at either end");
        assert_eq!(
            literals(r"[a-z]+\d"),
            None,
            "single letters and digits filter nothing"
        );
        assert_eq!(literals(r"x*"), None, "may match the empty string");
    }

    #[test]
    fn lines_without_any_literal_skip_the_set_and_others_do_not() {
        let p = Prefilter::new([
            r"(?i-u:password)\s*=\s*\S+",
            r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        ]);
        assert!(p.is_active());
        assert!(!p.may_match("GET /healthz 200 3ms"));
        assert!(p.may_match("db PassWord=x"));
        assert!(p.may_match("key AKIAABCDEFGHIJKLMNOP"));
        let off = Prefilter::new([r"password=\S+", r"[a-z]+\d"]);
        assert!(!off.is_active(), "a rule with no literal at either end");
        assert!(off.may_match("anything"));
    }

    #[test]
    fn the_default_rules_leave_plain_lines_to_the_prefilter() {
        let p = Prefilter::new(super::super::defaults::DEFAULT_RULES.iter().map(|r| r.1));
        assert!(p.is_active());
        assert!(!p.may_match(r#"10.0.0.1 - "GET /api/v1/items/4 HTTP/1.1" 200 3ms"#));
        assert!(!p.may_match(r#"{"level":"info","msg":"request served","status":200}"#));
        for line in [
            "user:pw@db",
            "Authorization: x",
            "bearer abc1",
            "AKIA",
            "secret",
        ] {
            assert!(p.may_match(line), "{line}");
        }
        for line in ["past the author's second bean", "tok pas aut sec bea"] {
            assert!(
                !p.may_match(line),
                "whole keywords, not first letters: {line}"
            );
        }
    }
}
