//! Pipeline tests: a table of (query, input entry, expected output) covering every
//! stage, Loki's error labels and name collisions; plus unwrap and the scan hint.

use super::unwrap::Extractor;
use super::{required_substrings, Pipeline, PipelineLimits};
use crate::aggregator::logql::ast::{Expr, LogExpr, MetricExpr};
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
fn run(q: &str, line: &str, meta: &[(&str, &str)]) -> Option<(String, String)> {
    let mut p = Pipeline::new(&log_expr(q).stages).unwrap();
    let stream = Labels::from_pairs(&[("app", "api")]);
    let meta: Vec<(String, String)> = meta
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    p.process(1_000_000_000, line, &stream, &meta)
        .map(|(l, labels)| (l.to_string(), labels.to_string()))
}

const S: &str = r#"{app="api"}"#;

/// (stages after the selector, input line, metadata, expected (line, labels) or None).
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<(&'static str, &'static str)>,
);

const CASES: &[Case] = &[
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
    // Label filters: string, numeric, duration, bytes, and/or; conversion errors.
    (r#"| logfmt | level="error""#, "level=info", &[], None),
    (
        r#"| logfmt | level=~"inf.*""#,
        "level=info",
        &[],
        Some(("level=info", r#"{app="api", level="info"}"#)),
    ),
    (
        "| logfmt | status >= 500",
        "status=503",
        &[],
        Some(("status=503", r#"{app="api", status="503"}"#)),
    ),
    ("| logfmt | status >= 500", "status=200", &[], None),
    ("| logfmt | status >= 500", "other=1", &[], None),
    (
        "| logfmt | status >= 500",
        "status=abc",
        &[],
        Some((
            "status=abc",
            r#"{__error__="LabelFilterErr", __error_details__="cannot convert \"abc\" to float", app="api", status="abc"}"#,
        )),
    ),
    (
        "| logfmt | dur > 1s",
        "dur=1500ms",
        &[],
        Some(("dur=1500ms", r#"{app="api", dur="1500ms"}"#)),
    ),
    ("| logfmt | dur > 1m30s", "dur=1m", &[], None),
    (
        "| logfmt | size > 1KiB",
        "size=2KB",
        &[],
        Some(("size=2KB", r#"{app="api", size="2KB"}"#)),
    ),
    ("| logfmt | size > 1MB", "size=2KB", &[], None),
    (r#"| logfmt | a="1" and b="2""#, "a=1 b=3", &[], None),
    (
        r#"| logfmt | a="1" or b="2""#,
        "a=0 b=2",
        &[],
        Some(("a=0 b=2", r#"{a="0", app="api", b="2"}"#)),
    ),
    (
        r#"| logfmt | (a="1" or b="2"), c > 2"#,
        "a=1 c=3",
        &[],
        Some(("a=1 c=3", r#"{a="1", app="api", c="3"}"#)),
    ),
    (
        r#"| trace="t1""#,
        "x",
        &[("trace", "t1")],
        Some(("x", r#"{app="api", trace="t1"}"#)),
    ),
    // line_format, label_format, drop, keep, decolorize, unpack.
    (
        r#"| logfmt | line_format "{{.level | ToUpper}}: {{.msg}}""#,
        r#"level=warn msg="disk full""#,
        &[],
        Some((
            "WARN: disk full",
            r#"{app="api", level="warn", msg="disk full"}"#,
        )),
    ),
    (
        r#"| line_format "{{.app}}" |= "api""#,
        "zzz",
        &[],
        Some(("api", r#"{app="api"}"#)),
    ),
    (
        r#"| line_format "[{{ __line__ }}]""#,
        "raw",
        &[],
        Some(("[raw]", r#"{app="api"}"#)),
    ),
    (
        r#"| line_format "{{ trunc .app 2 }}""#,
        "raw",
        &[],
        Some((
            "raw",
            r#"{__error__="TemplateFormatErr", __error_details__="template: expected an integer, got \"api\"", app="api"}"#,
        )),
    ),
    (
        r#"| logfmt | label_format lvl=level, up="{{ .lvl | upper }}""#,
        "level=warn",
        &[],
        Some(("level=warn", r#"{app="api", lvl="warn", up="WARN"}"#)),
    ),
    (
        r#"| label_format app="{{.app}}-x""#,
        "l",
        &[],
        Some(("l", r#"{app="api-x"}"#)),
    ),
    (
        "| logfmt | drop a, b=\"2\", c=\"9\"",
        "a=1 b=2 c=3",
        &[],
        Some(("a=1 b=2 c=3", r#"{app="api", c="3"}"#)),
    ),
    (
        "| logfmt | keep a, c=~\"[0-9]\"",
        "a=1 b=2 c=3",
        &[],
        Some(("a=1 b=2 c=3", r#"{a="1", c="3"}"#)),
    ),
    (
        "| decolorize",
        "\x1b[31mred\x1b[0m plain",
        &[],
        Some(("red plain", r#"{app="api"}"#)),
    ),
    (
        "| unpack",
        r#"{"_entry":"the line","pod":"p1","n":1}"#,
        &[],
        Some(("the line", r#"{app="api", pod="p1"}"#)),
    ),
    (
        "| unpack",
        "nope",
        &[],
        Some((
            "nope",
            r#"{__error__="JSONParserErr", __error_details__="expected object at offset 0", app="api"}"#,
        )),
    ),
];

#[test]
fn pipeline_table() {
    for (stages, line, meta, want) in CASES {
        let q = format!("{S} {stages}");
        let got = run(&q, line, meta);
        let want = want.map(|(l, s)| (l.to_string(), s.to_string()));
        assert_eq!(got, want, "query: {q}\nline: {line}");
    }
}

#[test]
fn labels_reused_across_lines_and_stream_shared_when_untouched() {
    let mut p = Pipeline::new(&log_expr(r#"{app="api"} |= "a""#).stages).unwrap();
    let stream = Labels::from_pairs(&[("app", "api")]);
    let (_, out) = p.process(0, "a", &stream, &[]).unwrap();
    assert_eq!(out.id(), stream.id(), "no copy of untouched stream labels");
    let mut p = Pipeline::new(&log_expr(r#"{app="api"} | logfmt"#).stages).unwrap();
    let first = p.process(0, "a=1", &stream, &[]).unwrap().1.clone();
    let second = p.process(0, "a=1", &stream, &[]).unwrap().1.clone();
    assert_eq!(
        first.id(),
        second.id(),
        "same labels: the previous set is reused"
    );
    let third = p.process(0, "a=2", &stream, &[]).unwrap().1.clone();
    assert_eq!(third.get("a"), Some("2"));
    let plain = p.process(0, "no pairs", &stream, &[]).unwrap().1.clone();
    assert_eq!(plain.id(), stream.id());
}

#[test]
fn deep_json_is_an_error_not_a_crash() {
    let limits = PipelineLimits {
        max_json_depth: 8,
        ..Default::default()
    };
    let mut p = Pipeline::with_limits(&log_expr(r#"{app="api"} | json"#).stages, limits).unwrap();
    let stream = Labels::from_pairs(&[("app", "api")]);
    let deep = format!("{}{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    let (_, labels) = p.process(0, &deep, &stream, &[]).unwrap();
    assert_eq!(labels.get("__error__"), Some("JSONParserErr"));
    for bad in [
        r#"{"a":"#,
        r#"{"a":"x"#,
        r#"{"a" 1}"#,
        r#"{"a":1,}"#,
        r#"{"a":1} x"#,
        r#"{"a":tru}"#,
        r#"{"a":-}"#,
        "{\"a\":\"\\",
    ] {
        let (_, labels) = p.process(0, bad, &stream, &[]).unwrap();
        assert_eq!(labels.get("__error__"), Some("JSONParserErr"), "{bad}");
    }
}

fn extractor(q: &str) -> Extractor {
    let Ok(Expr::Metric(MetricExpr::Range(r))) = parse(q) else {
        panic!("{q}")
    };
    Extractor::new(
        &r.log,
        r.unwrap.as_ref().unwrap(),
        PipelineLimits::default(),
    )
    .unwrap()
}

#[test]
fn unwrap_values_conversions_and_errors() {
    let stream = Labels::from_pairs(&[("app", "api")]);
    let mut e = extractor(r#"sum_over_time({app="api"} | logfmt | unwrap n [1m])"#);
    let (v, l) = e.extract(0, "n=2.5 k=x", &stream, &[]).unwrap();
    assert_eq!(
        (v, l.to_string()),
        (2.5, r#"{app="api", k="x"}"#.to_string())
    );
    let (v, l) = e.extract(0, "n=abc", &stream, &[]).unwrap();
    assert_eq!(v, 0.0);
    assert_eq!(l.get("__error__"), Some("SampleExtractionErr"));
    let mut e = extractor(r#"sum_over_time({app="api"} | logfmt | unwrap n | __error__="" [1m])"#);
    assert!(e.extract(0, "n=abc", &stream, &[]).is_none());
    assert_eq!(e.extract(0, "n=4", &stream, &[]).map(|(v, _)| v), Some(4.0));
    let mut e = extractor(r#"avg_over_time({app="api"} | logfmt | unwrap duration(d) [1m])"#);
    assert_eq!(
        e.extract(0, "d=1m30s", &stream, &[]).map(|(v, _)| v),
        Some(90.0)
    );
    let mut e = extractor(r#"max_over_time({app="api"} | json | unwrap bytes(size) [1m])"#);
    assert_eq!(
        e.extract(0, r#"{"size":"2KiB"}"#, &stream, &[])
            .map(|(v, _)| v),
        Some(2048.0)
    );
    let mut e = extractor(r#"sum_over_time({app="api"} | unwrap n [1m])"#);
    assert_eq!(
        e.extract(0, "", &stream, &[("n".into(), "7".into())])
            .map(|(v, l)| (v, l.to_string())),
        Some((7.0, r#"{app="api"}"#.into()))
    );
}

#[test]
fn required_substrings_stop_at_line_rewrites() {
    let l = log_expr(
        r#"{app="api"} |= "a" |= "b" or "c" != "d" | json |= "e" | line_format "x" |= "f""#,
    );
    let got: Vec<&[u8]> = required_substrings(&l.stages);
    assert_eq!(got, [&b"a"[..], b"e"]);
}
