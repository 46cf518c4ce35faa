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
        let path = |key| [Step::Key("rules"), Step::Index(ri), Step::Key(key)];
        let before = errs.len();
        let for_ms = self.duration(r.for_.as_deref(), &path("for"), errs);
        let kff_ms = self.duration(r.keep_firing_for.as_deref(), &path("keep_firing_for"), errs);
        let mut c = RuleCheck {
            group: self,
            ri,
            r,
            record: r.record.as_deref().unwrap_or_default(),
            alert: r.alert.as_deref().unwrap_or_default(),
            found: Vec::new(),
        };
        c.kind_and_expr();
        c.recording(for_ms.unwrap_or(0), kff_ms.unwrap_or(0));
        c.names();
        c.templates();
        errs.append(&mut c.found);
        (errs.len() == before).then(|| RuleDef {
            kind: if c.record.is_empty() {
                RuleKind::Alert {
                    name: c.alert.to_string(),
                    for_ms: for_ms.unwrap_or(0),
                    keep_firing_for_ms: kff_ms.unwrap_or(0),
                    annotations: r.annotations.clone(),
                }
            } else {
                RuleKind::Record {
                    name: c.record.to_string(),
                }
            },
            expr: r.expr.clone().unwrap_or_default(),
            labels: r.labels.clone(),
        })
    }
}

/// rulefmt's `RuleNode.Validate` for one rule: messages in its order.
struct RuleCheck<'a> {
    group: &'a GroupCtx<'a>,
    ri: usize,
    r: &'a RuleDoc,
    record: &'a str,
    alert: &'a str,
    found: Vec<String>,
}

impl RuleCheck<'_> {
    /// A message about the nodes of `keys` (their positions first; none: no position).
    fn add(&mut self, keys: &[&'static str], msg: impl std::fmt::Display) {
        let pos: String = keys
            .iter()
            .map(|k| {
                self.group
                    .at(&[Step::Key("rules"), Step::Index(self.ri), Step::Key(k)])
            })
            .collect();
        let name = if self.alert.is_empty() {
            self.record
        } else {
            self.alert
        };
        let head = format!(
            "group {:?}, rule {}, {name:?}",
            self.group.group.name,
            self.ri + 1
        );
        self.found.push(format!("{pos}{head}: {msg}"));
    }

    fn kind_and_expr(&mut self) {
        if !self.record.is_empty() && !self.alert.is_empty() {
            self.add(
                &["record", "alert"],
                "only one of 'record' and 'alert' must be set",
            );
        }
        if self.record.is_empty() && self.alert.is_empty() {
            self.add(&["record"], "one of 'record' or 'alert' must be set");
        }
        let expr = self.r.expr.as_deref().unwrap_or_default();
        let lang = self.group.group.query_language.unwrap_or_default();
        if expr.is_empty() {
            self.add(&["expr"], "field 'expr' must be set in rule");
        } else if let Err(e) = parse_expr(lang, expr) {
            self.add(&["expr"], format!("could not parse expression: {e}"));
        }
    }

    fn recording(&mut self, for_ms: i64, keep_firing_for_ms: i64) {
        if self.record.is_empty() {
            return;
        }
        if !self.r.annotations.is_empty() {
            self.add(&["record"], "invalid field 'annotations' in recording rule");
        }
        if for_ms != 0 {
            self.add(&["record"], "invalid field 'for' in recording rule");
        }
        if keep_firing_for_ms != 0 {
            self.add(
                &["record"],
                "invalid field 'keep_firing_for' in recording rule",
            );
        }
        if !is_metric_name(self.record) {
            let msg = format!("invalid recording rule name: {}", self.record);
            self.add(&["record"], msg);
        }
    }

    fn names(&mut self) {
        let r = self.r;
        for name in r.labels.keys() {
            if !is_label_name(name) || name == "__name__" {
                self.add(&[], format!("invalid label name: {name}"));
            }
        }
        for name in r.annotations.keys().filter(|n| !is_label_name(n)) {
            self.add(&[], format!("invalid annotation name: {name}"));
        }
    }

    /// An alert's label and annotation templates must parse.
    fn templates(&mut self) {
        if self.alert.is_empty() {
            return;
        }
        let r = self.r;
        for (what, set) in [("label", &r.labels), ("annotation", &r.annotations)] {
            for (k, v) in set {
                if let Err(e) = super::template::check(v) {
                    // rulefmt shows Go's parse error alone, without expansion's prefix.
                    let e = e.strip_prefix("error parsing template: ").unwrap_or(&e);
                    let msg = format!("{what} {k:?}: template: __alert_{}:1: {e}", self.alert);
                    self.add(&[], msg);
                }
            }
        }
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
