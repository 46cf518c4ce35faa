//! Tests of redaction: a table per default rule (secrets and look-alikes that must stay),
//! JSON lines, user rules and their validation errors, counters, and redact-then-lift.

use super::*;
use crate::agent::logs::applog::{self, Level, Shape};

fn defaults() -> Redactor {
    Redactor::new(&RedactConfig::default()).expect("the default rules are valid")
}

/// Each (line, expected) through the default rules; `None` expects the line untouched
/// and borrowed.
fn check(cases: &[(&str, Option<&str>)]) {
    let r = defaults();
    let mut stats = r.new_stats();
    for &(line, want) in cases {
        let got = r.redact(line, &mut stats);
        match want {
            Some(want) => assert_eq!(got, want, "{line}"),
            None => assert!(
                matches!(got, Cow::Borrowed(l) if l == line),
                "{line} → {got}"
            ),
        }
    }
}

#[test]
fn secret_kv() {
    check(&[
        (
            "login password=hunter2 ok",
            Some("login password=[REDACTED] ok"),
        ),
        ("PASSWORD=hunter2", Some("PASSWORD=[REDACTED]")),
        (
            "db_password=\"a b c\" x=1",
            Some("db_password=[REDACTED] x=1"),
        ),
        (
            "passwd='p w' pwd=x",
            Some("passwd=[REDACTED] pwd=[REDACTED]"),
        ),
        (
            "client_secret=abc&grant=x",
            Some("client_secret=[REDACTED]&grant=x"),
        ),
        (
            "GET /v1?api_key=abc123&q=1",
            Some("GET /v1?api_key=[REDACTED]&q=1"),
        ),
        (
            "apikey=1, api-key=2; ApiKey=3",
            Some("apikey=[REDACTED], api-key=[REDACTED]; ApiKey=[REDACTED]"),
        ),
        ("--token=abc --other", Some("--token=[REDACTED] --other")),
        ("refresh_token = abc", Some("refresh_token = [REDACTED]")),
        ("password reset link sent", None),
        ("tokenizer=bpe loaded", None),
        ("max_tokens=100", None),
        ("password_reset=true token_count=5", None),
        ("secretary=bob", None),
        ("the password is wrong", None),
    ]);
}

#[test]
fn secret_json() {
    check(&[
        (
            r#"{"user":"bob","password":"hunter2"}"#,
            Some(r#"{"user":"bob","password":"[REDACTED]"}"#),
        ),
        (
            r#"{"Password" : "a\"b","n":1}"#,
            Some(r#"{"Password" : "[REDACTED]\"b","n":1}"#),
        ),
        (
            r#"{"db.passwd":"x","api_key":"y","access_token":"z"}"#,
            Some(
                r#"{"db.passwd":"[REDACTED]","api_key":"[REDACTED]","access_token":"[REDACTED]"}"#,
            ),
        ),
        (
            r#"{"msg":"body {\"password\":\"hunter2\"}"}"#,
            Some(r#"{"msg":"body {\"password\":\"[REDACTED]\"}"}"#),
        ),
        (r#"{"password":""}"#, None),
        (
            r#"{"password_reset_sent":true,"tokenizer":"bpe","tokens":"5"}"#,
            None,
        ),
        (r#"{"msg":"password reset link sent"}"#, None),
    ]);
}

#[test]
fn bearer_and_authorization() {
    check(&[
        (
            "Authorization: Bearer abc.def-ghi",
            Some("Authorization: Bearer [REDACTED]"),
        ),
        (
            "authorization=Basic dXNlcjpwYXNz",
            Some("authorization=Basic [REDACTED]"),
        ),
        (
            r#"{"Authorization":"Bearer xyz"}"#,
            Some(r#"{"Authorization":"Bearer [REDACTED]"}"#),
        ),
        (
            "header authorization: opaque",
            Some("header authorization: [REDACTED]"),
        ),
        (
            "sent bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
            Some("sent bearer [REDACTED]"),
        ),
        ("bearer abcdefghijklmnopqrstuvwx", Some("bearer [REDACTED]")),
        ("token: Bearer ab12==", Some("token: Bearer [REDACTED]")),
        ("the bearer of bad news", None),
        ("bearer information", None),
        ("authorization failed for user bob", None),
    ]);
}

#[test]
fn aws_keys() {
    check(&[
        ("key AKIAIOSFODNN7EXAMPLE used", Some("key [REDACTED] used")),
        ("ASIAY34FZKBOKMUTVV7A", Some("[REDACTED]")),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            Some("aws_secret_access_key=[REDACTED]"),
        ),
        (
            r#"{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"}"#,
            Some(r#"{"SecretAccessKey": "[REDACTED]"}"#),
        ),
        (
            "AWS_SECRET_ACCESS_KEY: abc+/=",
            Some("AWS_SECRET_ACCESS_KEY: [REDACTED]"),
        ),
        ("AKIAIOSFODNN7EXAMPL", None),
        ("XAKIAIOSFODNN7EXAMPLE", None),
        ("akiaiosfodnn7example", None),
        ("aws_access_key_id is set", None),
    ]);
}

#[test]
fn private_keys() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----";
    check(&[
        (
            &format!("loaded {pem} ok"),
            Some(
                "loaded -----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY----- ok",
            ),
        ),
        (
            r"key=-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            Some(r"key=-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----\n"),
        ),
        (
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE [truncated 900 bytes]",
            Some("-----BEGIN EC PRIVATE KEY-----[REDACTED]"),
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
            None,
        ),
        ("-----BEGIN PUBLIC KEY-----", None),
    ]);
}

#[test]
fn url_basic_auth() {
    check(&[
        (
            "GET https://user:pass@host/x",
            Some("GET https://user:[REDACTED]@host/x"),
        ),
        (
            "dsn=postgres://app:s3cr%40t@db:5432/app",
            Some("dsn=postgres://app:[REDACTED]@db:5432/app"),
        ),
        (
            r#"{"url":"redis://default:pw@cache:6379"}"#,
            Some(r#"{"url":"redis://default:[REDACTED]@cache:6379"}"#),
        ),
        ("http://host:8080/path", None),
        ("https://user@host/x", None),
        ("mailto:someone@example.com", None),
        ("ssh://git@github.com:22/x.git", None),
    ]);
}

#[test]
fn json_stays_json_and_lifting_reads_the_redacted_line() {
    let r = defaults();
    let mut stats = r.new_stats();
    let line =
        r#"{"level":"error","msg":"login failed password=hunter2","trace_id":"t","token":"abc"}"#;
    let red = r.redact(line, &mut stats);
    let (shape, f) = applog::lift(&red, applog::DEFAULT_MAX_LIFT_BYTES);
    assert_eq!(shape, Shape::Json);
    assert_eq!(f.level, Some(Level::Error));
    assert_eq!(
        f.message.as_deref(),
        Some("login failed password=[REDACTED]")
    );
    assert!(!red.contains("hunter2") && !red.contains("abc"));
    assert!(serde_json::from_str::<serde_json::Value>(&red).is_ok());
}

#[test]
fn counters_per_rule_and_per_line() {
    let r = defaults();
    let mut stats = r.new_stats();
    for line in ["password=a token=b", "nothing here", "AKIAIOSFODNN7EXAMPLE"] {
        r.redact(line, &mut stats);
    }
    assert_eq!((stats.lines, stats.lines_redacted), (3, 2));
    let count = |name: &str| {
        stats
            .per_rule
            .iter()
            .find(|c| &*c.rule == name)
            .unwrap()
            .replacements
    };
    assert_eq!(count("secret_kv"), 2);
    assert_eq!(count("aws_access_key_id"), 1);
    assert_eq!(count("bearer_token"), 0);
    let names: Vec<_> = stats.per_rule.iter().map(|c| &*c.rule).collect();
    assert_eq!(names, r.rule_names().collect::<Vec<_>>());
}

fn user(defaults: bool, rules: &[(&str, &str, &str)]) -> Result<Redactor, RedactConfigError> {
    let rules = rules
        .iter()
        .map(|&(name, pattern, replacement)| RuleConfig {
            name: name.into(),
            pattern: pattern.into(),
            replacement: replacement.into(),
        });
    Redactor::new(&RedactConfig {
        defaults,
        rules: rules.collect(),
    })
}

#[test]
fn user_rules_run_after_the_defaults() {
    let r = user(true, &[("ssn", r"\b\d{3}-\d{2}-(\d{4})\b", "***-**-$1")]).unwrap();
    let mut stats = r.new_stats();
    let got = r.redact("ssn 123-45-6789 password=x", &mut stats);
    assert_eq!(got, "ssn ***-**-6789 password=[REDACTED]");
    assert_eq!(stats.per_rule.last().unwrap().replacements, 1);
}

#[test]
fn defaults_can_be_turned_off() {
    let r = user(false, &[("card", r"\b4\d{15}\b", "[CARD]")]).unwrap();
    assert_eq!(r.rule_names().collect::<Vec<_>>(), ["card"]);
    let mut stats = r.new_stats();
    assert_eq!(
        r.redact("password=x 4111111111111111", &mut stats),
        "password=x [CARD]"
    );
    let none = user(false, &[]).unwrap();
    assert!(matches!(
        none.redact("password=x", &mut none.new_stats()),
        Cow::Borrowed(_)
    ));
}

#[test]
fn invalid_user_rules_fail_naming_the_rule() {
    let err = user(true, &[("ok", "a", "b"), ("broken", "(unclosed", "x")]).unwrap_err();
    assert!(matches!(&err, RedactConfigError::Pattern { name, .. } if name == "broken"));
    assert!(err.to_string().contains("\"broken\""), "{err}");
    let cases = [
        (
            ("empty", "x*", "y"),
            RedactConfigError::MatchesEmpty {
                name: "empty".into(),
            },
        ),
        (
            ("typo", "(a)", "$1x"),
            RedactConfigError::UnknownGroup {
                name: "typo".into(),
                group: "1x".into(),
            },
        ),
        (
            ("group2", "(a)", "${2}"),
            RedactConfigError::UnknownGroup {
                name: "group2".into(),
                group: "2".into(),
            },
        ),
        (
            ("named", "(?P<k>a)", "$v"),
            RedactConfigError::UnknownGroup {
                name: "named".into(),
                group: "v".into(),
            },
        ),
        (
            ("secret_kv", "a", "b"),
            RedactConfigError::DuplicateName {
                name: "secret_kv".into(),
            },
        ),
        (("", "a", "b"), RedactConfigError::EmptyName { index: 0 }),
    ];
    for (rule, want) in cases {
        assert_eq!(user(true, &[rule]).unwrap_err(), want, "{rule:?}");
    }
    for ok in ["$$1", "${k}-$0", "${k}_", "plain", "$"] {
        assert!(user(false, &[("r", "(?P<k>a)", ok)]).is_ok(), "{ok}");
    }
}

#[test]
fn config_from_yaml_rejects_unknown_fields() {
    let yaml = "defaults: false\nrules:\n  - name: ssn\n    pattern: '\\d{3}-\\d{2}-\\d{4}'\n";
    let c: RedactConfig = serde_norway::from_str(yaml).unwrap();
    assert!(!c.defaults);
    assert_eq!(c.rules[0].replacement, REDACTED);
    assert_eq!(
        serde_norway::from_str::<RedactConfig>("{}").unwrap(),
        RedactConfig::default()
    );
    let bad = "rules:\n  - name: x\n    pattern: a\n    replace: b\n";
    let err = serde_norway::from_str::<RedactConfig>(bad).unwrap_err();
    assert!(err.to_string().contains("replace"), "{err}");
}
