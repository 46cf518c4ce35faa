//! Parser error tests: Loki's message shape and positions, and the size and depth
//! limits that keep hostile queries from exhausting memory or the stack.

use super::parse;

fn err(q: &str) -> String {
    match parse(q) {
        Err(e) => e.to_string(),
        Ok(e) => panic!("{q} parsed: {e:?}"),
    }
}

#[test]
fn errors_name_position_and_token() {
    assert_eq!(err(r#"{app="foo"} | foo bar"#), "parse error at line 1, col 19: syntax error: unexpected IDENTIFIER, expecting a comparison operator");
    assert_eq!(
        err(r#"{app="foo""#),
        r#"parse error at line 1, col 11: syntax error: unexpected $end, expecting "}""#
    );
    assert_eq!(
        err("{app=\"foo\"}\n  |= 3"),
        "parse error at line 2, col 6: syntax error: unexpected NUMBER, expecting STRING"
    );
    assert!(err(r#"{app="foo"} |= "unterminated"#)
        .starts_with("parse error at line 1, col 16: unterminated string"));
    assert!(err(r#"{app="foo"} | unwrap x"#).contains("unwrap outside a range aggregation"));
    assert!(err("").contains("unexpected $end"));
    assert!(err(r#"{app="foo"} ?"#).contains("unexpected character '?'"));
}

#[test]
fn limits_refuse_huge_and_deep_queries() {
    use super::{parse_with, ParseLimits};
    let long = format!(r#"{{a="{}"}}"#, "x".repeat(200));
    let limits = ParseLimits {
        max_len: 100,
        ..Default::default()
    };
    assert!(parse_with(&long, limits)
        .unwrap_err()
        .to_string()
        .contains("over the limit"));
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&deep)
        .unwrap_err()
        .to_string()
        .contains("deeper than the limit"));
    let deep_filter = format!(
        r#"{{a="b"}} | {}x="1"{}"#,
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse(&deep_filter)
        .unwrap_err()
        .to_string()
        .contains("deeper than the limit"));
}

#[test]
fn operator_chains_count_toward_the_depth_limit() {
    let chain = |n: usize, op: &str| vec!["x=\"1\""; n].join(op);
    for op in [" or ", " and ", ", ", " "] {
        parse(&format!(r#"{{a="b"}} | {}"#, chain(100, op))).unwrap();
        let e = err(&format!(r#"{{a="b"}} | {}"#, chain(5000, op)));
        assert!(e.contains("deeper than the limit"), "{op:?}: {e}");
    }
    parse(&vec!["1"; 100].join(" + ")).unwrap();
    assert!(err(&vec!["1"; 10_000].join(" + ")).contains("deeper than the limit"));
    // Deep but allowed trees parse, print and drop on a test thread's stack.
    let nested = format!("{}vector(1){}", "sum(".repeat(60), ")".repeat(60));
    let e = parse(&nested).unwrap();
    assert!(e.to_string().starts_with("sum(sum("));
    let parens = format!("{}1{}", "(".repeat(120), ")".repeat(120));
    parse(&parens).unwrap();
}
