//! The `json` stage (Loki's `JSONParser` and `JSONExpressionParser`) and `unpack`.
//! Without parameters every scalar of the top-level object becomes a label, nested
//! keys joined with `_` and names sanitised (arrays skipped); with parameters each
//! label takes the value at its path (`a.b[0]`, `["x y"]`), objects and arrays as raw
//! JSON. A line that is not a JSON object gets `__error__="JSONParserErr"`.

use super::json_scan::{unescape, JResult, Kind, Scanner};
use super::labels::LabelSet;
use crate::aggregator::model::Labels;

pub const JSON_ERR: &str = "JSONParserErr";

/// Reusable buffers for the json stages.
#[derive(Debug, Default)]
pub struct JsonBufs {
    pub(super) key: String,
    pub(super) value: String,
}

/// `| json`: every scalar, flattened.
pub fn extract_all(
    line: &str,
    stream: &Labels,
    labels: &mut LabelSet,
    bufs: &mut JsonBufs,
    max_depth: usize,
) {
    let mut s = Scanner::new(line, max_depth);
    bufs.key.clear();
    let result = object(&mut s, line, stream, labels, bufs, 0).and_then(|_| {
        if s.at_end() {
            Ok(())
        } else {
            s.err("trailing data after object")
        }
    });
    if let Err(e) = result {
        labels.set_error(JSON_ERR, &e.to_string());
    }
}

/// Walks an object at the cursor, setting a label per scalar under the key prefix.
fn object(
    s: &mut Scanner<'_>,
    line: &str,
    stream: &Labels,
    labels: &mut LabelSet,
    bufs: &mut JsonBufs,
    depth: usize,
) -> JResult<()> {
    if depth >= s.max_depth {
        return s.err("nesting too deep");
    }
    s.expect(b'{', "expected object")?;
    if s.eat(b'}') {
        return Ok(());
    }
    let prefix_len = bufs.key.len();
    loop {
        s.ws();
        let (ks, ke, escaped) = s.string()?;
        s.expect(b':', "expected ':' after object key")?;
        bufs.key.truncate(prefix_len);
        if prefix_len > 0 {
            bufs.key.push('_');
        }
        push_sanitized(&line[ks..ke], escaped, prefix_len == 0, &mut bufs.key);
        s.ws();
        if s.b.get(s.i) == Some(&b'{') {
            object(s, line, stream, labels, bufs, depth + 1)?;
        } else {
            let (kind, vs, ve) = s.value(depth + 1)?;
            set_scalar(kind, &line[vs..ve], stream, labels, bufs);
        }
        if s.eat(b'}') {
            bufs.key.truncate(prefix_len);
            return Ok(());
        }
        s.expect(b',', "expected ',' or '}'")?;
    }
}

fn set_scalar(kind: Kind, raw: &str, stream: &Labels, labels: &mut LabelSet, bufs: &mut JsonBufs) {
    bufs.value.clear();
    match kind {
        Kind::Str { escaped: true } => unescape(raw, &mut bufs.value),
        Kind::Str { escaped: false } | Kind::Scalar => bufs.value.push_str(raw),
        Kind::Object | Kind::Array | Kind::Null => return,
    }
    labels.set_extracted(stream, &bufs.key, &bufs.value);
}

/// Loki's `sanitizeLabelKey`: characters other than `[a-zA-Z0-9_]` become `_`, and a
/// leading digit of the whole name gets a `_` before it.
fn push_sanitized(raw: &str, escaped: bool, first: bool, out: &mut String) {
    let start = out.len();
    if escaped {
        unescape(raw, out);
    } else {
        out.push_str(raw);
    }
    let clean = out[start..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if clean {
        // The common case: nothing to rewrite, no allocation.
        if first && out[start..].starts_with(|c: char| c.is_ascii_digit()) {
            out.insert(start, '_');
        }
        return;
    }
    let key: String = out[start..]
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(start);
    if first && key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.push_str(&key);
}

/// `| unpack`: each string member a label; `_entry` replaces the line (into `line_out`).
/// Returns whether the line was replaced.
pub fn unpack(
    line: &str,
    stream: &Labels,
    labels: &mut LabelSet,
    bufs: &mut JsonBufs,
    line_out: &mut String,
    max_depth: usize,
) -> bool {
    let mut s = Scanner::new(line, max_depth);
    let mut replaced = false;
    let result = (|| -> JResult<()> {
        s.expect(b'{', "expected object")?;
        if s.eat(b'}') {
            return Ok(());
        }
        loop {
            s.ws();
            let (ks, ke, _) = s.string()?;
            s.expect(b':', "expected ':' after object key")?;
            let (kind, vs, ve) = s.value(1)?;
            if let Kind::Str { escaped } = kind {
                bufs.value.clear();
                if escaped {
                    unescape(&line[vs..ve], &mut bufs.value)
                } else {
                    bufs.value.push_str(&line[vs..ve])
                }
                if &line[ks..ke] == "_entry" {
                    line_out.clear();
                    line_out.push_str(&bufs.value);
                    replaced = true;
                } else {
                    labels.set_extracted(stream, &line[ks..ke], &bufs.value);
                }
            }
            if s.eat(b'}') {
                return Ok(());
            }
            s.expect(b',', "expected ',' or '}'")?;
        }
    })();
    if let Err(e) = result {
        labels.set_error(JSON_ERR, &e.to_string());
    }
    replaced
}
