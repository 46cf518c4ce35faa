//! The oracle's pipeline stages that rows share: Loki 3's numeric, duration and byte
//! label filters, `regexp`/`pattern` over the nginx and CoreDNS lines, and label
//! renames. Line filters, string label filters and templates are written inline in the
//! rows as plain `contains`/`==`/`format!`.

use crate::parsers::{self, Line};

/// A numeric, duration or bytes label filter as grafana/loki v3
/// `pkg/logql/log/label_filter.go` runs it: a line without the label is dropped (even
/// one that already failed a stage); a value that does not convert keeps the line and
/// marks it `__error__="LabelFilterErr"` unless it already has an error.
pub fn cmp(
    mut l: Line,
    name: &str,
    conv: impl Fn(&str) -> Option<f64>,
    test: impl Fn(f64) -> bool,
) -> Option<Line> {
    let raw = l.labels.get(name)?.clone();
    match conv(&raw) {
        Some(v) => test(v).then_some(l),
        None => {
            if !l.has_error() {
                l.set_error("LabelFilterErr");
                l.labels.insert("__error_details__".into(), "?".into());
            }
            Some(l)
        }
    }
}

/// `| status >= 500`-like filters on a float.
pub fn num(l: Line, name: &str, test: impl Fn(f64) -> bool) -> Option<Line> {
    cmp(l, name, |s| s.parse().ok(), test)
}

/// `| d > 250ms`: Go durations, compared in seconds.
pub fn dur(l: Line, name: &str, test: impl Fn(f64) -> bool) -> Option<Line> {
    cmp(l, name, parsers::go_duration, test)
}

/// `| size >= 20KB`: byte sizes, compared in bytes.
pub fn size(l: Line, name: &str, test: impl Fn(f64) -> bool) -> Option<Line> {
    cmp(l, name, parsers::bytes, test)
}

/// `| regexp` / `| pattern` over a line whose fields `fields` finds: the named ones
/// become labels (a line the expression does not match gets none, as in Loki).
pub fn capture(
    mut l: Line,
    fields: impl Fn(&str) -> Option<Vec<(&'static str, String)>>,
    names: &[&str],
) -> Line {
    if let Some(found) = fields(&l.line) {
        for (n, v) in found.iter().filter(|(n, _)| names.contains(n)) {
            l.extract(n, v);
        }
    }
    l
}

/// `| regexp` of the nginx line into ip, method, path, status, bytes.
pub fn nginx_regexp(l: Line) -> Line {
    capture(
        l,
        parsers::nginx,
        &["ip", "method", "path", "status", "bytes"],
    )
}

/// `| pattern` of the nginx line into ip, method, path, status, bytes, agent, latency.
pub fn nginx_pattern(l: Line) -> Line {
    capture(
        l,
        parsers::nginx,
        &[
            "ip", "method", "path", "status", "bytes", "agent", "latency",
        ],
    )
}

/// `| pattern "[<level>] <qtype> <name> <rcode> <dur>"` of a CoreDNS line.
pub fn dns_pattern(l: Line) -> Line {
    capture(l, parsers::dns, &["level", "qtype", "name", "rcode", "dur"])
}

/// `drop`: these labels leave.
pub fn drop(mut l: Line, names: &[&str]) -> Line {
    l.labels.retain(|n, _| !names.contains(&n.as_str()));
    l
}

/// `keep`: only these labels stay.
pub fn keep(mut l: Line, names: &[&str]) -> Line {
    l.labels.retain(|n, _| names.contains(&n.as_str()));
    l
}

/// `| label_format dst=src`: renamed (the old name leaves).
pub fn rename(mut l: Line, dst: &str, src: &str) -> Line {
    if let Some(v) = l.labels.remove(src) {
        l.labels.insert(dst.into(), v);
    }
    l
}

/// A label set by `label_format` or dropped error details: plain insert.
pub fn set(mut l: Line, name: &str, value: String) -> Line {
    l.labels.insert(name.into(), value);
    l
}
