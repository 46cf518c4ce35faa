//! Pipeline tests: a table of (query, input entry, expected output) covering every
//! stage, Loki's error labels and name collisions.

use super::Pipeline;
use crate::aggregator::logql::ast::{Expr, LogExpr};
use crate::aggregator::logql::parse;
use crate::aggregator::model::Labels;

fn log_expr(q: &str) -> LogExpr {
    match parse(q) {
        Ok(Expr::Log(l)) => l,
        other => panic!("{q}: {other:?}"),
    }
}

/// Runs `q`'s pipeline on one line of stream `{app="api"}` with `meta`:
/// `Some((line, labels as {a="b", ...}))` or `None` when dropped.
pub(super) fn run(q: &str, line: &str, meta: &[(&str, &str)]) -> Option<(String, String)> {
    let mut p = Pipeline::new(&log_expr(q).stages).unwrap();
    let stream = Labels::from_pairs(&[("app", "api")]);
    let meta: Vec<(String, String)> = meta
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    p.process(1_000_000_000, line, &stream, &meta)
        .map(|(l, labels)| (l.to_string(), labels.to_string()))
}

pub(super) const S: &str = r#"{app="api"}"#;

/// (stages after the selector, input line, metadata, expected (line, labels) or None).
pub(super) type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<(&'static str, &'static str)>,
);

pub(super) const CASES: &[Case] = &[
    // Line filters.
    (
        r#"|= "err""#,
        "an error",
        &[],
        Some(("an error", r#"{app="api"}"#)),
    ),
    (r#"|= "err""#, "fine", &[], None),
    (r#"!= "err""#, "an error", &[], None),
    (
        r#"|~ "e.r""#,
        "an error",
        &[],
        Some(("an error", r#"{app="api"}"#)),
    ),
    (
        r#"|~ "(?i)ERROR""#,
        "an error",
        &[],
        Some(("an error", r#"{app="api"}"#)),
    ),
    (r#"!~ "^an""#, "an error", &[], None),
    (
        r#"|= "x" or "err""#,
        "an error",
        &[],
        Some(("an error", r#"{app="api"}"#)),
    ),
    (r#"!= "x" or "err""#, "an error", &[], None),
    (
        r#"|= "an" |= "or" != "warn""#,
        "an error",
        &[],
        Some(("an error", r#"{app="api"}"#)),
    ),
    (
        r#"|= """#,
        "anything",
        &[],
        Some(("anything", r#"{app="api"}"#)),
    ),
    // Structured metadata becomes labels; a stream-label clash gets _extracted.
    (
        "",
        "x",
        &[("trace", "t1"), ("app", "m")],
        Some(("x", r#"{app="api", app_extracted="m", trace="t1"}"#)),
    ),
    // json: flattened, sanitised, arrays skipped, numbers/bools as text.
    (
        "| json",
        r#"{"level":"info","req":{"method":"GET","dur-ms":12},"tags":["a"],"ok":true,"n":null}"#,
        &[],
        Some((
            r#"{"level":"info","req":{"method":"GET","dur-ms":12},"tags":["a"],"ok":true,"n":null}"#,
            r#"{app="api", level="info", ok="true", req_dur_ms="12", req_method="GET"}"#,
        )),
    ),
    (
        "| json",
        r#"{"app":"other","msg":"a \"q\" \u00e9"}"#,
        &[],
        Some((
            r#"{"app":"other","msg":"a \"q\" \u00e9"}"#,
            r#"{app="api", app_extracted="other", msg="a \"q\" é"}"#,
        )),
    ),
    (
        "| json",
        r#"{"1st":"x"}"#,
        &[],
        Some((r#"{"1st":"x"}"#, r#"{_1st="x", app="api"}"#)),
    ),
    (
        "| json",
        "not json",
        &[],
        Some((
            "not json",
            r#"{__error__="JSONParserErr", __error_details__="expected object at offset 0", app="api"}"#,
        )),
    ),
    (r#"| json | __error__="""#, "not json", &[], None),
    (r#"| json | __error__!="""#, "{\"a\":1}", &[], None),
    (
        r#"| json | drop __error__, __error_details__"#,
        "[1]",
        &[],
        Some(("[1]", r#"{app="api"}"#)),
    ),
    (
        r#"| json first="servers[0]", host="req.host", obj="req", q="[\"a b\"]""#,
        r#"{"servers":["s1","s2"],"req":{"host":"h"},"a b":5}"#,
        &[],
        Some((
            r#"{"servers":["s1","s2"],"req":{"host":"h"},"a b":5}"#,
            r#"{app="api", first="s1", host="h", obj="{\"host\":\"h\"}", q="5"}"#,
        )),
    ),
    // logfmt.
    (
        "| logfmt",
        r#"level=info msg="hello world" dur=1.5s empty= flag"#,
        &[],
        Some((
            r#"level=info msg="hello world" dur=1.5s empty= flag"#,
            r#"{app="api", dur="1.5s", level="info", msg="hello world"}"#,
        )),
    ),
    (
        "| logfmt",
        r#"a=1 b="unterminated"#,
        &[],
        Some((r#"a=1 b="unterminated"#, r#"{a="1", app="api"}"#)),
    ),
    (
        "| logfmt --strict",
        r#"a=1 =bad c=3"#,
        &[],
        Some((
            r#"a=1 =bad c=3"#,
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 5: unexpected '='", a="1", app="api"}"#,
        )),
    ),
    (
        "| logfmt",
        r#"a=1 =bad c=3"#,
        &[],
        Some((r#"a=1 =bad c=3"#, r#"{a="1", app="api", c="3"}"#)),
    ),
    (
        "| logfmt lvl=\"level\"",
        "level=warn x=1",
        &[],
        Some(("level=warn x=1", r#"{app="api", lvl="warn"}"#)),
    ),
    // regexp and pattern.
    (
        r#"| regexp "(?P<method>[A-Z]+) (?P<path>\\S+)( (?P<missing>\\d+))?""#,
        "GET /index.html",
        &[],
        Some((
            "GET /index.html",
            r#"{app="api", method="GET", path="/index.html"}"#,
        )),
    ),
    (
        r#"| regexp "(?P<n>\\d+)""#,
        "no digits",
        &[],
        Some(("no digits", r#"{app="api"}"#)),
    ),
    (
        r#"| pattern "<ip> - <_> [<ts>] \"<method> <path> <_>\" <status> <size>""#,
        r#"10.0.0.1 - u [01/Jan/2024] "GET /a HTTP/1.1" 200 512"#,
        &[],
        Some((
            r#"10.0.0.1 - u [01/Jan/2024] "GET /a HTTP/1.1" 200 512"#,
            r#"{app="api", ip="10.0.0.1", method="GET", path="/a", size="512", status="200", ts="01/Jan/2024"}"#,
        )),
    ),
    (
        r#"| pattern "<a> x <b>""#,
        "only-a",
        &[],
        Some(("only-a", r#"{a="only-a", app="api"}"#)),
    ),
    (
        r#"| pattern "GET <p>""#,
        "POST /x",
        &[],
        Some(("POST /x", r#"{app="api"}"#)),
    ),
];

/// Runs every case of `cases`.
pub(super) fn check(cases: &[Case]) {
    for (stages, line, meta, want) in cases {
        let q = format!("{S} {stages}");
        let got = run(&q, line, meta);
        let want = want.map(|(l, s)| (l.to_string(), s.to_string()));
        assert_eq!(got, want, "query: {q}\nline: {line}");
    }
}

#[test]
fn line_filters_and_parsers() {
    check(CASES);
}
