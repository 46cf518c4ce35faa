//! Tests of lifting: real lines from common loggers, level normalization, borrowed
//! fields, garbage and deep nesting, the size bound, and the logfmt fallback.

use super::*;

fn fields(line: &str) -> (Shape, Fields<'_>) {
    lift(line, DEFAULT_MAX_LIFT_BYTES)
}

/// (logger, line, level, message, trace id)
type Case = (
    &'static str,
    &'static str,
    Option<Level>,
    &'static str,
    Option<&'static str>,
);

/// Real lines from the loggers the key list is taken from.
#[test]
fn real_logger_lines() {
    use Level::*;
    let cases: &[Case] = &[
        // (logger, line, level, message, trace id)
        (
            "zap",
            r#"{"level":"info","ts":1714564800.123,"caller":"main.go:42","msg":"started","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#,
            Some(Info),
            "started",
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        ),
        (
            "logrus",
            r#"{"level":"warning","msg":"disk almost full","time":"2024-05-01T12:00:00Z"}"#,
            Some(Warn),
            "disk almost full",
            None,
        ),
        (
            "slog",
            r#"{"time":"2024-05-01T12:00:00Z","level":"ERROR","msg":"boom","traceId":"abc"}"#,
            Some(Error),
            "boom",
            Some("abc"),
        ),
        (
            "pino",
            r#"{"level":30,"time":1714564800123,"pid":1,"hostname":"h","msg":"hello"}"#,
            Some(Info),
            "hello",
            None,
        ),
        (
            "bunyan",
            r#"{"name":"app","hostname":"h","pid":1,"level":50,"msg":"failed","time":"2024-05-01T12:00:00Z","v":0}"#,
            Some(Error),
            "failed",
            None,
        ),
        (
            "python",
            r#"{"asctime":"2024-05-01 12:00:00","levelname":"CRITICAL","message":"db down"}"#,
            Some(Fatal),
            "db down",
            None,
        ),
        (
            "ecs flat",
            r#"{"@timestamp":"2024-05-01T12:00:00Z","log.level":"debug","message":"x","trace.id":"t1","span.id":"s1"}"#,
            Some(Debug),
            "x",
            Some("t1"),
        ),
        (
            "ecs nested",
            r#"{"log":{"level":"warn","logger":"a"},"message":"y","trace":{"id":"t2"},"span":{"id":"s2"}}"#,
            Some(Warn),
            "y",
            Some("t2"),
        ),
        (
            "gcp",
            r#"{"severity":"NOTICE","message":"deployed"}"#,
            Some(Info),
            "deployed",
            None,
        ),
        (
            "serilog clef",
            r#"{"@t":"2024-05-01T12:00:00Z","@m":"Hello","@l":"Warning","@tr":"t3","@sp":"s3"}"#,
            Some(Warn),
            "Hello",
            Some("t3"),
        ),
        (
            "datadog",
            r#"{"level":"info","msg":"m","dd":{"trace_id":"1234567890","span_id":987}}"#,
            Some(Info),
            "m",
            Some("1234567890"),
        ),
        (
            "datadog flat",
            r#"{"lvl":"eror","message":"m","dd.trace_id":1234567890123456789}"#,
            None,
            "m",
            Some("1234567890123456789"),
        ),
        (
            "otel",
            r#"{"severity_text":"TRACE","message":"m","trace_id":"t","span_id":"s"}"#,
            Some(Trace),
            "m",
            Some("t"),
        ),
    ];
    for &(logger, line, level, message, trace) in cases {
        let (shape, f) = fields(line);
        assert_eq!(shape, Shape::Json, "{logger}");
        assert_eq!(f.level, level, "{logger}");
        assert_eq!(f.message.as_deref(), Some(message), "{logger}");
        assert_eq!(f.trace_id.as_deref(), trace, "{logger}");
    }
}

#[test]
fn span_ids_flat_nested_and_numeric() {
    let cases = [
        (r#"{"span_id":"a"}"#, "a"),
        (r#"{"spanId":"b"}"#, "b"),
        (r#"{"span.id":"c"}"#, "c"),
        (r#"{"span":{"id":"d"}}"#, "d"),
        (r#"{"dd.span_id":"e"}"#, "e"),
        (r#"{"dd":{"span_id":42}}"#, "42"),
    ];
    for (line, span) in cases {
        assert_eq!(fields(line).1.span_id.as_deref(), Some(span), "{line}");
    }
}

#[test]
fn level_normalization_table() {
    use Level::*;
    let cases: &[(&str, Option<Level>)] = &[
        (r#""trace""#, Some(Trace)),
        (r#""TRACE""#, Some(Trace)),
        (r#""Verbose""#, Some(Trace)),
        (r#""debug""#, Some(Debug)),
        (r#""DEBU""#, Some(Debug)),
        (r#""FINE""#, Some(Debug)),
        (r#""info""#, Some(Info)),
        (r#""INFO""#, Some(Info)),
        (r#""Information""#, Some(Info)),
        (r#""notice""#, Some(Info)),
        (r#""warn""#, Some(Warn)),
        (r#""WARNING""#, Some(Warn)),
        (r#""error""#, Some(Error)),
        (r#""ERR""#, Some(Error)),
        (r#""ERRO""#, Some(Error)),
        (r#""SEVERE""#, Some(Error)),
        (r#""fatal""#, Some(Fatal)),
        (r#""CRITICAL""#, Some(Fatal)),
        (r#""panic""#, Some(Fatal)),
        (r#""dpanic""#, Some(Fatal)),
        (r#""emerg""#, Some(Fatal)),
        (r#"" warn ""#, Some(Warn)),
        ("10", Some(Trace)),
        ("20", Some(Debug)),
        ("30", Some(Info)),
        ("40", Some(Warn)),
        ("50", Some(Error)),
        ("60", Some(Fatal)),
        ("35", None),
        ("-1", None),
        ("30.5", None),
        (r#""loud""#, None),
        (r#""""#, None),
        ("null", None),
        ("true", None),
        (r#"{"x":1}"#, None),
    ];
    for &(value, want) in cases {
        let line = format!(r#"{{"level":{value},"msg":"m"}}"#);
        let (shape, f) = fields(&line);
        assert_eq!(shape, Shape::Json, "{value}");
        assert_eq!(f.level, want, "{value}");
        assert_eq!(f.unknown_level, want.is_none(), "{value}");
        assert_eq!(f.message.as_deref(), Some("m"), "{value}");
    }
}

#[test]
fn fields_borrow_unless_escaped() {
    let line = r#"{"msg":"plain","trace_id":"t"}"#;
    let f = fields(line).1;
    assert!(matches!(f.message, Some(Cow::Borrowed("plain"))));
    assert!(matches!(f.trace_id, Some(Cow::Borrowed("t"))));
    let line = r#"{"msg":"tab\there \"quoted\" \u00e9"}"#;
    let f = fields(line).1;
    assert!(matches!(f.message, Some(Cow::Owned(_))));
    assert_eq!(f.message.as_deref(), Some("tab\there \"quoted\" é"));
}

#[test]
fn first_key_wins_and_non_strings_are_not_messages() {
    let f = fields(r#"{"msg":"first","message":"second","level":"info","severity":"error"}"#).1;
    assert_eq!(f.message.as_deref(), Some("first"));
    assert_eq!(f.level, Some(Level::Info));
    let f = fields(r#"{"msg":{"nested":"object"},"message":"text"}"#).1;
    assert_eq!(f.message.as_deref(), Some("text"));
    let f = fields(r#"{"msg":42}"#).1;
    assert_eq!(f.message, None);
}

#[test]
fn other_values_are_skipped_wherever_they_are() {
    let line = r#"{"a":[1,{"level":"error"},[]],"b":{"msg":"inner"},"log":"docker-ish","trace":["x"],"dd":{"other":{"deep":[null]}},"level":"warn"}"#;
    let (shape, f) = fields(line);
    assert_eq!(shape, Shape::Json);
    assert_eq!(f.level, Some(Level::Warn));
    assert_eq!((f.message, f.trace_id, f.span_id), (None, None, None));
}

#[test]
fn garbage_and_non_objects() {
    let cases = [
        ("{", Shape::InvalidJson),
        ("{not json}", Shape::InvalidJson),
        (r#"{"level":"info"} trailing"#, Shape::InvalidJson),
        (r#"{"level":"info"}{"level":"info"}"#, Shape::InvalidJson),
        (r#"{"level":"in"#, Shape::InvalidJson),
        ("{\"msg\":\"\u{0}\"}", Shape::InvalidJson),
        (r#"["level","info"]"#, Shape::Plain),
        (r#""just a string""#, Shape::Plain),
        ("", Shape::Plain),
        ("plain text with {braces}", Shape::Plain),
    ];
    for (line, want) in cases {
        let (shape, f) = fields(line);
        assert_eq!(shape, want, "{line:?}");
        assert_eq!(f, Fields::default(), "{line:?}");
    }
}

#[test]
fn leading_and_trailing_whitespace_is_allowed() {
    let (shape, f) = fields("  {\"level\":\"info\"}\r");
    assert_eq!((shape, f.level), (Shape::Json, Some(Level::Info)));
}

/// serde_json stops at 128 levels: deep nesting is an error, never a stack overflow.
#[test]
fn deep_nesting_is_invalid_not_a_panic() {
    for open in ["[", "{\"a\":", "{\"log\":"] {
        let line = format!("{{\"level\":\"info\",\"x\":{}", open.repeat(100_000));
        let (shape, f) = lift(&line, usize::MAX);
        assert_eq!(shape, Shape::InvalidJson, "{open}");
        assert_eq!(f, Fields::default());
    }
    let nested = format!("{{\"x\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(fields(&nested).0, Shape::Json);
}

#[test]
fn lines_over_the_limit_are_not_parsed_and_are_counted() {
    let line = format!(r#"{{"level":"info","msg":"{}"}}"#, "x".repeat(100));
    assert_eq!(lift(&line, line.len()).0, Shape::Json);
    let (shape, f) = lift(&line, line.len() - 1);
    assert_eq!((shape, f), (Shape::TooLong, Fields::default()));
    let mut stats = AppLogStats::default();
    for max in [line.len(), line.len() - 1] {
        let (shape, f) = lift(&line, max);
        stats.count(shape, &f);
    }
    let want = AppLogStats {
        lines: 2,
        json: 1,
        too_long: 1,
        ..AppLogStats::default()
    };
    assert_eq!(stats, want);
}

#[test]
fn logfmt_level_table() {
    use Level::*;
    let cases: &[(&str, Option<Level>, Shape)] = &[
        (
            "level=warn msg=\"disk almost full\"",
            Some(Warn),
            Shape::Logfmt,
        ),
        ("lvl=error msg=boom", Some(Error), Shape::Logfmt),
        // logrus' text formatter and slog's TextHandler put the time first.
        (
            "time=\"2024-05-01T12:00:00Z\" level=warning msg=\"x\"",
            Some(Warn),
            Shape::Logfmt,
        ),
        (
            "time=2024-05-01T12:00:00.000Z level=INFO msg=started",
            Some(Info),
            Shape::Logfmt,
        ),
        ("level=\"error\" msg=x", Some(Error), Shape::Logfmt),
        ("level=loud msg=x", None, Shape::Logfmt),
        // Not logfmt, or the level is inside the message.
        ("msg=\"battery level=5\" level=info", None, Shape::Plain),
        ("the level=warn was reached", None, Shape::Plain),
        (
            "a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 level=warn",
            None,
            Shape::Plain,
        ),
        ("time=\"unterminated level=warn", None, Shape::Plain),
        ("x=\"esc\\\"aped\" level=warn", None, Shape::Plain),
        ("=warn", None, Shape::Plain),
        ("level", None, Shape::Plain),
        ("WARNING: something", None, Shape::Plain),
    ];
    for &(line, want, shape) in cases {
        let (got_shape, f) = fields(line);
        assert_eq!((got_shape, f.level), (shape, want), "{line}");
        assert_eq!(
            f.unknown_level,
            shape == Shape::Logfmt && want.is_none(),
            "{line}"
        );
    }
}

#[test]
fn stats_count_each_shape() {
    let mut stats = AppLogStats::default();
    for line in [
        "{\"level\":\"bogus\"}",
        "{bad",
        "level=info",
        "plain",
        "{\"msg\":1}",
    ] {
        let (shape, f) = fields(line);
        stats.count(shape, &f);
    }
    let want = AppLogStats {
        lines: 5,
        json: 2,
        logfmt: 1,
        invalid_json: 1,
        too_long: 0,
        unknown_level: 1,
    };
    assert_eq!(stats, want);
}
