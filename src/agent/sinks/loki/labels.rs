//! Stream labels: the low-cardinality label set that names a Loki stream, its label-name
//! sanitizing, and its Prometheus text form (`{a="b", c="d"}`) as the protobuf push
//! carries it.
//!
//! The distributor parses that text with LogQL's lexer (Go's `text/scanner` plus
//! `strconv.Unquote`), so values are written as Go string literals: `\\`, `\"`, `\n`, `\r`,
//! `\t` escaped, other control characters as `\u00XX`, everything else (all of Unicode)
//! raw UTF-8, which the lexer accepts as is.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Why a label set cannot name a Loki stream. Not retryable: Loki answers 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// Loki rejects a stream without labels ("at least one label pair is required per
    /// stream"); labels with empty values count as absent.
    #[error("a Loki stream needs at least one label with a non-empty value")]
    Empty,
}

/// A stream's label set: sanitized names, sorted, no empty values. Keep it small
/// (namespace, pod, container, node, stream): every distinct set is a stream Loki indexes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamLabels(BTreeMap<String, String>);

impl StreamLabels {
    /// Builds a label set from name/value pairs. Names are sanitized (see
    /// [`sanitize_name`]); pairs with an empty value are dropped, as Prometheus and Loki
    /// treat them as absent; when two names sanitize to the same, the later pair wins.
    pub fn new<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Result<Self, LabelsError>
    where
        N: AsRef<str>,
        V: Into<String>,
    {
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            let value = value.into();
            if !value.is_empty() {
                map.insert(sanitize_name(name.as_ref()), value);
            }
        }
        if map.is_empty() {
            return Err(LabelsError::Empty);
        }
        Ok(StreamLabels(map))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The Prometheus text form Loki's protobuf push expects: `{a="b", c="d"}`, in name
    /// order, with the separator Prometheus' `labels.String()` writes.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(
            16 + self
                .0
                .iter()
                .map(|(n, v)| n.len() + v.len() + 5)
                .sum::<usize>(),
        );
        out.push('{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push_str("=\"");
            escape_value(value, &mut out);
            out.push('"');
        }
        out.push('}');
        out
    }
}

/// Maps any string to Prometheus label-name syntax `[a-zA-Z_][a-zA-Z0-9_]*`: every other
/// character (each `char`, so one per code point) becomes `_`, and a name that is empty or
/// starts with a digit gets a `_` in front. This is what Prometheus' `labelmap`-style
/// sanitizing does for `app.kubernetes.io/name` ─▶ `app_kubernetes_io_name`.
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => c,
        _ => '_',
    }));
    out
}

/// Whether `name` already has Prometheus label-name syntax (then it is kept as is).
pub fn is_valid_name(name: &str) -> bool {
    is_valid_name_bytes(name.as_bytes())
}

/// [`is_valid_name`] of bytes.
pub fn is_valid_name_bytes(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Appends `value` as the inside of a Go double-quoted string literal.
pub fn escape_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_names_to_prometheus_syntax() {
        for (input, want) in [
            ("namespace", "namespace"),
            ("app.kubernetes.io/name", "app_kubernetes_io_name"),
            ("pod-template-hash", "pod_template_hash"),
            ("9lives", "_9lives"),
            ("", "_"),
            ("__meta", "__meta"),
            ("größe", "gr__e"),
            ("Trace_ID2", "Trace_ID2"),
        ] {
            assert_eq!(sanitize_name(input), want, "{input:?}");
            assert_eq!(is_valid_name(input), input == want, "{input:?}");
        }
    }

    #[test]
    fn escapes_values_as_go_string_literals() {
        for (input, want) in [
            ("plain", "plain"),
            (r#"say "hi""#, r#"say \"hi\""#),
            (r"C:\dir", r"C:\\dir"),
            ("two\nlines", r"two\nlines"),
            ("cr\rtab\t", r"cr\rtab\t"),
            ("bell\u{7}del\u{7f}", r"bell\u0007del\u007f"),
            ("naïve 日本 🚀", "naïve 日本 🚀"),
            (r#"\""#, r#"\\\""#),
        ] {
            let mut out = String::new();
            escape_value(input, &mut out);
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn renders_sorted_and_drops_empty_values() {
        let labels = StreamLabels::new([
            ("pod", "web-0"),
            ("namespace", "prod"),
            ("container", ""),
            ("app.kubernetes.io/name", "web"),
        ])
        .unwrap();
        assert_eq!(
            labels.render(),
            r#"{app_kubernetes_io_name="web", namespace="prod", pod="web-0"}"#
        );
        assert_eq!(
            StreamLabels::new([("a", "x\"y")]).unwrap().render(),
            r#"{a="x\"y"}"#
        );
    }

    #[test]
    fn a_stream_needs_a_label() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(StreamLabels::new(none), Err(LabelsError::Empty));
        assert_eq!(StreamLabels::new([("a", "")]), Err(LabelsError::Empty));
    }
}
