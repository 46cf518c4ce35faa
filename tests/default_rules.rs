//! The default rule set under manifests/rules/: `promtool check rules` accepts every
//! metric rule file; `promtool test rules` passes the unit tests in
//! manifests/rules/tests/, which cover every alert and severity both firing and not;
//! every template parses and expands with our engine; and every metric a rule reads is
//! one nodepulse really exposes. The LogQL group: tests/default_rules_logql.rs.

mod common;

use common::exposed::{exposed_names, read_names};
use common::peer;
use nodepulse::aggregator::model::Labels;
use nodepulse::aggregator::rules::template::{check, expand, TemplateData};
use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/rules");

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every rule file, with whether it is a LogQL one (a group with `query_language: logql`).
fn rule_files() -> Vec<(PathBuf, bool)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(RULES)
        .expect("manifests/rules")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let logql = groups(&yaml(&p))
                .iter()
                .any(|g| g["query_language"].as_str() == Some("logql"));
            (p, logql)
        })
        .collect()
}

fn groups(file: &Value) -> Vec<Value> {
    file["groups"].as_sequence().cloned().unwrap_or_default()
}

fn rules(path: &Path) -> Vec<Value> {
    groups(&yaml(path))
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new(peer("promtool").expect("checked by the caller"))
        .current_dir(RULES)
        .args(args)
        .output()
        .expect("running promtool");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text.into_owned())
}

#[test]
fn promtool_checks_every_metric_rule_file() {
    if peer("promtool").is_none() {
        return;
    }
    let files = rule_files();
    let metric: Vec<_> = files.iter().filter(|(_, logql)| !logql).collect();
    assert!(metric.len() >= 3, "{files:?}");
    assert!(files.iter().any(|(_, logql)| *logql), "no LogQL rule file");
    for (path, _) in metric {
        let (ok, out) = promtool(&["check", "rules", path.to_str().expect("a UTF-8 path")]);
        assert!(ok, "{}:\n{out}", path.display());
    }
}

#[test]
fn promtool_unit_tests_pass_and_cover_every_alert() {
    if peer("promtool").is_none() {
        return;
    }
    let tests: Vec<PathBuf> = std::fs::read_dir(Path::new(RULES).join("tests"))
        .expect("manifests/rules/tests")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    let mut args = vec!["test".to_string(), "rules".to_string()];
    args.extend(tests.iter().map(|p| p.display().to_string()));
    let (ok, out) = promtool(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{out}");
    // Which (alert, severity) fire somewhere, and which alerts are seen not firing.
    let (mut fired, mut quiet) = (BTreeSet::new(), BTreeSet::new());
    for path in &tests {
        for test in yaml(path)["tests"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
        {
            for case in test["alert_rule_test"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
            {
                let name = case["alertname"].as_str().unwrap_or_default().to_string();
                let exp = case["exp_alerts"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default();
                if exp.is_empty() {
                    quiet.insert(name.clone());
                }
                for a in exp {
                    let severity = a["exp_labels"]["severity"].as_str().unwrap_or_default();
                    fired.insert((name.clone(), severity.to_string()));
                }
            }
        }
    }
    for (path, _) in rule_files().iter().filter(|(_, logql)| !logql) {
        for rule in rules(path) {
            let name = rule["alert"]
                .as_str()
                .expect("alerting rules only")
                .to_string();
            let severity = rule["labels"]["severity"]
                .as_str()
                .expect("a severity")
                .to_string();
            assert!(
                fired.contains(&(name.clone(), severity.clone())),
                "{name} {severity} never fires in a test"
            );
            assert!(quiet.contains(&name), "{name} is never tested not firing");
        }
    }
}

#[test]
fn every_template_parses_and_expands_with_our_engine() {
    let labels = Labels::from_pairs(&[
        ("instance", "n1:9101"),
        ("job", "nodepulse-agent"),
        ("namespace", "shop"),
        ("pod", "web-1"),
    ]);
    let external = Labels::default();
    let data = TemplateData {
        labels: &labels,
        value: 0.5,
        external_labels: &external,
        external_url: "http://aggregator:9201",
    };
    for (path, _) in rule_files() {
        for rule in rules(&path) {
            let name = rule["alert"].as_str().unwrap_or_default();
            let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
            assert!(
                ["warning", "critical"].contains(&severity),
                "{name}: severity {severity:?}"
            );
            for key in ["labels", "annotations"] {
                for (k, v) in rule[key].as_mapping().cloned().unwrap_or_default() {
                    let text = v
                        .as_str()
                        .unwrap_or_else(|| panic!("{name} {k:?}: not a string"));
                    check(text).unwrap_or_else(|e| panic!("{name} {k:?}: {e}"));
                    let out = expand(text, &data).unwrap_or_else(|e| panic!("{name} {k:?}: {e}"));
                    assert!(!out.contains("{{"), "{name} {k:?}: {out}");
                }
            }
            let annotations = rule["annotations"]
                .as_mapping()
                .cloned()
                .unwrap_or_default();
            for k in ["summary", "description"] {
                assert!(annotations.contains_key(k), "{name}: no {k}");
            }
        }
    }
}

#[test]
fn rules_read_only_metrics_nodepulse_exposes() {
    let exposed = exposed_names();
    let mut read = BTreeSet::new();
    for (path, _) in rule_files().iter().filter(|(_, logql)| !logql) {
        for rule in rules(path) {
            let expr = rule["expr"].as_str().expect("an expr");
            for name in read_names(expr).unwrap_or_else(|e| panic!("{expr}: {e}")) {
                assert!(
                    exposed.contains(&name),
                    "{}: {name} is not exposed by nodepulse",
                    path.display()
                );
                read.insert(name);
            }
        }
    }
    assert!(read.len() >= 12, "{read:?}");
}
