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
//! its literals in it), never a sufficient one: the set decides. Where a literal is
//! where a rule's matches *begin* (a keyword such as `password`), the prefilter also
//! says where to look: the caller checks the rules anchored at each such hit
//! ([`Prefilter::verdict`]), which stops a few bytes past the keyword, instead of
//! running the set from there to the end of a 48 KiB line. A hit of a literal that
//! ends matches (`@`) leaves the whole line to the set. A rule without usable
//! literals (a pattern that may match the empty string, or starts and ends with a
//! class that is too wide) turns the prefilter off: every line then goes to the set.
//! The set itself has no such prefilter of its own, because one of the default rules
//! (`url_basic_auth`) begins with a letter class, which makes the union's prefix set
//! infinite.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, Span};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use std::cell::RefCell;

/// Literals of one rule's side beyond this: too broad a filter to bother.
const MAX_LITERALS: usize = 64;

/// The window [`Packed`] lowercases at a time: lines longer than this are searched in
/// overlapping windows.
const WINDOW: usize = 4096;

thread_local! {
    /// The lowercased copy of a window of the line, kept from line to line: a fresh
    /// stack array, zeroed on every call, cost about 1 % of shipping a line.
    static LOWERED: RefCell<Vec<u8>> = RefCell::new(vec![0; WINDOW]);
}

/// Decides whether a line can match any rule.
#[derive(Debug, Clone)]
pub(super) struct Prefilter {
    kind: Kind,
}

/// What the prefilter says of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No rule can match it.
    Clean,
    /// A rule matches it: an anchored check at a keyword said so.
    Match,
    /// A rule may match anywhere: the set must look at the whole line.
    Whole,
}

/// Which end of its rule's matches a literal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Prefix,
    Suffix,
}

/// One literal and the end of its rule's matches it stands at.
type Literal = (Vec<u8>, Side);

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
    /// Per Teddy pattern: `Prefix` when every literal it stands for (itself, and those
    /// [`minimal`] left out for holding it) begins its rule's matches.
    sides: Vec<Side>,
    /// How far before a hit a match may begin: 0, and each offset at which a literal
    /// left out holds the one found (`secret` at 4 in `aws_secret_access_key`).
    backs: Vec<usize>,
    /// At most three single non-letter bytes (empty: none).
    bytes: Vec<u8>,
    /// The longest literal less one: how much consecutive windows overlap.
    overlap: usize,
}

impl Packed {
    /// `None` when the literals do not fit this path (a short literal that is a
    /// letter or two bytes long, more than three single bytes, a literal too long for
    /// the window, or a CPU without Teddy).
    fn new(lits: &[Vec<u8>], sides: &[Side], backs: Vec<usize>) -> Option<Packed> {
        let (short, long): (Vec<usize>, Vec<usize>) =
            (0..lits.len()).partition(|&i| lits[i].len() < 3);
        let sides = long.iter().map(|&i| sides[i]).collect();
        let (short, long): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = (
            short.iter().map(|&i| &lits[i]).collect(),
            long.iter().map(|&i| &lits[i]).collect(),
        );
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
            sides,
            backs,
            bytes,
            overlap: longest - 1,
        })
    }

    #[cfg(test)]
    fn may_match(&self, text: &[u8]) -> bool {
        self.verdict(text, &mut |_| true) != Verdict::Clean
    }

    fn verdict(&self, text: &[u8], check: &mut dyn FnMut(usize) -> bool) -> Verdict {
        let found = match self.bytes.as_slice() {
            [] => false,
            [a] => memchr::memchr(*a, text).is_some(),
            [a, b] => memchr::memchr2(*a, *b, text).is_some(),
            [a, b, c, ..] => memchr::memchr3(*a, *b, *c, text).is_some(),
        };
        if found {
            return Verdict::Whole;
        }
        let Some(teddy) = &self.teddy else {
            return Verdict::Clean;
        };
        LOWERED.with_borrow_mut(|window| self.search(teddy, text, window, check))
    }

    /// Searches `text` through `window`: a copy, lowercased, at most a window at a
    /// time; each hit (once, though windows overlap) is judged by [`Packed::judge`].
    fn search(
        &self,
        teddy: &packed::Searcher,
        text: &[u8],
        window: &mut [u8],
        check: &mut dyn FnMut(usize) -> bool,
    ) -> Verdict {
        let size = window.len();
        let mut start = 0;
        let mut next = 0;
        loop {
            let end = (start + size).min(text.len());
            let part = &mut window[..end - start];
            part.copy_from_slice(&text[start..end]);
            part.make_ascii_lowercase();
            let mut at = next.max(start) - start;
            while let Some(m) = teddy.find_in(&*part, Span::from(at..part.len())) {
                match self.judge(m.pattern().as_usize(), start + m.start(), check) {
                    Verdict::Clean => {}
                    verdict => return verdict,
                }
                at = m.start() + 1;
            }
            next = start + at;
            if end == text.len() {
                return Verdict::Clean;
            }
            start = end - self.overlap;
        }
    }

    /// A hit of Teddy pattern `pattern` at `hit`: the whole line for a literal that
    /// ends matches, else the rules checked where a match holding it could begin.
    fn judge(&self, pattern: usize, hit: usize, check: &mut dyn FnMut(usize) -> bool) -> Verdict {
        if self.sides[pattern] == Side::Suffix {
            return Verdict::Whole;
        }
        let starts = self.backs.iter().filter_map(|b| hit.checked_sub(*b));
        match starts.into_iter().any(check) {
            true => Verdict::Match,
            false => Verdict::Clean,
        }
    }
}

impl Prefilter {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Prefilter {
        let mut all: Vec<Literal> = Vec::new();
        for pattern in patterns {
            match literals(pattern) {
                Some((side, lits)) => all.extend(lits.into_iter().map(|l| (l, side))),
                None => return Prefilter { kind: Kind::Off },
            }
        }
        let (kept, sides, backs) = reduce(&all);
        if let Some(p) = Packed::new(&kept, &sides, backs) {
            return Prefilter {
                kind: Kind::Packed(p),
            };
        }
        let all = kept;
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&all)
            .ok();
        let kind = automaton.map_or(Kind::Off, Kind::Dfa);
        Prefilter { kind }
    }

    /// Whether a rule can match `text`. `check(start)` says whether a rule matches
    /// anchored at `start`: it is asked at each place a keyword says a match may
    /// begin, and its first `true` makes the verdict [`Verdict::Match`].
    pub fn verdict(&self, text: &str, check: &mut dyn FnMut(usize) -> bool) -> Verdict {
        match &self.kind {
            Kind::Off => Verdict::Whole,
            Kind::Packed(p) => p.verdict(text.as_bytes(), check),
            Kind::Dfa(ac) if ac.is_match(text.as_bytes()) => Verdict::Whole,
            Kind::Dfa(_) => Verdict::Clean,
        }
    }

    /// False only when no literal of any rule is in `text`.
    #[cfg(test)]
    pub fn may_match(&self, text: &str) -> bool {
        self.verdict(text, &mut |_| true) != Verdict::Clean
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

/// [`minimal`] of `all`, with each kept literal's side (`Suffix` if it, or any literal
/// left out for holding it, ends matches) and the offsets a left-out prefix literal
/// holds a kept one at (0 first).
fn reduce(all: &[Literal]) -> (Vec<Vec<u8>>, Vec<Side>, Vec<usize>) {
    let kept = minimal(all.iter().map(|(l, _)| l.clone()).collect());
    let mut backs = vec![0];
    let sides = kept
        .iter()
        .map(|k| {
            let mut side = Side::Prefix;
            for (lit, lit_side) in all {
                let at =
                    (0..=lit.len().saturating_sub(k.len())).filter(|&i| lit[i..].starts_with(k));
                let at: Vec<usize> = at.collect();
                match (at.is_empty(), lit_side) {
                    (true, _) => {}
                    (false, Side::Suffix) => side = Side::Suffix,
                    (false, Side::Prefix) => backs.extend(at),
                }
            }
            side
        })
        .collect();
    backs.sort_unstable();
    backs.dedup();
    (kept, sides, backs)
}

/// The literals (ASCII-lowercased) one of which every match of `pattern` starts or
/// ends with, whichever side gives the longer shortest literal, and that side; `None`
/// when neither side gives a useful set (finite, at most [`MAX_LITERALS`], none empty
/// or a lone letter or digit).
fn literals(pattern: &str) -> Option<(Side, Vec<Vec<u8>>)> {
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
    let prefix = side(ExtractKind::Prefix).map(|(n, l)| (n, (Side::Prefix, l)));
    let suffix = side(ExtractKind::Suffix).map(|(n, l)| (n, (Side::Suffix, l)));
    let best = match (prefix, suffix) {
        (Some(p), Some(s)) => Some(if s.0 > p.0 { s } else { p }),
        (p, s) => p.or(s),
    };
    best.map(|(_, side_lits)| side_lits)
}

#[cfg(test)]
mod tests;
