//! A cheap test run before the rules' `RegexSet`: most lines hold no secret, and most
//! lines hold none of the words a secret is announced by. Each rule yields the
//! literals every match of it must begin with (or end with), taken from its parsed
//! pattern by `regex-syntax`'s extractor, so the test is derived from the rules rather
//! than kept beside them by hand. Together, matched ASCII case-insensitively, they say
//! whether the set must run at all: literals of three bytes or more through Teddy
//! (aho-corasick's SIMD searcher) over a lowercased stack copy of the line, single
//! non-letter bytes through `memchr`; any other literal set through one
//! case-insensitive Aho-Corasick DFA (every byte a table lookup: several times slower,
//! it was the largest cost of shipping a line after snappy).
//!
//! The literals are a necessary condition (a rule cannot match a line without one of
//! its literals in it), never a sufficient one: the set decides. A rule without usable
//! literals (a pattern that may match the empty string, or starts and ends with a
//! class that is too wide) turns the prefilter off: every line then goes to the set.
//! The set itself has no such prefilter of its own, because one of the default rules
//! (`url_basic_auth`) begins with a letter class, which makes the union's prefix set
//! infinite.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

/// Literals of one rule's side beyond this: too broad a filter to bother.
const MAX_LITERALS: usize = 64;

/// The window [`Packed`] lowercases at a time (on the stack): lines longer than this
/// are searched in overlapping windows.
const WINDOW: usize = 4096;

/// The window for lines up to this long: the stack array is zeroed on every call, and
/// zeroing 4 KiB for a 200-byte line cost more than searching it.
const SMALL_WINDOW: usize = 512;

/// Decides whether a line can match any rule.
#[derive(Debug, Clone)]
pub(super) struct Prefilter {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Some rule has no literals: every line may match.
    Off,
    /// The fast path (the default rules): see [`Packed`].
    Packed(Packed),
    /// Any other literal set: one ASCII-case-insensitive Aho-Corasick DFA, every byte
    /// through the automaton (one table lookup a byte, about 350 MB/s: with
    /// case-insensitive patterns there are too many start bytes for its prefilters).
    Dfa(AhoCorasick),
}

/// Literals of three bytes or more found with Teddy (SIMD, several GB/s) in a
/// lowercased copy of the line, taken a stack window at a time; literals of one
/// non-letter byte (`@` for `url_basic_auth`) found with `memchr` in the line itself.
#[derive(Debug, Clone)]
struct Packed {
    /// `None`: no literal of three bytes or more.
    teddy: Option<packed::Searcher>,
    /// At most three single non-letter bytes (empty: none).
    bytes: Vec<u8>,
    /// The longest literal less one: how much consecutive windows overlap.
    overlap: usize,
}

impl Packed {
    /// `None` when the literals do not fit this path (a short literal that is a
    /// letter or two bytes long, more than three single bytes, a literal too long for
    /// the window, or a CPU without Teddy).
    fn new(lits: &[Vec<u8>]) -> Option<Packed> {
        let (short, long): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = lits.iter().partition(|l| l.len() < 3);
        let bytes: Vec<u8> = short
            .iter()
            .map(|l| match l.as_slice() {
                [b] if !b.is_ascii_alphabetic() => Some(*b),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let longest = long.iter().map(|l| l.len()).max().unwrap_or(1);
        if bytes.len() > 3 || longest > WINDOW / 4 {
            return None;
        }
        let teddy = match long.is_empty() {
            true => None,
            false => Some(packed::Searcher::new(long.iter())?),
        };
        Some(Packed {
            teddy,
            bytes,
            overlap: longest - 1,
        })
    }

    fn may_match(&self, text: &[u8]) -> bool {
        let found = match self.bytes.as_slice() {
            [] => false,
            [a] => memchr::memchr(*a, text).is_some(),
            [a, b] => memchr::memchr2(*a, *b, text).is_some(),
            [a, b, c, ..] => memchr::memchr3(*a, *b, *c, text).is_some(),
        };
        found || self.long_match(text)
    }

    /// Whether a long literal occurs in `text`, ASCII case folded.
    fn long_match(&self, text: &[u8]) -> bool {
        let Some(teddy) = &self.teddy else {
            return false;
        };
        if text.len() <= SMALL_WINDOW {
            self.search(teddy, text, &mut [0u8; SMALL_WINDOW])
        } else {
            self.search(teddy, text, &mut [0u8; WINDOW])
        }
    }

    /// Searches `text` through `window`: a copy, lowercased, at most a window at a time.
    fn search(&self, teddy: &packed::Searcher, text: &[u8], window: &mut [u8]) -> bool {
        let size = window.len();
        let mut start = 0;
        loop {
            let end = (start + size).min(text.len());
            let part = &mut window[..end - start];
            part.copy_from_slice(&text[start..end]);
            part.make_ascii_lowercase();
            if teddy.find(&*part).is_some() {
                return true;
            }
            if end == text.len() {
                return false;
            }
            start = end - self.overlap;
        }
    }
}

impl Prefilter {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Prefilter {
        let mut all = Vec::new();
        for pattern in patterns {
            match literals(pattern) {
                Some(lits) => all.extend(lits),
                None => return Prefilter { kind: Kind::Off },
            }
        }
        let all = minimal(all);
        if let Some(p) = Packed::new(&all) {
            return Prefilter {
                kind: Kind::Packed(p),
            };
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&all)
            .ok();
        let kind = automaton.map_or(Kind::Off, Kind::Dfa);
        Prefilter { kind }
    }

    /// False only when no rule can match `text`.
    pub fn may_match(&self, text: &str) -> bool {
        match &self.kind {
            Kind::Off => true,
            Kind::Packed(p) => p.may_match(text.as_bytes()),
            Kind::Dfa(ac) => ac.is_match(text.as_bytes()),
        }
    }

    #[cfg(test)]
    pub fn is_active(&self) -> bool {
        !matches!(self.kind, Kind::Off)
    }

    #[cfg(test)]
    fn is_packed(&self) -> bool {
        matches!(self.kind, Kind::Packed(_))
    }
}

/// `lits` without duplicates and without any literal that holds another one: a line
/// holding the longer holds the shorter, so the test says the same with fewer
/// literals (the default rules' 16 spellings of `aws_secret_access_key` all hold
/// `secret`), and few literals keep Teddy on its faster (slim) variant.
fn minimal(mut lits: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    lits.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    lits.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(lits.len());
    for lit in lits {
        let holds = |k: &Vec<u8>| lit.windows(k.len()).any(|w| w == k.as_slice());
        if !kept.iter().any(holds) {
            kept.push(lit);
        }
    }
    kept
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
    fn literals_holding_another_literal_are_left_out() {
        let lits = ["aws_secret", "secret", "pwd", "secret", "@", "a@b", "token"];
        let got = minimal(lits.iter().map(|l| l.as_bytes().to_vec()).collect());
        let want: Vec<Vec<u8>> = ["@", "pwd", "token", "secret"]
            .iter()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        assert_eq!(got, want);
    }

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
        assert!(p.is_packed(), "the default rules take the SIMD path");
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

    #[test]
    fn the_packed_path_agrees_with_the_automaton_across_windows_and_cases() {
        let rules = super::super::defaults::DEFAULT_RULES.iter().map(|r| r.1);
        let mut lits: Vec<Vec<u8>> = rules.flat_map(|r| literals(r).unwrap()).collect();
        lits.sort();
        lits.dedup();
        let packed = Packed::new(&lits).expect("the default literals fit");
        let dfa = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&lits)
            .unwrap();
        let words = [
            "PassWord",
            "TOKEN",
            "x@y",
            "AuThOrIzAtIoN",
            "akia",
            "-----BEGIN ",
        ];
        // Each word at every offset around the window edges, in lines of many lengths.
        for word in words {
            for len in [
                0,
                1,
                2,
                40,
                SMALL_WINDOW - 8,
                SMALL_WINDOW,
                SMALL_WINDOW + 1,
                WINDOW - 20,
                WINDOW,
                WINDOW + 7,
                3 * WINDOW,
            ] {
                for at in [0, len / 2, len.saturating_sub(5), WINDOW - 3, WINDOW - 1] {
                    let mut line = vec![b'z'; len];
                    let at = at.min(len);
                    line.splice(at..at, word.bytes());
                    assert_eq!(
                        packed.may_match(&line),
                        dfa.is_match(&line),
                        "{word} at {at} of {len}"
                    );
                    assert!(packed.may_match(&line), "{word} at {at} of {len}");
                }
            }
        }
        let plain = vec![b'q'; 3 * WINDOW + 11];
        assert!(!packed.may_match(&plain));
        assert!(!packed.may_match(b"pas tok sec bea aut --- pw"));
    }
}
