//! Pipeline tests beyond the table: label reuse across lines, hostile JSON, unwrap
//! conversions and errors, and the scan hint.

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
    let got = required_substrings(&l.stages);
    let got: Vec<&[u8]> = got.iter().map(|c| c.as_ref()).collect();
    assert_eq!(got, [&b"a"[..], b"e"]);
}

#[test]
fn json_paths_walk_nested_values() {
    use super::json_path::{parse_path, Seg};
    assert_eq!(
        parse_path(r#"a.b[2]["c d"]"#),
        Ok(vec![
            Seg::Key("a".into()),
            Seg::Key("b".into()),
            Seg::Index(2),
            Seg::Key("c d".into())
        ])
    );
    let stream = Labels::from_pairs(&[("app", "api")]);
    let q = r#"{app="api"} | json x="a.b[1].c", arr="a.b", missing="a.zz", n="a.n", esc="[\"k\\\"q\"]""#;
    let mut p = Pipeline::new(&log_expr(q).stages).unwrap();
    let line = r#"{"a":{"b":[{"c":1},{"c":"two"}],"n":null},"k\"q":"v"}"#;
    let (_, labels) = p.process(0, line, &stream, &[]).unwrap();
    assert_eq!(
        labels.to_string(),
        r#"{app="api", arr="[{\"c\":1},{\"c\":\"two\"}]", esc="v", x="two"}"#
    );
    let (_, labels) = p.process(0, r#"{"a":{"b":[1,2}"#, &stream, &[]).unwrap();
    assert_eq!(labels.get("__error__"), Some("JSONParserErr"));
}

#[test]
fn invalid_utf8_free_and_odd_lines_never_panic() {
    let stream = Labels::from_pairs(&[("app", "api")]);
    let queries = [
        r#"{app="api"} | json"#,
        r#"{app="api"} | logfmt --strict"#,
        r#"{app="api"} | unpack"#,
        r#"{app="api"} | pattern "<a> é <b>""#,
        r#"{app="api"} | json x="a[0]" | line_format "{{ trunc -3 .x }}{{ substr 2 1 .x }}""#,
        r#"{app="api"} | decolorize"#,
    ];
    let lines = [
        "",
        "\u{fffd}",
        "é=\"\\u12\"",
        "{\"a\":\"\\ud800\"}",
        "\x1b[",
        "\x1b[31",
        "a=\"é",
        "{\"é\":[\"ü\"]}",
        "<>",
        "{\"a\":[\"xé\"]}",
    ];
    for q in queries {
        let mut p = Pipeline::new(&log_expr(q).stages).unwrap();
        for line in lines {
            let _ = p.process(0, line, &stream, &[]);
        }
    }
}

#[test]
fn json_paths_that_lead_nowhere_clear_the_label() {
    let stream = Labels::from_pairs(&[("app", "api")]);
    let q = r#"{app="api"} | logfmt | json a="x.y""#;
    let mut p = Pipeline::new(&log_expr(q).stages).unwrap();
    let (_, labels) = p.process(0, r#"{"x":{}} a=1"#, &stream, &[]).unwrap();
    assert_eq!(labels.get("a"), None, "{labels}");
    // An empty line has nothing to extract and is no error (Loki's behaviour).
    let (_, labels) = p.process(0, "", &stream, &[]).unwrap();
    assert_eq!(labels.to_string(), r#"{app="api"}"#);
}
