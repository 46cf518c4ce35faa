//! rulefmt's checks on a parsed rule file, in its order and wording: group names
//! present and unique; per rule, record XOR alert, an expression that parses (PromQL,
//! or LogQL metric queries in a `query_language: logql` group), no `for`,
//! `keep_firing_for` or annotations on recording rules, valid metric and label names,
//! templates that parse. Each message is prefixed with the node's position where
//! rulefmt prints one (`5:15: group "g", rule 1, "HighCPU": could not parse
//! expression: …`).

use super::file::{FileDoc, GroupDef, GroupDoc, QueryLanguage, RuleDef, RuleDoc, RuleKind};
use super::locate::{prefix, Step};
use crate::aggregator::http::params::prometheus_duration_ms;

/// The validated groups, or every message (without the file name).
pub(super) fn validate(text: &str, doc: &FileDoc) -> Result<Vec<GroupDef>, Vec<String>> {
    let mut errs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut groups = Vec::new();
    for (gi, g) in doc.groups.iter().enumerate() {
        let at = || prefix(text, &[Step::Key("groups"), Step::Index(gi)]);
        if g.name.is_empty() {
            errs.push(format!("{}Groupname must not be empty", at()));
        }
        if !seen.insert(g.name.as_str()) {
            errs.push(format!(
                "{}groupname: {:?} is repeated in the same file",
                at(),
                g.name
            ));
        }
        let ctx = GroupCtx { text, gi, group: g };
        if let Some(def) = ctx.group_def(&mut errs) {
            groups.push(def);
        }
    }
    if errs.is_empty() {
        Ok(groups)
    } else {
        Err(errs)
    }
}

struct GroupCtx<'a> {
    text: &'a str,
    gi: usize,
    group: &'a GroupDoc,
}

impl GroupCtx<'_> {
    fn at(&self, path: &[Step]) -> String {
        let mut full = vec![Step::Key("groups"), Step::Index(self.gi)];
        full.extend_from_slice(path);
        prefix(self.text, &full)
    }

    fn group_def(&self, errs: &mut Vec<String>) -> Option<GroupDef> {
        let g = self.group;
        let before = errs.len();
        let interval_ms = self.duration(g.interval.as_deref(), &[Step::Key("interval")], errs);
        let mut rules = Vec::new();
        for (ri, r) in g.rules.iter().enumerate() {
            if let Some(rule) = self.rule_def(ri, r, errs) {
                rules.push(rule);
            }
        }
        (errs.len() == before).then(|| GroupDef {
            name: g.name.clone(),
            interval_ms: interval_ms.filter(|&ms| ms > 0),
            limit: usize::try_from(g.limit).unwrap_or(0),
            language: g.query_language.unwrap_or_default(),
            rules,
        })
    }

    fn duration(&self, text: Option<&str>, path: &[Step], errs: &mut Vec<String>) -> Option<i64> {
        let text = text?;
        let ms = prometheus_duration_ms(text);
        if ms.is_none() {
            errs.push(format!(
                "{}not a valid duration string: {text:?}",
                self.at(path)
            ));
        }
        ms
    }

    fn rule_def(&self, ri: usize, r: &RuleDoc, errs: &mut Vec<String>) -> Option<RuleDef> {
        let node = |key: &'static str| {
            move |s: &Self| s.at(&[Step::Key("rules"), Step::Index(ri), Step::Key(key)])
        };
        let record = r.record.as_deref().unwrap_or_default();
        let alert = r.alert.as_deref().unwrap_or_default();
        let head = format!(
            "group {:?}, rule {}, {:?}: ",
            self.group.name,
            ri + 1,
            if alert.is_empty() { record } else { alert }
        );
        let mut found: Vec<String> = Vec::new();
        let mut add = |pos: String, msg: String| found.push(format!("{pos}{head}{msg}"));
        if !record.is_empty() && !alert.is_empty() {
            let both = format!("{}{}", node("record")(self), node("alert")(self));
            add(both, "only one of 'record' and 'alert' must be set".into());
        }
        if record.is_empty() && alert.is_empty() {
            add(
                node("record")(self),
                "one of 'record' or 'alert' must be set".into(),
            );
        }
        let expr = r.expr.as_deref().unwrap_or_default();
        if expr.is_empty() {
            add(
                node("expr")(self),
                "field 'expr' must be set in rule".into(),
            );
        } else if let Err(e) = parse_expr(self.group.query_language.unwrap_or_default(), expr) {
            add(
                node("expr")(self),
                format!("could not parse expression: {e}"),
            );
        }
        let rpath = [Step::Key("rules"), Step::Index(ri)];
        let mut dur_errs = Vec::new();
        let for_ms = self.duration(
            r.for_.as_deref(),
            &[rpath[0], rpath[1], Step::Key("for")],
            &mut dur_errs,
        );
        let kff_path = [rpath[0], rpath[1], Step::Key("keep_firing_for")];
        let kff_ms = self.duration(r.keep_firing_for.as_deref(), &kff_path, &mut dur_errs);
        if !record.is_empty() {
            if !r.annotations.is_empty() {
                add(
                    node("record")(self),
                    "invalid field 'annotations' in recording rule".into(),
                );
            }
            if for_ms.unwrap_or(0) != 0 {
                add(
                    node("record")(self),
                    "invalid field 'for' in recording rule".into(),
                );
            }
            if kff_ms.unwrap_or(0) != 0 {
                add(
                    node("record")(self),
                    "invalid field 'keep_firing_for' in recording rule".into(),
                );
            }
            if !is_metric_name(record) {
                add(
                    node("record")(self),
                    format!("invalid recording rule name: {record}"),
                );
            }
        }
        for name in r.labels.keys() {
            if !is_label_name(name) || name == "__name__" {
                add(String::new(), format!("invalid label name: {name}"));
            }
        }
        for name in r.annotations.keys() {
            if !is_label_name(name) {
                add(String::new(), format!("invalid annotation name: {name}"));
            }
        }
        if !alert.is_empty() {
            for (what, set) in [("label", &r.labels), ("annotation", &r.annotations)] {
                for (k, v) in set {
                    if let Err(e) = super::template::check(v) {
                        add(
                            String::new(),
                            format!("{what} {k:?}: template: __alert_{alert}:1: {e}"),
                        );
                    }
                }
            }
        }
        let ok = found.is_empty() && dur_errs.is_empty();
        errs.append(&mut dur_errs);
        errs.append(&mut found);
        ok.then(|| RuleDef {
            kind: if record.is_empty() {
                RuleKind::Alert {
                    name: alert.to_string(),
                    for_ms: for_ms.unwrap_or(0),
                    keep_firing_for_ms: kff_ms.unwrap_or(0),
                    annotations: r.annotations.clone(),
                }
            } else {
                RuleKind::Record {
                    name: record.to_string(),
                }
            },
            expr: expr.to_string(),
            labels: r.labels.clone(),
        })
    }
}

/// Whether `expr` parses in `lang`; LogQL rules must be metric queries.
pub(super) fn parse_expr(lang: QueryLanguage, expr: &str) -> Result<(), String> {
    match lang {
        QueryLanguage::Promql => promql_parser::parser::parse(expr).map(|_| ()),
        QueryLanguage::Logql => match crate::aggregator::logql::parse(expr) {
            Ok(crate::aggregator::logql::Expr::Metric(_)) => Ok(()),
            Ok(_) => Err("a log query is not a metric query; a rule needs a metric query".into()),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// `model.IsValidMetricName`: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

/// `model.LabelName.IsValid`: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}
