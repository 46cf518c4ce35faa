//! Parser tests for log queries: selectors, line filters, every stage, label filters,
//! and the errors Loki gives.

use super::parse;
use crate::aggregator::logql::ast::*;
use promql_parser::label::MatchOp;

fn log(q: &str) -> LogExpr {
    match parse(q) {
        Ok(Expr::Log(l)) => l,
        other => panic!("{q}: {other:?}"),
    }
}

fn stages(q: &str) -> Vec<Stage> {
    log(q).stages
}

fn err(q: &str) -> String {
    match parse(q) {
        Err(e) => e.to_string(),
        Ok(e) => panic!("{q} parsed: {e:?}"),
    }
}

#[test]
fn selector_with_every_matcher_kind() {
    let l = log(r#"{app="api", env!="dev", pod=~"api-.*", ns!~"kube|sys"}"#);
    let ops: Vec<String> = l
        .matchers
        .iter()
        .map(|m| format!("{}{}{}", m.name, m.op, m.value))
        .collect();
    assert_eq!(ops, ["app=api", "env!=dev", "pod=~api-.*", "ns!~kube|sys"]);
    // Regexes are fully anchored, as in Loki.
    assert!(l.matchers[2].is_match("api-1"));
    assert!(!l.matchers[2].is_match("xapi-1"));
    assert!(l.matchers[3].is_match("kubex"));
    assert!(!l.matchers[3].is_match("kube"));
    assert!(matches!(l.matchers[0].op, MatchOp::Equal));
}

#[test]
fn selector_needs_a_non_empty_matcher() {
    assert!(
        err(r#"{app=~".*"}"#).contains("queries require at least one regexp or equality matcher")
    );
    assert!(err("{}").contains("queries require"));
    log(r#"{app=~".+"}"#);
}

#[test]
fn line_filters_chain_with_or_and_backticks() {
    let s = stages(r#"{a="b"} |= "x" != `y\d` |~ "(?i)err" !~ "a.c" |= "p" or "q""#);
    let want = [
        (LineOp::Contains, vec!["x"]),
        (LineOp::NotContains, vec![r"y\d"]),
        (LineOp::Match, vec!["(?i)err"]),
        (LineOp::NotMatch, vec!["a.c"]),
        (LineOp::Contains, vec!["p", "q"]),
    ];
    assert_eq!(s.len(), want.len());
    for (got, (op, pats)) in s.iter().zip(want) {
        assert_eq!(
            got,
            &Stage::LineFilter(LineFilter {
                op,
                patterns: pats.iter().map(|p| p.to_string()).collect()
            })
        );
    }
}

#[test]
fn go_string_escapes() {
    let s = stages(r#"{a="b"} |= "tab\there \"q\" \u00e9 \x41""#);
    assert_eq!(
        s[0],
        Stage::LineFilter(LineFilter {
            op: LineOp::Contains,
            patterns: vec!["tab\there \"q\" é A".into()]
        })
    );
    assert!(err(r#"{a="b"} |~ "\d""#).contains("invalid escape"));
}

#[test]
fn parsers_with_params_and_flags() {
    let s = stages(
        r#"{a="b"} | json | json first="servers[0]", ua="request.headers[\"User-Agent\"]", level | logfmt --strict --keep-empty | logfmt host, ip="fwd" | regexp "(?P<method>\\w+) (?P<path>\\S+)" | pattern "<ip> - <_> <status>" | unpack"#,
    );
    assert_eq!(s[0], Stage::Json(vec![]));
    assert_eq!(
        s[1],
        Stage::Json(vec![
            JsonParam {
                label: "first".into(),
                path: "servers[0]".into()
            },
            JsonParam {
                label: "ua".into(),
                path: r#"request.headers["User-Agent"]"#.into()
            },
            JsonParam {
                label: "level".into(),
                path: "level".into()
            },
        ])
    );
    assert_eq!(
        s[2],
        Stage::Logfmt(LogfmtParams {
            strict: true,
            keep_empty: true,
            params: vec![]
        })
    );
    assert_eq!(
        s[3],
        Stage::Logfmt(LogfmtParams {
            params: vec![("host".into(), "host".into()), ("ip".into(), "fwd".into())],
            ..Default::default()
        })
    );
    assert_eq!(s[4], Stage::Regexp(r"(?P<method>\w+) (?P<path>\S+)".into()));
    assert_eq!(s[5], Stage::Pattern("<ip> - <_> <status>".into()));
    assert_eq!(s[6], Stage::Unpack);
}

#[test]
fn bad_regexp_and_pattern_stages_are_parse_errors() {
    assert!(err(r#"{a="b"} | regexp "(unclosed""#).contains("error parsing regexp"));
    assert!(err(r#"{a="b"} | regexp "\\w+""#).contains("at least one named capture"));
    assert!(err(r#"{a="b"} | pattern "<a><b>""#).contains("consecutive capture"));
    assert!(err(r#"{a="b"} | pattern "no captures""#).contains("at least one capture"));
    assert!(err(r#"{a="b"} |~ "(""#).contains("error parsing regexp"));
}

#[test]
fn label_filters_string_numeric_duration_bytes() {
    let s = stages(
        r#"{a="b"} | level="error" | status >= 500 | latency > 1m30s | size <= 20MB | code != 200 | x == -1.5 | name=~"a.+""#,
    );
    assert!(
        matches!(&s[0], Stage::LabelFilter(LabelFilter::Str(m)) if m.name == "level" && m.value == "error")
    );
    assert_eq!(
        s[1],
        Stage::LabelFilter(LabelFilter::Number {
            name: "status".into(),
            op: CmpOp::Ge,
            value: 500.0
        })
    );
    assert_eq!(
        s[2],
        Stage::LabelFilter(LabelFilter::Duration {
            name: "latency".into(),
            op: CmpOp::Gt,
            value: 90.0
        })
    );
    assert_eq!(
        s[3],
        Stage::LabelFilter(LabelFilter::Bytes {
            name: "size".into(),
            op: CmpOp::Le,
            value: 20e6
        })
    );
    assert_eq!(
        s[4],
        Stage::LabelFilter(LabelFilter::Number {
            name: "code".into(),
            op: CmpOp::Ne,
            value: 200.0
        })
    );
    assert_eq!(
        s[5],
        Stage::LabelFilter(LabelFilter::Number {
            name: "x".into(),
            op: CmpOp::Eq,
            value: -1.5
        })
    );
    assert!(
        matches!(&s[6], Stage::LabelFilter(LabelFilter::Str(m)) if m.is_match("abc") && !m.is_match("xabc"))
    );
}

#[test]
fn label_filter_boolean_structure() {
    let s = stages(r#"{a="b"} | a="1" or b="2" and c="3", d="4" | (a="1" or b="2") e="5""#);
    let Stage::LabelFilter(LabelFilter::Or(l, r)) = &s[0] else {
        panic!("{:?}", s[0])
    };
    assert!(matches!(**l, LabelFilter::Str(_)));
    // `and`/`,` bind tighter than `or`: b and c and d.
    let LabelFilter::And(bc, d) = &**r else {
        panic!("{r:?}")
    };
    assert!(matches!(**bc, LabelFilter::And(..)));
    assert!(matches!(&**d, LabelFilter::Str(m) if m.name == "d"));
    let Stage::LabelFilter(LabelFilter::And(paren, e)) = &s[1] else {
        panic!("{:?}", s[1])
    };
    assert!(matches!(**paren, LabelFilter::Or(..)));
    assert!(matches!(&**e, LabelFilter::Str(m) if m.name == "e"));
}

#[test]
fn formatters_drop_keep_decolorize() {
    let s = stages(
        r#"{a="b"} | line_format "{{.a}} {{ .b | ToUpper }}" | label_format new=old, x="{{.y}}" | drop a, b="v", __error__ | keep c, d=~"x.*" | decolorize"#,
    );
    assert_eq!(s[0], Stage::LineFormat("{{.a}} {{ .b | ToUpper }}".into()));
    assert_eq!(
        s[1],
        Stage::LabelFormat(vec![
            LabelFmt::Rename {
                dst: "new".into(),
                src: "old".into()
            },
            LabelFmt::Template {
                dst: "x".into(),
                template: "{{.y}}".into()
            },
        ])
    );
    let Stage::Drop(d) = &s[2] else { panic!() };
    assert_eq!(d.len(), 3);
    assert_eq!(d[0], LabelSel::Name("a".into()));
    assert!(matches!(&d[1], LabelSel::Matcher(m) if m.name == "b" && m.value == "v"));
    let Stage::Keep(k) = &s[3] else { panic!() };
    assert!(matches!(&k[1], LabelSel::Matcher(m) if m.is_match("xyz")));
    assert_eq!(s[4], Stage::Decolorize);
}

#[test]
fn bad_templates_and_label_format_duplicates() {
    assert!(err(r#"{a="b"} | line_format "{{.a""#).contains("unclosed action"));
    assert!(
        err(r#"{a="b"} | line_format "{{ nope .a }}""#).contains("function \"nope\" not defined")
    );
    assert!(err(r#"{a="b"} | line_format "{{ if .a }}x{{ end }}""#).contains("not supported"));
    assert!(err(r#"{a="b"} | label_format x=a, x="{{.b}}""#).contains("multiple label name 'x'"));
}

#[test]
fn comments_and_whitespace() {
    let s = stages("{a=\"b\"} # the app\n |= \"x\" # only x\n");
    assert_eq!(s.len(), 1);
}

#[test]
fn json_paths_are_checked_at_parse_time() {
    for bad in [r#"a[x]"#, r#"a..b"#, r#"["open"#, r#".a"#, r#"a["#] {
        let q = format!(r#"{{a="b"}} | json x="{}""#, bad.replace('"', "\\\""));
        assert!(err(&q).contains("invalid JSON path"), "{q}");
    }
    stages(r#"{a="b"} | json x="a.b[2].c", y="[\"k\"][0]""#);
}
