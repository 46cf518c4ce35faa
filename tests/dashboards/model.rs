//! The dashboards as the test sees them: each one's query language (from its
//! `${datasource}` variable's type), its template variables, and its panels' queries;
//! and Grafana's substitution of variables into a query's text.

use serde_json::Value;
use std::path::Path;

pub const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/manifests/components/grafana-dashboards/dashboards"
);

/// Grafana's built-in interval variables, as it would expand them for a 30 s scrape
/// interval over an hour: `$__rate_interval` = max(interval + scrape, 4 × scrape).
const BUILTINS: [(&str, &str); 4] = [
    ("__rate_interval", "2m"),
    ("__interval", "30s"),
    ("__range", "1h"),
    ("__auto", "30s"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    PromQL,
    LogQL,
}

/// A template variable: a `label_values(...)` query (with the selector, if any), or a
/// text box with its default.
#[derive(Debug, Clone)]
pub enum Variable {
    LabelValues {
        name: String,
        selector: Option<String>,
        label: String,
    },
    Text {
        name: String,
        default: String,
    },
}

#[derive(Debug)]
pub struct Dashboard {
    pub file: String,
    pub lang: Lang,
    pub variables: Vec<Variable>,
    /// (panel title, query) of every target.
    pub queries: Vec<(String, String)>,
    pub json: Value,
}

/// Every dashboard file, sorted.
pub fn load_all() -> Vec<Dashboard> {
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .expect("the dashboards directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().map(|p| load(p)).collect()
}

fn load(path: &Path) -> Dashboard {
    let file = path
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(path).expect("a dashboard");
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let list = json["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let source = list
        .iter()
        .find(|v| v["type"] == "datasource" && v["name"] == "datasource")
        .unwrap_or_else(|| panic!("{file}: no ${{datasource}} variable"));
    let lang = match source["query"].as_str() {
        Some("prometheus") => Lang::PromQL,
        Some("loki") => Lang::LogQL,
        other => panic!("{file}: data source type {other:?}"),
    };
    let variables = list.iter().filter_map(|v| variable(&file, v)).collect();
    let mut queries = Vec::new();
    for panel in panels(&json) {
        let title = panel["title"].as_str().unwrap_or_default().to_string();
        for t in panel["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str();
            let expr = expr.unwrap_or_else(|| panic!("{file} {title}: a target without expr"));
            queries.push((title.clone(), expr.to_string()));
        }
    }
    Dashboard {
        file,
        lang,
        variables,
        queries,
        json,
    }
}

/// Every panel, rows' collapsed panels included.
pub fn panels(json: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in json["panels"].as_array().into_iter().flatten() {
        out.push(p);
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

fn variable(file: &str, v: &Value) -> Option<Variable> {
    let name = v["name"].as_str().expect("a variable name").to_string();
    match v["type"].as_str() {
        Some("datasource") => None,
        Some("textbox") => Some(Variable::Text {
            name,
            default: v["query"].as_str().unwrap_or_default().to_string(),
        }),
        // Grafana's Loki variable editor keeps a structured query (type 1: label values).
        Some("query") if v["query"]["type"] == 1 => {
            let stream = v["query"]["stream"].as_str().unwrap_or_default();
            let label = v["query"]["label"].as_str();
            Some(Variable::LabelValues {
                name: name.clone(),
                selector: (!stream.is_empty()).then(|| stream.to_string()),
                label: label
                    .unwrap_or_else(|| panic!("{file} ${name}: no label"))
                    .to_string(),
            })
        }
        Some("query") => {
            let q = v["query"]["query"].as_str().or(v["query"].as_str());
            let q = q.unwrap_or_else(|| panic!("{file} ${name}: no query"));
            Some(label_values(file, &name, q))
        }
        other => panic!("{file} ${name}: variable type {other:?}"),
    }
}

/// `label_values(label)` or `label_values(selector, label)`.
fn label_values(file: &str, name: &str, q: &str) -> Variable {
    let inner = q
        .trim()
        .strip_prefix("label_values(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{file} ${name}: not label_values(...): {q}"));
    // The last comma outside braces and quotes.
    let (mut depth, mut quoted, mut split) = (0, false, None);
    for (i, c) in inner.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => split = Some(i),
            _ => {}
        }
    }
    let (selector, label) = match split {
        Some(i) => (Some(inner[..i].trim().to_string()), inner[i + 1..].trim()),
        None => (None, inner.trim()),
    };
    Variable::LabelValues {
        name: name.to_string(),
        selector,
        label: label.to_string(),
    }
}

impl Variable {
    pub fn name(&self) -> &str {
        match self {
            Variable::LabelValues { name, .. } | Variable::Text { name, .. } => name,
        }
    }
}

/// `text` with Grafana's built-ins and `values` ((name, value)) put in, in both the
/// `$name` and `${name}` spellings; longer names first, so `$pod` never eats
/// `$pod_name`. Panics on a `$` left over (an undefined variable).
pub fn substitute(text: &str, values: &[(String, String)]) -> String {
    let mut all: Vec<(String, String)> = BUILTINS
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .chain(values.iter().cloned())
        .collect();
    all.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for (name, value) in &all {
        out = out.replace(&format!("${{{name}}}"), value);
        out = out.replace(&format!("${name}"), value);
    }
    assert!(
        !out.contains('$'),
        "an undefined variable in {text:?}: {out:?}"
    );
    out
}
