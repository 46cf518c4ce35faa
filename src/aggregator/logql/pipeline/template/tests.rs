//! Template tests: rendering against labels, functions, pipes, trims, and errors.

use super::exec::Ctx;
use super::Template;
use crate::aggregator::logql::pipeline::labels::LabelSet;
use crate::aggregator::model::Labels;
use crate::civil::go_time;

fn render(src: &str, labels: &[(&str, &str)], line: &str) -> Result<String, String> {
    let t = Template::new(src).map_err(|e| e.to_string())?;
    let mut set = LabelSet::default();
    set.reset(&Labels::from_pairs(labels), &[]);
    let mut out = String::new();
    let ctx = Ctx {
        line,
        ts: 1_700_000_000_123_000_000,
        labels: &set,
    };
    t.render(&ctx, &mut out, 1000).map_err(|e| e.to_string())?;
    Ok(out)
}

#[test]
fn fields_functions_and_pipes() {
    let l = [("a", "Hello"), ("b", "world"), ("n", "  pad  ")];
    let cases = [
        ("{{.a}} {{ .b | ToUpper }}", "Hello WORLD"),
        (
            "{{ ToLower .a }}/{{ .a | lower }}/{{ upper .b }}",
            "hello/hello/WORLD",
        ),
        ("[{{ .missing }}]", "[]"),
        (
            "{{ .a | trunc 3 }}|{{ trunc -2 .b }}|{{ trunc 99 .b }}",
            "Hel|ld|world",
        ),
        ("{{ replace \"l\" \"L\" .a }}", "HeLLo"),
        (
            "{{ .missing | default \"none\" }} {{ default \"x\" .a }}",
            "none Hello",
        ),
        ("[{{ .n | trim }}][{{ TrimSpace .n }}]", "[pad][pad]"),
        (
            "{{ trimPrefix \"He\" .a }} {{ TrimSuffix .b \"ld\" }} {{ trimAll \"Ho\" .a }}",
            "llo wor ell",
        ),
        ("{{ substr 1 3 .a }}", "el"),
        ("{{ .b | title }}", "World"),
        ("{{ repeat 3 .b | trunc 7 }}", "worldwo"),
        ("{{ Replace .a \"l\" \"_\" 1 }}", "He_lo"),
        ("{{ ToUpper (trunc 2 .a) }}!", "HE!"),
        ("line={{ __line__ }}", "line=raw line"),
        ("{{ __line__ | ToUpper }}", "RAW LINE"),
        ("{{ __timestamp__ }}", "2023-11-14 22:13:20.123 +0000 UTC"),
        ("{{ unixEpoch __timestamp__ }}", "1700000000"),
        ("a  {{- .a -}}  b", "aHellob"),
        ("no actions", "no actions"),
        ("{{`raw {{`}}", "raw {{"),
    ];
    for (src, want) in cases {
        assert_eq!(render(src, &l, "raw line").as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn parse_errors() {
    for (src, want) in [
        ("{{ .a", "unclosed action"),
        ("{{ nope }}", "function \"nope\" not defined"),
        ("{{ if .a }}{{ end }}", "is not supported"),
        ("{{ .a | .b }}", "non executable command"),
        ("{{ trunc .a }}", "wrong number of args for trunc"),
        ("{{ . }}", "'.' alone"),
        ("{{ \"open }}", "unterminated quoted string"),
        ("{{ (ToUpper .a }}", "unclosed left paren"),
        ("{{ }}", "missing value"),
    ] {
        let e = render(src, &[], "").unwrap_err();
        assert!(e.contains(want), "{src}: {e}");
    }
}

#[test]
fn runtime_errors_and_limits() {
    let e = render("{{ trunc .a .b }}", &[("a", "x"), ("b", "y")], "").unwrap_err();
    assert!(e.contains("expected an integer"), "{e}");
    let e = render("{{ repeat 100000 .a }}", &[("a", "xx")], "").unwrap_err();
    assert!(e.contains("over the limit"), "{e}");
    let e = render("{{ .a }}{{ .a }}", &[("a", &"x".repeat(600))], "").unwrap_err();
    assert!(e.contains("over the limit"), "{e}");
}

#[test]
fn go_time_format() {
    assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
    assert_eq!(
        go_time(951_782_400_000_000_001),
        "2000-02-29 00:00:00.000000001 +0000 UTC"
    );
    assert_eq!(go_time(-1_000_000_000), "1969-12-31 23:59:59 +0000 UTC");
}
