//! The pipeline table, second half: label filters (string, numeric, duration, bytes,
//! boolean structure, conversion errors) and the rewriting stages.

use super::tests::{check, Case};

const CASES: &[Case] = &[
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
    // A line that failed its parser: dropped without the label (Loki 3), kept with the
    // parser's error when the label is there but does not convert.
    ("| json | status >= 500", "nope", &[], None),
    (
        "| logfmt | json | status >= 500",
        "status=abc",
        &[],
        Some((
            "status=abc",
            r#"{__error__="JSONParserErr", __error_details__="expected object at offset 0", app="api", status="abc"}"#,
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
    // Templates read the labels as of the first template: a swap works, and a
    // rename after it is not seen by later templates.
    (
        r#"| logfmt | label_format a="{{.b}}", b="{{.a}}", c=a, d="[{{.c}}]""#,
        "a=1 b=2",
        &[],
        Some(("a=1 b=2", r#"{app="api", b="1", c="2", d="[]"}"#)),
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
fn label_filters_and_formatters() {
    check(CASES);
}
