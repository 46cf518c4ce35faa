//! The alert template engine against Prometheus 2.42 itself: every template below is
//! expanded by `rules::template::expand` for a set of series values, written as the
//! `exp_annotations` of a `promtool test rules` unit test, and promtool (which expands
//! the same annotations with Prometheus's engine) must agree on every one. Templates
//! our engine refuses must be refused by Prometheus too (`<error expanding template`).

mod common;

use common::peer;
use nodepulse::aggregator::model::Labels;
use nodepulse::aggregator::rules::template::{expand, TemplateData};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::process::Command;

/// The sample values of the alerting series, as promtool's series notation writes them.
const VALUES: &[&str] = &[
    "1234567.5",
    "0.000123",
    "-42",
    "0",
    "85",
    "1e21",
    "NaN",
    "-Inf",
    "1023.999",
    "0.5",
    "86399.999",
    "-0.0015",
    "3e-9",
    "1e300",
];

/// Expanded alike by both engines.
const TEMPLATES: &[&str] = &[
    "{{ $value }}|{{ .Value }}|{{ $value | humanize }}|{{ humanize1024 $value }}",
    "{{ humanizeDuration $value }}|{{ humanizePercentage $value }}",
    "{{ printf \"%.2f|%g|%e|%v|%8.3f|%-10.1f|%+.1e\" $value $value $value $value $value $value $value }}",
    "{{ printf \"%.0f|%.3g|%G|%E|%05.1f|% .2f\" $value $value $value $value $value $value }}",
    "{{ if gt $value 80.0 }}high{{ else if lt $value 0.0 }}negative{{ else }}low{{ end }}",
    "{{ if eq $value 0.0 }}zero{{ else }}nonzero{{ end }} {{ ge $value 85.0 }} {{ ne $value 85.0 }}",
    "{{ $labels.instance }} of {{ $labels.job }} [{{ $labels.missing }}] {{ .Labels.case }}",
    "{{ $labels }} {{ $externalLabels }} [{{ $externalURL }}] {{ len $labels }}",
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }} {{ range .Labels }}{{ . }};{{ end }}",
    "{{ with $labels.instance }}{{ . | stripPort }} {{ stripDomain . }}{{ end }} {{ with $labels.nope }}x{{ else }}none{{ end }}",
    "{{ $labels.instance | reReplaceAll \"([a-z]+)-(\\\\d+).*\" \"$2/$1\" }} {{ match \"^host\" $labels.instance }}",
    "{{ toUpper $labels.job }} {{ toLower \"MiXed\" }} {{ title \"a quick-brown_fox\" }}",
    "{{ humanize 1234 }} {{ humanize \"12345.678\" }} {{ humanize 0.000001234 }} {{ humanize -1e15 }} {{ humanize 1e27 }}",
    "{{ humanize1024 1073741824.0 }} {{ humanize1024 1.0 }} {{ humanize1024 -1536.0 }} {{ humanize1024 1e30 }}",
    "{{ humanizeDuration 0.000000123 }} {{ humanizeDuration 61.0 }} {{ humanizeDuration -90061.0 }} {{ humanizeDuration \"3600\" }}",
    "{{ humanizeTimestamp 1435065584.128 }} {{ humanizeTimestamp 0.0 }} {{ humanizeTimestamp -1.5 }} {{ humanizeTimestamp \"1700000000\" }}",
    "{{ humanizePercentage 0.999999 }} {{ humanizePercentage 1.0 }} {{ humanizePercentage -0.05 }}",
    "{{ printf \"%d|%s|%q|%x|%X|%t|%v\" 42 \"s\" \"q\\\"\" 255 \"hi\" true false }}",
    "{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 }}|{{ printf \"%z\" 1 }}|{{ printf \"%s\" 1.5 }}|{{ printf \"100%%\" }}",
    "{{ printf \"%5d|%-5d|%05d|%+d|%.3s|%6s|%-6s|\" 42 42 -42 7 \"abcdef\" \"ab\" \"ab\" }}",
    "{{ print 1 2 \"a\" \"b\" 3.5 true }}|{{ println \"x\" 1 }}|{{ 1e6 }} {{ 1.0 }} {{ 0x1F }} {{ -7 }} {{ 1_000 }}",
    "{{ $x := $value }}{{ if gt $x 1.0 }}{{ $x = 1.0 }}{{ end }}{{ $x }}",
    "{{ and $labels.job $labels.instance }}|{{ and $labels.nope $labels.job }}|{{ or $labels.nope \"dflt\" }}|{{ not true }}",
    "{{ index $labels \"job\" }}|{{ index .Labels \"nope\" }}|{{ html \"<b>&'\\\"\" }}|{{ urlquery \"a b/c?d=é\" }}",
    "a {{- \" b \" -}} c {{/* a comment */}} d\n  {{- \"e\" }}",
    "{{ `raw {{ \\n }}` }} {{ \"esc\\t\\\"q\\\"\" }}",
    "{{ eq $labels.job \"x\" \"node\" }} {{ lt \"abc\" \"abd\" }} {{ le 2 2 }} {{ gt 3 2 }}",
    "{{ parseDuration \"1h30m\" }} {{ toTime 1.5 }} {{ safeHtml \"<i>\" }}",
    "{{ stripPort \"[::1]:80\" }} {{ stripPort \"h\" }} {{ stripPort \"a:b:c\" }} {{ stripDomain \"10.0.0.1\" }} {{ stripDomain \"[::1]:9\" }} {{ stripDomain \"n1.example.com\" }}",
    "{{ range $i, $v := $externalLabels }}x{{ else }}empty{{ end }} {{ with $externalURL }}u{{ else }}{{ $labels.job }}{{ end }}",
    "{{ $v := 1 }}{{ range $k, $v := $labels }}{{ $v }};{{ end }}{{ $v }} {{ if true }}{{ $v = 2 }}{{ end }}{{ $v }}",
    "{{- if ge $value 1e20 }}huge{{ else if le $value -1.0 }}neg{{ else if eq $value 0.0 }}zero{{ else }}{{ printf \"%.3e\" $value }}{{ end -}}",
    "{{ title \"élan vital ÉCOLE 3d_x\" }} {{ toUpper \"straße\" }} {{ printf \"%5s|%-5s|%.2s\" \"é\" \"ü\" \"éüö\" }}",
    "{{ printf \"%v %v %v %v\" 1e-7 123456789.0 1e20 1e21 }} {{ printf \"%.10g %.1g %.0g\" 1234.5678 0.05 7.5 }}",
    "{{ printf \"%6.2f|%-8.3e|%+.0f|%x|%X|%o\" -1.005 12345.678 2.5 -255 3054 8 }}",
    "{{ humanize 999.95 }} {{ humanize 999999.5 }} {{ humanize 0.00099995 }} {{ humanize1024 1023.99 }} {{ humanize1024 1048575.0 }}",
    "{{ humanizeDuration 59.9999 }} {{ humanizeDuration 0.9999999 }} {{ humanizeDuration 86400.0 }} {{ humanizeDuration -0.5 }}",
    "{{ reReplaceAll \"^(?P<h>[^.]+)\\\\..*$\" \"${h}!\" $labels.instance }} {{ reReplaceAll \"o\" \"$0$0\" \"foo\" }} {{ match \"(?i)HOST\" $labels.instance }}",
    "{{ len \"héllo\" }} {{ index $labels \"case\" | printf \"%q\" }} {{ not $labels.nope }} {{ and 1 0 }} {{ or 0 \"\" }}",
];

/// Refused by both engines when run (the texts differ: Prometheus names the rule and
/// the column; the annotation shows `<error expanding template: ...>` there).
const FAILING: &[&str] = &[
    "{{ if gt $value 80 }}x{{ end }}",
    "{{ humanize \"not a number\" }}",
    "{{ toUpper $value }}",
    "{{ humanize 1 2 }}",
    "{{ $labels.job.sub }}",
    "{{ .Nope }}",
    "{{ range $value }}{{ end }}",
    "{{ reReplaceAll \"(\" \"\" \"a\" }}",
    "{{ strvalue $labels }}",
    "{{ lt true false }}",
    "{{ eq $labels $labels }}",
    "{{ index $value 1 }}",
    "{{ humanizeTimestamp 1e30 }}",
];

fn series_labels(case: usize) -> Labels {
    Labels::new(vec![
        ("__name__".into(), "m".into()),
        ("case".into(), case.to_string()),
        ("instance".into(), "host-1.example.com:9100".into()),
        ("job".into(), "node".into()),
    ])
}

fn value(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("series value {text}"))
}

fn annotations(prefix: &str, templates: &[&str]) -> Map<String, Value> {
    let pairs = templates.iter().enumerate();
    pairs
        .map(|(i, t)| (format!("{prefix}{i}"), json!(t)))
        .collect()
}

/// The rule file and unit test file (JSON is YAML) for alert `alert` with `templates`,
/// each alert expecting `exp(case, template)` as its annotations.
fn files(
    alert: &str,
    templates: &[&str],
    exp: impl Fn(usize, &str) -> Option<String>,
) -> (Value, Value) {
    let rules = json!({"groups": [{"name": "templates", "rules": [
        {"alert": alert, "expr": "m", "annotations": annotations("a", templates)}
    ]}]});
    let series: Vec<Value> = VALUES.iter().enumerate().map(|(i, v)| json!({
        "series": format!("m{{case=\"{i}\",instance=\"host-1.example.com:9100\",job=\"node\"}}"),
        "values": v,
    })).collect();
    let alerts: Vec<Value> = (0..VALUES.len())
        .map(|case| {
            let exp_annotations: Map<String, Value> = templates
                .iter()
                .enumerate()
                .filter_map(|(i, t)| exp(case, t).map(|e| (format!("a{i}"), json!(e))))
                .collect();
            let labels = series_labels(case).filtered(|n| n != "__name__");
            let exp_labels: Map<String, Value> =
                labels.iter().map(|(k, v)| (k.into(), json!(v))).collect();
            json!({"exp_labels": exp_labels, "exp_annotations": exp_annotations})
        })
        .collect();
    let test = json!({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "alert_rule_test": [{"eval_time": "0m", "alertname": alert, "exp_alerts": alerts}],
    }]});
    (rules, test)
}

/// Runs `promtool test rules` on the two files: success and its output.
fn promtool_test(rules: &Value, test: &Value) -> (bool, String) {
    let promtool = peer("promtool").expect("checked by the caller");
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("rules.yml"), rules.to_string()).expect("writing rules");
    std::fs::write(dir.path().join("test.yml"), test.to_string()).expect("writing the test");
    let out = Command::new(promtool)
        .current_dir(dir.path())
        .args(["test", "rules", "test.yml"])
        .output()
        .expect("running promtool");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text.into_owned())
}

fn ours(case: usize, template: &str) -> Result<String, String> {
    let (labels, external) = (series_labels(case), Labels::default());
    let data = TemplateData {
        labels: &labels,
        value: value(VALUES[case]),
        external_labels: &external,
        external_url: "",
    };
    expand(template, &data)
}

#[test]
fn promtool_agrees_with_every_expansion() {
    if peer("promtool").is_none() {
        return;
    }
    let exp = |case: usize, t: &str| {
        Some(ours(case, t).unwrap_or_else(|e| panic!("{t} on {}: {e}", VALUES[case])))
    };
    let (rules, test) = files("Templates", TEMPLATES, exp);
    let (ok, out) = promtool_test(&rules, &test);
    if ok {
        return;
    }
    let mut diffs = Vec::new();
    for (case, got) in got_annotations(&out) {
        for (i, t) in TEMPLATES.iter().enumerate() {
            let ours = exp(case, t).unwrap_or_default();
            let theirs = got.get(&format!("a{i}")).cloned().unwrap_or_default();
            if ours != theirs {
                diffs.push(format!(
                    "{t}\n  value {}:\n  ours:       {ours:?}\n  Prometheus: {theirs:?}",
                    VALUES[case]
                ));
            }
        }
    }
    assert!(!diffs.is_empty(), "promtool failed:\n{out}");
    panic!(
        "promtool disagrees on {} expansions:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn promtool_refuses_what_we_refuse() {
    if peer("promtool").is_none() {
        return;
    }
    for t in FAILING {
        assert!(ours(0, t).is_err(), "we expand {t}");
    }
    // No expectations: promtool fails and prints what it got for each alert.
    let (rules, test) = files("Failing", FAILING, |_, _| None);
    let (ok, out) = promtool_test(&rules, &test);
    assert!(!ok, "{out}");
    let got = got_annotations(&out);
    assert_eq!(got.len(), VALUES.len(), "{out}");
    for (case, annotations) in got {
        for (i, t) in FAILING.iter().enumerate() {
            let theirs = annotations
                .get(&format!("a{i}"))
                .cloned()
                .unwrap_or_default();
            assert!(
                theirs.starts_with("<error expanding template:"),
                "Prometheus expands {t} on {}: {theirs:?}",
                VALUES[case]
            );
        }
    }
}

/// From promtool's failure report: each alert it got, by its `case` label, with its
/// annotations (Go-quoted in the report).
fn got_annotations(out: &str) -> BTreeMap<usize, BTreeMap<String, String>> {
    let got = out.split_once("got:[").map_or("", |(_, g)| g);
    let mut alerts = BTreeMap::new();
    let mut case = None;
    for line in got.lines().map(str::trim) {
        if let Some(labels) = line.strip_prefix("Labels:{") {
            let pairs = go_pairs(labels);
            case = pairs.get("case").and_then(|c| c.parse().ok());
        } else if let (Some(annotations), Some(c)) = (line.strip_prefix("Annotations:{"), case) {
            alerts.insert(c, go_pairs(annotations));
        }
    }
    alerts
}

/// `a="x", b="y\"z"}` as Go's labels print: names and unquoted values.
fn go_pairs(mut s: &str) -> BTreeMap<String, String> {
    let mut pairs = BTreeMap::new();
    while let Some((name, rest)) = s.split_once("=\"") {
        let (value, n) = go_unquote(rest);
        pairs.insert(name.trim_start_matches([',', ' ']).to_string(), value);
        s = &rest[n..];
    }
    pairs
}

/// The body of a Go `strconv.Quote` string up to its closing quote, and the length
/// consumed.
fn go_unquote(s: &str) -> (String, usize) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, i + 1),
            '\\' => {
                let esc = chars.next().map_or(' ', |(_, e)| e);
                let hex = |n: usize, chars: &mut std::str::CharIndices| {
                    let digits: String = chars.by_ref().take(n).map(|(_, d)| d).collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('?')
                };
                out.push(match esc {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'a' => '\x07',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    'x' => hex(2, &mut chars),
                    'u' => hex(4, &mut chars),
                    'U' => hex(8, &mut chars),
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
    (out, s.len())
}

/// Refused when the rule file is read, by `promtool check rules` and by our `check`.
const UNPARSABLE: &[&str] = &[
    "{{ $labels.x",
    "{{ nope }}",
    "{{ $nope }}",
    "{{ if true }}x",
    "x{{ end }}",
    "{{ else }}",
    "{{ 1 | 2 }}",
    "{{ \"open }}",
    "{{ (toUpper \"a\" }}",
    "{{ }}",
    "{{ 1x }}",
    "{{/* open }}",
    "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}",
    "{{ with 1 }}{{ else with 2 }}{{ end }}",
    "{{ range $labels }}{{ else if true }}{{ end }}",
    "{{ $a, $b := 1 }}",
];

#[test]
fn promtool_and_check_refuse_the_same_unparsable_templates() {
    if peer("promtool").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("rules.yml");
    for t in UNPARSABLE {
        let rules = json!({"groups": [{"name": "g", "rules": [
            {"alert": "A", "expr": "m", "annotations": {"a": t}}
        ]}]});
        std::fs::write(&path, rules.to_string()).expect("writing rules");
        let out = Command::new(peer("promtool").expect("checked above"))
            .args(["check", "rules"])
            .arg(&path)
            .output()
            .expect("running promtool");
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && text.contains("template"),
            "promtool accepts {t}:\n{text}"
        );
        assert!(
            nodepulse::aggregator::rules::template::check(t).is_err(),
            "we accept {t}"
        );
    }
}
