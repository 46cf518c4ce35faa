//! Expansion tables (the expected outputs are Prometheus 2.42's, read from
//! `promtool test rules`), parse and run errors, Go's `%g` digits.

use super::fmt::fmt_g;
use super::{check, expand, TemplateData};
use crate::aggregator::model::Labels;

fn run(text: &str, value: f64) -> Result<String, String> {
    let labels = Labels::from_pairs(&[("__name__", "m"), ("instance", "h:1"), ("job", "node")]);
    let external = Labels::from_pairs(&[("cluster", "eu1")]);
    let data = TemplateData {
        labels: &labels,
        value,
        external_labels: &external,
        external_url: "http://prom.example:9090/sub/path",
    };
    expand(text, &data)
}

#[test]
fn prometheus_functions() {
    let cases = [
        ("{{ humanize 1234567.0 }}|{{ humanize \"12345\" }}|{{ humanize 1234 }}", "1.235M|12.35k|1.234k"),
        ("{{ humanize -0.0012 }}|{{ humanize 0.0 }}|{{ humanize 1e-30 }}", "-1.2m|0|1e-06y"),
        ("{{ humanize1024 1048576.0 }}|{{ humanize1024 -2048.0 }}|{{ humanize1024 0.5 }}", "1Mi|-2ki|0.5"),
        ("{{ humanizeDuration 899.99 }}|{{ humanizeDuration 0.0015 }}", "14m 59s|1.5ms"),
        ("{{ humanizeDuration 90061.5 }}|{{ humanizeDuration -75.0 }}|{{ humanizeDuration 0.0 }}", "1d 1h 1m 1s|-1m 15s|0s"),
        ("{{ humanizeDuration 59.99 }}|{{ humanizeDuration 3600.0 }}", "59.99s|1h 0m 0s"),
        ("{{ humanizePercentage 0.1234567 }}|{{ humanizePercentage \"0.5\" }}", "12.35%|50%"),
        ("{{ humanizeTimestamp 1435065584.128 }}", "2015-06-23 13:19:44.128 +0000 UTC"),
        ("{{ humanizeTimestamp 1435065584.1234567 }}", "2015-06-23 13:19:44.123 +0000 UTC"),
        ("{{ toTime 1.5 }}|{{ parseDuration \"1m\" }}", "1970-01-01 00:00:01.5 +0000 UTC|60"),
        ("{{ title \"hello wORLD-x\" }}|{{ toUpper \"aB\" }}|{{ toLower \"aB\" }}", "Hello WORLD-X|AB|ab"),
        ("{{ reReplaceAll \"(a+)\" \"<$1>\" \"baaac\" }}|{{ match \"^h\" \"hi\" }}", "b<aaa>c|true"),
        ("{{ stripPort \"[::1]:80\" }}|{{ stripPort \"host\" }}|{{ stripPort \"h:9100\" }}", "::1|host|h"),
        ("{{ stripDomain \"1.2.3.4:80\" }}|{{ stripDomain \"host.example.com:9100\" }}", "1.2.3.4:80|host:9100"),
        ("{{ stripDomain \"a.b\" }}|{{ externalURL }}|{{ pathPrefix }}", "a|http://prom.example:9090/sub/path|/sub/path"),
        ("{{ $labels.instance | stripPort | toUpper }}", "H"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src, 1.0).as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn data_variables_and_printing() {
    let cases = [
        ("{{ $value }}|{{ .Value }}", "1.2345675e+06|1.2345675e+06"),
        (
            "{{ $labels.instance }}/{{ .Labels.job }}/[{{ $labels.nope }}]",
            "h:1/node/[]",
        ),
        (
            "{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }} {{ $externalURL }}",
            "eu1 eu1 http://prom.example:9090/sub/path",
        ),
        ("{{ $labels }}", "map[__name__:m instance:h:1 job:node]"),
        (
            "{{ print 1 2 \"a\" \"b\" 3.5 }}|{{ len $labels }}|{{ index $labels \"job\" }}",
            "1 2ab3.5|3|node",
        ),
        (
            "{{ 1e6 }}|{{ 1.0 }}|{{ 100000.0 }}|{{ 0.00001 }}|{{ 0x10 }}|{{ -3 }}",
            "1e+06|1|100000|1e-05|16|-3",
        ),
        ("{{ $x := 5 }}{{ $x }}{{ $x = \"s\" }}{{ $x }}", "5s"),
        ("a {{- /* note */ -}} b {{- \" c \" -}} d", "ab c d"),
        ("{{ `raw}}` }}", "raw}}"),
        ("{{ \"a\" | printf \"%s-%s\" \"b\" }}", "b-a"),
        (
            "{{ html \"<a&b>\" }}|{{ urlquery \"a b&c\" }}",
            "&lt;a&amp;b&gt;|a+b%26c",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(run(src, 1_234_567.5).as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn control_structures() {
    let cases = [
        ("{{ if gt $value 80.0 }}big{{ else }}small{{ end }}", "big"),
        ("{{ if lt $value 10.0 }}a{{ else if lt $value 100.0 }}b{{ else }}c{{ end }}", "b"),
        ("{{ if and (eq $labels.job \"node\") (ne $labels.instance \"x\") }}y{{ end }}", "y"),
        ("{{ if or $labels.nope $labels.job }}{{ or $labels.nope $labels.job }}{{ end }}", "node"),
        ("{{ if not $labels.nope }}absent{{ end }}", "absent"),
        ("{{ eq $labels.job \"a\" \"node\" }}|{{ ge 3 3 }}|{{ lt \"a\" \"b\" }}", "true|true|true"),
        ("{{ range $k, $v := $labels }}{{$k}}={{$v}};{{ end }}", "__name__=m;instance=h:1;job=node;"),
        ("{{ range $externalLabels }}{{ . }}{{ end }}", "eu1"),
        ("{{ with $labels.instance }}w={{ . }}{{ end }}{{ with $labels.nope }}x{{ else }}none{{ end }}", "w=h:1none"),
        ("{{ if true }}{{ $y := 1 }}{{ $y }}{{ end }}", "1"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src, 85.0).as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn printf_verbs() {
    let cases = [
        ("{{ printf \"%d|%s|%v|%.2f|%g|%5.1f|%-4s|\" 3 \"x\" $value $value $value $value \"ab\" }}", "3|x|1.2345675e+06|1234567.50|1.2345675e+06|1234567.5|ab  |"),
        ("{{ printf \"%d\" $value }}", "%!d(float64=1.2345675e+06)"),
        ("{{ printf \"%q|%x|%08.3f|%+d|%e|%t\" \"a\\\"b\" \"hi\" 3.14159 5 1234.5678 true }}", "\"a\\\"b\"|6869|0003.142|+5|1.234568e+03|true"),
        ("{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 }}|{{ printf \"%z\" 1 }}|{{ printf \"100%%\" }}", "1 %!d(MISSING)|1%!(EXTRA int=2)|%!z(int=1)|100%"),
        ("{{ printf \"%.0f|%.1f|%f\" 2.5 0.25 1.0 }}", "2|0.2|1.000000"),
        ("{{ printf \"%.3g|%g|%G\" 0.000012345 1e21 1e-7 }}", "1.23e-05|1e+21|1E-07"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src, 1_234_567.5).as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn go_g_format() {
    let cases: [(f64, Option<usize>, &str); 10] = [
        (100.0, Some(4), "100"),
        (1234.5, Some(4), "1234"),
        (12345.0, Some(4), "1.234e+04"),
        (0.0001, None, "0.0001"),
        (123456.0, None, "123456"),
        (1e6, None, "1e+06"),
        (-0.0, None, "-0"),
        (f64::NAN, None, "NaN"),
        (f64::NEG_INFINITY, Some(4), "-Inf"),
        (0.1 + 0.2, None, "0.30000000000000004"),
    ];
    for (v, prec, want) in cases {
        assert_eq!(fmt_g(v, prec, false), want, "{v} {prec:?}");
    }
}

#[test]
fn parse_errors() {
    for (src, want) in [
        ("{{ $labels.x", "unclosed action"),
        ("{{ nope }}", "function \"nope\" not defined"),
        ("{{ $nope }}", "undefined variable \"$nope\""),
        ("{{ if true }}x", "without {{end}}"),
        ("x{{ end }}", "unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        ("{{ define \"x\" }}{{ end }}", "not supported"),
        ("{{ 1 | 2 }}", "non executable command in pipeline stage 2"),
        ("{{ \"open }}", "unterminated quoted string"),
        ("{{ (toUpper \"a\" }}", "unclosed left paren"),
        ("{{ }}", "missing value"),
        ("{{ 1x }}", "bad number syntax"),
        ("{{/* open }}", "unclosed comment"),
        ("{{ /* x */ }}", "unexpected '/'"),
        (
            "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}",
            "undefined variable \"$y\"",
        ),
        ("{{ # }}", "unexpected '#'"),
        (
            "{{ with 1 }}{{ else with 2 }}{{ end }}",
            "unexpected <with> in else",
        ),
        (
            "{{ with 1 }}{{ else if 2 }}{{ end }}",
            "unexpected <if> in else",
        ),
    ] {
        let e = check(src).unwrap_err();
        assert!(e.contains(want), "{src}: {e}");
        assert_eq!(run(src, 1.0).unwrap_err(), e, "{src}");
    }
    let deep = "{{ ".to_string() + &"(".repeat(300) + "1" + &")".repeat(300) + " }}";
    assert!(check(&deep).unwrap_err().contains("nested too deeply"));
    let deep = "{{ if true }}".repeat(300) + &"{{ end }}".repeat(300);
    assert!(check(&deep).unwrap_err().contains("nested too deeply"));
}

#[test]
fn execution_errors() {
    for (src, want) in [
        (
            "{{ if gt $value 80 }}x{{ end }}",
            "error calling gt: incompatible types for comparison",
        ),
        (
            "{{ humanize \"x\" }}",
            "strconv.ParseFloat: parsing \"x\": invalid syntax",
        ),
        ("{{ humanize true }}", "can't convert bool to float"),
        (
            "{{ toUpper 1.5 }}",
            "wrong type for value; expected string; got float64",
        ),
        (
            "{{ humanize 1 2 }}",
            "wrong number of args for humanize: want 1 got 2",
        ),
        ("{{ query \"up\" }}", "\"query\" is not supported"),
        (
            "{{ $labels.job.x }}",
            "can't evaluate field x in type string",
        ),
        ("{{ .Nope }}", "can't evaluate field Nope"),
        ("{{ range $value }}{{ end }}", "range can't iterate over 1"),
        ("{{ reReplaceAll \"(\" \"\" \"a\" }}", "regexp: Compile"),
        ("{{ printf \"%9999d\" 1 }}", "width or precision over"),
        ("{{ $labels.job 1 }}", "can't give argument to non-function"),
        ("{{ humanizeTimestamp 1e30 }}", "overflows int64"),
    ] {
        let e = run(src, 1.0).unwrap_err();
        assert!(e.contains(want), "{src}: {e}");
        assert_eq!(check(src), Ok(()), "{src} parses");
    }
}

/// Go derives gt/ge from lt and eq, so NaN is "greater" than anything; its int64
/// conversion of a huge duration wraps to the minimum (both seen with promtool).
#[test]
fn go_quirks_kept() {
    let out = run(
        "{{ gt $value 80.0 }} {{ ge $value 1.0 }} {{ lt $value 1.0 }} {{ eq $value $value }}",
        f64::NAN,
    );
    assert_eq!(out.as_deref(), Ok("true true false false"));
    let out = run("{{ humanizeDuration $value }}", 1e21);
    assert_eq!(out.as_deref(), Ok("-106751991167300d -15h -30m -8s"));
}

proptest::proptest! {
    /// Any text, and any mix of template pieces, parses or fails with a message:
    /// never a panic (rule files are read at start-up and on reload).
    #[test]
    fn never_panics(
        text in "\\PC{0,40}",
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "{{", "}}", "{{- ", " -}}", "if ", "else ", "end", "range ", "with ", "$labels",
            ".Labels.x", "$value", "$x := ", "|", "(", ")", "\"s\"", "`r`", "1.5", "-3", "0x",
            "1e", "printf \"%5.2f%d%!\" ", "humanize ", "eq ", "and ", "/*", "*/", ",", "=",
        ]), 0..24),
    ) {
        let joined: String = pieces.concat();
        for src in [text.as_str(), joined.as_str()] {
            let _ = check(src);
            let _ = run(src, f64::NAN);
            let _ = run(src, -1e300);
        }
    }
}
