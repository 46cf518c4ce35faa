//! [`required_substrings`]: the byte strings every line a pipeline keeps contains — the
//! store's `must_contain` hint, which lets it skip blocks (by their trigram filters)
//! and lines (by `memmem`) before the pipeline runs. From each single-pattern `|=`
//! filter its pattern; from each single-pattern `|~` filter the literals every match of
//! its regex must contain (the literal runs of its top-level concatenation, across
//! zero-width assertions, looking through groups and repetitions of at least one), as parsed by `regex-syntax`.
//! Case-insensitive parts, classes and alternations give none: the hint is only ever
//! a necessary condition.

use crate::aggregator::logql::ast::{LineFilter, LineOp, Stage};
use regex_syntax::hir::{Hir, HirKind};
use std::borrow::Cow;

/// Each filter's required strings, up to the first stage that rewrites the line.
pub fn required_substrings(stages: &[Stage]) -> Vec<Cow<'_, [u8]>> {
    let mut out = Vec::new();
    for stage in stages {
        match stage {
            Stage::LineFilter(LineFilter { op, patterns }) if patterns.len() == 1 => {
                let p = &patterns[0];
                match op {
                    LineOp::Contains if !p.is_empty() => out.push(Cow::Borrowed(p.as_bytes())),
                    LineOp::Match => out.extend(regex_literals(p).into_iter().map(Cow::Owned)),
                    _ => {}
                }
            }
            Stage::LineFormat(_) | Stage::Decolorize | Stage::Unpack => break,
            _ => {}
        }
    }
    out
}

/// The non-empty literals every match of `pattern` contains (none if it does not
/// parse: the filter's own compilation reports that).
fn regex_literals(pattern: &str) -> Vec<Vec<u8>> {
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    required(&hir, &mut out);
    out.retain(|l| !l.is_empty());
    out
}

/// Adds the literals every match of `h` contains.
fn required(h: &Hir, out: &mut Vec<Vec<u8>>) {
    match h.kind() {
        HirKind::Literal(l) => out.push(l.0.to_vec()),
        HirKind::Capture(c) => required(&c.sub, out),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub, out),
        HirKind::Concat(subs) => {
            let mut run: Vec<u8> = Vec::new();
            for sub in subs {
                match sub.kind() {
                    HirKind::Literal(l) => {
                        run.extend_from_slice(&l.0);
                        continue;
                    }
                    HirKind::Look(_) => continue, // zero-width: the run goes on
                    _ => {}
                }
                out.push(std::mem::take(&mut run));
                required(sub, out);
            }
            out.push(run);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_give_the_literals_every_match_contains() {
        let cases: &[(&str, &[&str])] = &[
            ("payment declined", &["payment declined"]),
            ("payment.*declined", &["payment", "declined"]),
            (r"status=5\d\d", &["status=5"]),
            ("(?:order|cart) (created)+ ok", &[" ", "created", " ok"]),
            (r"\bERROR\b: (disk|net)", &["ERROR: "]),
            ("(?i)error", &[]),
            ("a|b", &[]),
            ("(abc)?def", &["def"]),
            ("x*", &[]),
            ("(unclosed", &[]),
            ("ünï.code", &["ünï", "code"]),
        ];
        for (re, want) in cases {
            let got = regex_literals(re);
            let want: Vec<Vec<u8>> = want.iter().map(|w| w.as_bytes().to_vec()).collect();
            assert_eq!(got, want, "{re}");
        }
    }

    #[test]
    fn every_line_a_regex_matches_holds_its_literals() {
        let lines = [
            "ERROR: disk full",
            "payment was declined",
            "status=503 x",
            "cart created ok",
        ];
        for re in [
            r"\bERROR\b: (disk|net)",
            "payment.*declined",
            r"status=5\d\d",
            "(?:order|cart) (created)+ ok",
        ] {
            let r = regex::Regex::new(re).unwrap();
            for line in lines.iter().filter(|l| r.is_match(l)) {
                for lit in regex_literals(re) {
                    assert!(
                        memchr::memmem::find(line.as_bytes(), &lit).is_some(),
                        "{re} {line}"
                    );
                }
            }
        }
    }
}
