//! The prefilter's verdict (anchored checks at keywords) against the plain answer, the
//! `RegexSet` over the whole line, on generated lines: keywords in every case, near and
//! across the prefilter's window edges, with and without a secret after them.

use super::*;
use proptest::prelude::*;

/// Pieces lines are built of: keywords of the default rules and of the user rules
/// below, what may follow them, and filler.
const PIECES: &[&str] = &[
    "password",
    "PassWord",
    "pwd",
    "secret",
    "aws_secret_access_key",
    "SecretAccessKey",
    "api-key",
    "apikey",
    "token",
    "TOKEN",
    "bearer ",
    "Bearer abc.def-1",
    "authorization",
    "Authorization: Basic ",
    "AKIA",
    "AKIAABCDEFGHIJKLMNOP",
    "ASIA0123456789ABCDEF",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "://",
    "user:pw@",
    "@",
    "=",
    " = ",
    ":",
    "\"",
    "\\\"",
    "'",
    " ",
    "  ",
    "\t",
    "x",
    "hunter2",
    "{\"a\":",
    "ticket-",
    "TICKET-4711",
    "4711",
    "sess=",
    "route",
    "retry",
    "==",
];

fn line() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(PIECES);
    let pad = prop_oneof![Just(0usize), 1usize..40, 480usize..540, 4060usize..4120];
    (prop::collection::vec((piece, pad), 0..12)).prop_map(|parts| {
        let mut s = String::new();
        for (p, pad) in parts {
            s.extend(std::iter::repeat_n('q', pad));
            s.push_str(p);
        }
        s
    })
}

fn redactors() -> &'static [Redactor] {
    static ALL: std::sync::OnceLock<Vec<Redactor>> = std::sync::OnceLock::new();
    ALL.get_or_init(build)
}

fn build() -> Vec<Redactor> {
    let user = |defaults, rules: &[(&str, &str)]| {
        let rules = rules.iter().map(|(n, p)| RuleConfig {
            name: (*n).to_owned(),
            pattern: (*p).to_owned(),
            replacement: REDACTED.to_owned(),
        });
        let config = RedactConfig {
            defaults,
            rules: rules.collect(),
        };
        Redactor::new(&config).expect("valid rules")
    };
    vec![
        user(true, &[]),
        // A prefix rule, a suffix rule (ends with a literal), and one with neither.
        user(
            true,
            &[
                ("ticket", r"(?i)ticket-\d+"),
                ("sess", r"[a-z]+=\d{4}route"),
            ],
        ),
        user(false, &[("ticket", r"(?i)ticket-\d+")]),
        user(false, &[("anything", r"\d{4}")]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn the_verdict_agrees_with_the_set_over_the_whole_line(text in line()) {
        for r in redactors() {
            prop_assert_eq!(r.may_match(&text), r.set.is_match(&text), "{:?}", text);
        }
    }
}

#[test]
fn a_keyword_with_no_secret_after_it_is_clean_and_one_with_a_secret_is_not() {
    let r = &redactors()[0];
    let long = "q".repeat(40_000);
    for (text, want) in [
        (format!("{long} password is required {long}"), false),
        (format!("{long} password=hunter2 {long}"), true),
        (format!("{long}aws_secret_access_key: abc{long}"), true),
        (format!("{long}SECRETACCESSKEY=abc"), true),
        (format!("x@{long}"), false),
        (format!("https://u:p@{long}"), true),
    ] {
        assert_eq!(r.may_match(&text), want, "{}", &text[..60.min(text.len())]);
        assert_eq!(r.set.is_match(&text), want);
    }
}
