//! The prefilter's literals, windows and verdicts.

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
    assert_eq!(
        got,
        (Side::Prefix, vec![b"akia".to_vec(), b"asia".to_vec()])
    );
    // Starts with a letter class: the suffix `@` is used instead.
    let got = literals(r#"(\b(?i-u:[a-z][a-z0-9+.-]*)://[^\s:/@"']+:)[^\s/@"']+@"#);
    assert_eq!(got.unwrap(), (Side::Suffix, vec![b"@".to_vec()]));
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
    let all: Vec<Literal> = rules
        .flat_map(|r| {
            let (side, lits) = literals(r).unwrap();
            lits.into_iter().map(move |l| (l, side))
        })
        .collect();
    let (lits, sides, backs) = reduce(&all);
    let packed = Packed::new(&lits, &sides, backs).expect("the default literals fit");
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
        for len in [0, 1, 2, 40, WINDOW - 20, WINDOW, WINDOW + 7, 3 * WINDOW] {
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
