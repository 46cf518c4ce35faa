//! The values a template passes around (Go's dynamic types as the alert template sees
//! them: strings, float64, int, bool, the label maps and the data struct) and how Go's
//! `fmt` prints each with `%v`.

use super::fmt::fmt_g;
use super::TemplateData;
use crate::aggregator::model::Labels;

#[derive(Clone, Debug)]
pub(super) enum Val<'d> {
    Str(String),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A `map[string]string`: the alert's labels or the external labels.
    Map(&'d Labels),
    /// The template's data: `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`.
    Data,
    Nil,
}

impl Val<'_> {
    /// Go's type name, as `%!d(float64=1.5)` and error messages print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Float(_) => "float64",
            Val::Int(_) => "int",
            Val::Bool(_) => "bool",
            Val::Map(_) => "map[string]string",
            Val::Data => "template.tmplData",
            Val::Nil => "<nil>",
        }
    }

    /// Go's truth: non-zero numbers, non-empty strings and maps, `true`.
    pub fn truth(&self) -> bool {
        match self {
            Val::Str(s) => !s.is_empty(),
            Val::Float(f) => *f != 0.0,
            Val::Int(n) => *n != 0,
            Val::Bool(b) => *b,
            Val::Map(m) => !m.is_empty(),
            Val::Data => true,
            Val::Nil => false,
        }
    }
}

/// `%v` of a value; `data` resolves the data struct's fields.
pub(super) fn fmt_v(v: &Val<'_>, data: &TemplateData<'_>) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::Float(f) => fmt_g(*f, None, false),
        Val::Int(n) => n.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Map(m) => fmt_map(m),
        Val::Data => format!(
            "{{{} {} {} {}}}",
            fmt_map(data.labels),
            fmt_map(data.external_labels),
            data.external_url,
            fmt_g(data.value, None, false)
        ),
        Val::Nil => "<nil>".into(),
    }
}

/// `map[a:1 b:2]` (Go prints a map's keys sorted; [`Labels`] are).
fn fmt_map(m: &Labels) -> String {
    let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", pairs.join(" "))
}

/// A field of a value: the data struct's fields, a map's keys (missing: empty, as
/// Prometheus runs templates with `missingkey=zero`).
pub(super) fn field<'d>(
    v: &Val<'d>,
    name: &str,
    data: &TemplateData<'d>,
) -> Result<Val<'d>, String> {
    match v {
        Val::Data => match name {
            "Labels" => Ok(Val::Map(data.labels)),
            "ExternalLabels" => Ok(Val::Map(data.external_labels)),
            "ExternalURL" => Ok(Val::Str(data.external_url.to_string())),
            "Value" => Ok(Val::Float(data.value)),
            _ => Err(format!(
                "can't evaluate field {name} in type {}",
                v.type_name()
            )),
        },
        Val::Map(m) => Ok(Val::Str(m.get(name).unwrap_or("").to_string())),
        Val::Nil => Err(format!("nil pointer evaluating interface {{}}.{name}")),
        _ => Err(format!(
            "can't evaluate field {name} in type {}",
            v.type_name()
        )),
    }
}
