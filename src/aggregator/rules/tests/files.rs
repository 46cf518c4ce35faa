//! Rule files: what rulefmt accepts, and its errors with their positions (the
//! expected messages are promtool 2.42's output for the same files, the PromQL parser's
//! own wording aside).

use super::super::file::{parse, QueryLanguage, RuleKind};

const BAD: &str = r#"groups:
  - name: g
    rules:
      - alert: High CPU
        expr: rate(x[5m]) >
        for: 5m
      - record: job:x
        for: 1m
        expr: sum(x)
        labels:
          __name__: y
          "bad-name": v
      - expr: x
      - record: a
        alert: b
        expr: x
  - name: g
    rules: []
"#;

#[test]
fn a_bad_file_reports_every_error_with_its_line() {
    let errs = parse("a.yml", BAD).unwrap_err().0;
    assert_eq!(errs.len(), 7, "{errs:#?}");
    assert!(
        errs[0].starts_with(
            r#"a.yml: 5:15: group "g", rule 1, "High CPU": could not parse expression: "#
        ),
        "{}",
        errs[0]
    );
    assert_eq!(
        &errs[1..],
        [
            r#"a.yml: 7:17: group "g", rule 2, "job:x": invalid field 'for' in recording rule"#,
            r#"a.yml: group "g", rule 2, "job:x": invalid label name: __name__"#,
            r#"a.yml: group "g", rule 2, "job:x": invalid label name: bad-name"#,
            r#"a.yml: 0:0: group "g", rule 3, "": one of 'record' or 'alert' must be set"#,
            r#"a.yml: 14:17: 15:16: group "g", rule 4, "b": only one of 'record' and 'alert' must be set"#,
            r#"a.yml: 17:5: groupname: "g" is repeated in the same file"#,
        ]
    );
}

#[test]
fn recording_rules_refuse_alert_fields_and_bad_names() {
    let text = "groups:\n- name: \"\"\n  rules:\n  - record: 1abc\n    expr: up\n    keep_firing_for: 1m\n    annotations: {a: b}\n";
    let errs = parse("f.yml", text).unwrap_err().0;
    assert_eq!(
        errs,
        [
            "f.yml: 2:3: Groupname must not be empty",
            r#"f.yml: 4:13: group "", rule 1, "1abc": invalid field 'annotations' in recording rule"#,
            r#"f.yml: 4:13: group "", rule 1, "1abc": invalid field 'keep_firing_for' in recording rule"#,
            r#"f.yml: 4:13: group "", rule 1, "1abc": invalid recording rule name: 1abc"#,
        ]
    );
}

#[test]
fn unknown_keys_bad_durations_and_bad_templates_are_refused() {
    let unknown = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    bar: 2\n";
    let e = parse("d.yml", unknown).unwrap_err().0;
    let want =
        "d.yml: yaml: unmarshal errors:\n  line 6: field bar not found in type rulefmt.RuleNode";
    assert_eq!(e, [want]);
    let e = parse("d.yml", "groups:\n- name: g\n  foo: 1\n")
        .unwrap_err()
        .0;
    assert!(
        e[0].ends_with("line 3: field foo not found in type rulefmt.RuleGroup"),
        "{e:?}"
    );
    let e = parse("d.yml", "group: []\n").unwrap_err().0;
    assert!(
        e[0].ends_with("line 1: field group not found in type rulefmt.RuleGroups"),
        "{e:?}"
    );
    let dur = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5x\n";
    let e = parse("b.yml", dur).unwrap_err().0;
    assert_eq!(e, [r#"b.yml: 6:10: not a valid duration string: "5x""#]);
    let tmpl = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: \"{{ $labels.x \"\n";
    let e = parse("c.yml", tmpl).unwrap_err().0;
    assert!(
        e[0].starts_with(r#"c.yml: group "g", rule 1, "A": annotation "s": template: "#),
        "{e:?}"
    );
    let syntax = "groups:\n- name: g\n  rules: [\n";
    assert!(parse("s.yml", syntax).unwrap_err().0[0].starts_with("s.yml: "));
}

#[test]
fn a_good_file_gives_its_groups() {
    let text = r#"
groups:
  - name: node
    interval: 30s
    limit: 5
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
        keep_firing_for: 2m
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} down"}
  - name: logs
    query_language: logql
    rules:
      - alert: Errors
        expr: sum by (app) (rate({app=~".+"} |= "error" [1m])) > 1
"#;
    let groups = parse("ok.yml", text).expect("valid");
    assert_eq!(groups.len(), 2);
    assert_eq!((groups[0].interval_ms, groups[0].limit), (Some(30_000), 5));
    assert_eq!(groups[1].language, QueryLanguage::Logql);
    match &groups[0].rules[1].kind {
        RuleKind::Alert {
            for_ms,
            keep_firing_for_ms,
            ..
        } => assert_eq!((*for_ms, *keep_firing_for_ms), (60_000, 120_000)),
        other => panic!("{other:?}"),
    }
    assert!(parse("e.yml", "").unwrap().is_empty());
    let log_query = "groups:\n- name: l\n  query_language: logql\n  rules:\n  - alert: A\n    expr: '{app=\"a\"}'\n";
    let e = parse("l.yml", log_query).unwrap_err().0;
    assert!(
        e[0].starts_with(r#"l.yml: 6:11: group "l", rule 1, "A": could not parse expression: "#),
        "{e:?}"
    );
}
