//! The stages that rewrite: `label_format` (renames and templates), `drop` and `keep`
//! (by name, or by name and value), and `decolorize` (ANSI colour codes removed).
//! `line_format` is a template run in [`super::Pipeline`]; a template that fails on a
//! line sets `__error__="TemplateFormatErr"` and leaves its target as it was.

use super::labels::LabelSet;
use super::template::{exec::Ctx, Template};
use crate::aggregator::logql::ast::LabelSel;

pub const TEMPLATE_ERR: &str = "TemplateFormatErr";

/// One compiled `label_format` item.
#[derive(Clone, Debug)]
pub enum LabelFmtStep {
    Rename { dst: String, src: String },
    Template { dst: String, template: Template },
}

/// Runs `label_format`: items in order; every template sees the labels as they were
/// at the first template (Loki builds its template data once per line).
pub fn label_format(
    steps: &[LabelFmtStep],
    snapshot: &mut LabelSet,
    line: &str,
    ts: i64,
    labels: &mut LabelSet,
    buf: &mut String,
    max_len: usize,
) {
    let mut taken = false;
    for step in steps {
        match step {
            LabelFmtStep::Rename { dst, src } => {
                if let Some(v) = labels.get(src) {
                    buf.clear();
                    buf.push_str(v);
                    labels.remove(src);
                    labels.set(dst, buf);
                }
            }
            LabelFmtStep::Template { dst, template } => {
                if !taken {
                    snapshot.copy_from(labels);
                    taken = true;
                }
                buf.clear();
                let ctx = Ctx {
                    line,
                    ts,
                    labels: snapshot,
                };
                match template.render(&ctx, buf, max_len) {
                    Ok(()) => labels.set(dst, buf),
                    Err(e) => labels.set_error(TEMPLATE_ERR, &e.to_string()),
                }
            }
        }
    }
}

/// Whether `sel` names the label `name` with value `value`.
fn selects(sel: &LabelSel, name: &str, value: &str) -> bool {
    match sel {
        LabelSel::Name(n) => n == name,
        LabelSel::Matcher(m) => m.name == name && m.is_match(value),
    }
}

/// `drop`: removes each selected label.
pub fn drop(sels: &[LabelSel], labels: &mut LabelSet) {
    labels.retain(|n, v| !sels.iter().any(|s| selects(s, n, v)));
}

/// `keep`: removes every label not selected.
pub fn keep(sels: &[LabelSel], labels: &mut LabelSet) {
    labels.retain(|n, v| sels.iter().any(|s| selects(s, n, v)));
}

/// `decolorize`: `line` without ANSI escape sequences (`ESC [ params letter`), written
/// to `out`; false (and `out` untouched) when there are none.
pub fn decolorize(line: &str, out: &mut String) -> bool {
    if memchr::memchr(0x1b, line.as_bytes()).is_none() {
        return false;
    }
    out.clear();
    let mut rest = line;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        let seq = &rest[i + 1..];
        rest = match seq.strip_prefix('[') {
            Some(params) => {
                let end = params
                    .bytes()
                    .position(|b| !(b.is_ascii_digit() || b == b';'));
                match end {
                    Some(e) if params.as_bytes()[e].is_ascii_alphabetic() => &params[e + 1..],
                    _ => params,
                }
            }
            None => seq,
        };
    }
    out.push_str(rest);
    true
}
