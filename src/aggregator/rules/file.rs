//! Prometheus's rule-file format (rulefmt): groups of recording and alerting rules in
//! YAML, unknown keys refused. [`parse`] reads a file's text into validated
//! [`GroupDef`]s or every error rulefmt would report, each naming the file and,
//! where rulefmt does, the node's line and column (see [`super::validate`]).
//! Our extension: `query_language: logql` makes a group's expressions LogQL (as Loki's
//! ruler reads them); such files are not for promtool.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The file as written (rulefmt's `RuleGroups`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDoc {
    #[serde(default)]
    pub groups: Vec<GroupDoc>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupDoc {
    #[serde(default)]
    pub name: String,
    pub interval: Option<String>,
    #[serde(default)]
    pub limit: i64,
    pub query_language: Option<QueryLanguage>,
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleDoc {
    pub record: Option<String>,
    pub alert: Option<String>,
    pub expr: Option<String>,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub keep_firing_for: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Which language a group's expressions are in.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum QueryLanguage {
    #[default]
    Promql,
    Logql,
}

/// A validated group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDef {
    pub name: String,
    /// The group's own interval; `None`: the global evaluation interval.
    pub interval_ms: Option<i64>,
    /// Alerts or series a rule may yield per evaluation; 0 = no limit.
    pub limit: usize,
    pub language: QueryLanguage,
    pub rules: Vec<RuleDef>,
}

/// A validated rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    pub kind: RuleKind,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    Record {
        name: String,
    },
    Alert {
        name: String,
        for_ms: i64,
        keep_firing_for_ms: i64,
        annotations: BTreeMap<String, String>,
    },
}

impl RuleDef {
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Record { name } | RuleKind::Alert { name, .. } => name,
        }
    }
}

/// A rule file that cannot be used: every problem found, each a full message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct FileErrors(pub Vec<String>);

/// Reads and validates the rule file at `path`.
pub fn load(path: &Path) -> Result<Vec<GroupDef>, FileErrors> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| FileErrors(vec![format!("{shown}: {e}")]))?;
    parse(&shown, &text)
}

/// Parses and validates a rule file's text; `file` names it in the errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<GroupDef>, FileErrors> {
    let doc: FileDoc = match serde_norway::from_str(text) {
        Ok(doc) => doc,
        // An empty file is an empty rule set, as in rulefmt.
        Err(_) if text.trim().is_empty() => FileDoc::default(),
        Err(e) => return Err(FileErrors(vec![format!("{file}: {}", yaml_error(&e))])),
    };
    super::validate::validate(text, &doc)
        .map_err(|errs| FileErrors(errs.into_iter().map(|e| format!("{file}: {e}")).collect()))
}

/// serde's message with the line and column first, as rulefmt's other errors have it;
/// an unknown key in yaml.v3's words (`field x not found in type rulefmt.RuleNode`).
fn yaml_error(e: &serde_norway::Error) -> String {
    let msg = e.to_string();
    let Some(at) = e.location() else { return msg };
    let suffix = format!(" at line {} column {}", at.line(), at.column());
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    match unknown_field(msg) {
        Some((field, ty)) => format!(
            "yaml: unmarshal errors:\n  line {}: field {field} not found in type rulefmt.{ty}",
            at.line()
        ),
        None => format!("{}:{}: {msg}", at.line(), at.column()),
    }
}

/// The key and rulefmt's type name from serde's "path: unknown field `x`, ...".
fn unknown_field(msg: &str) -> Option<(&str, &'static str)> {
    let (path, rest) = match msg.split_once(": unknown field `") {
        Some((path, rest)) => (path, rest),
        None => ("", msg.strip_prefix("unknown field `")?),
    };
    let field = &rest[..rest.find('`')?];
    let ty = match path.matches('[').count() {
        0 => "RuleGroups",
        1 => "RuleGroup",
        _ => "RuleNode",
    };
    Some((field, ty))
}
