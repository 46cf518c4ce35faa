//! The `json` stage (Loki's `JSONParser` and `JSONExpressionParser`) and `unpack`.
//! Without parameters every scalar of the top-level object becomes a label, nested
//! keys joined with `_` and names sanitised (arrays skipped); with parameters each
//! label takes the value at its path (`a.b[0]`, `["x y"]`), objects and arrays as raw
//! JSON. A line that is not a JSON object gets `__error__="JSONParserErr"`.

use super::json_scan::{unescape, JResult, Kind, Scanner};
use super::labels::LabelSet;
use crate::aggregator::model::Labels;

pub const JSON_ERR: &str = "JSONParserErr";

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `a.b[0]["c d"]` into steps.
pub fn parse_path(src: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    let mut rest = src.trim();
    let bad = || format!("invalid JSON path {src:?}");
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").ok_or_else(bad)?;
            out.push(Seg::Key(r[..end].to_string()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            out.push(Seg::Index(r[..end].trim().parse().map_err(|_| bad())?));
            rest = &r[end + 1..];
        } else {
            let r = if out.is_empty() {
                rest
            } else {
                rest.strip_prefix('.').ok_or_else(bad)?
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad());
            }
            out.push(Seg::Key(r[..end].to_string()));
            rest = &r[end..];
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Reusable buffers for the json stages.
#[derive(Debug, Default)]
pub struct JsonBufs {
    key: String,
    value: String,
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

/// `| json a="x.y"`: each (label, path) its value, if present.
pub fn extract_paths(
    line: &str,
    params: &[(String, Vec<Seg>)],
    stream: &Labels,
    labels: &mut LabelSet,
    bufs: &mut JsonBufs,
    max_depth: usize,
) {
    if !line.trim_start().starts_with('{') {
        labels.set_error(JSON_ERR, "line is not a JSON object");
        return;
    }
    for (label, path) in params {
        let mut s = Scanner::new(line, max_depth);
        match find(&mut s, path, 0) {
            Ok(Some((kind, vs, ve))) => {
                bufs.key.clear();
                bufs.key.push_str(label);
                bufs.value.clear();
                match kind {
                    Kind::Str { escaped: true } => unescape(&line[vs..ve], &mut bufs.value),
                    Kind::Null => {}
                    _ => bufs.value.push_str(&line[vs..ve]),
                }
                labels.set_extracted(stream, &bufs.key, &bufs.value);
            }
            Ok(None) => {}
            Err(e) => return labels.set_error(JSON_ERR, &e.to_string()),
        }
    }
}

/// The value at `path` from the cursor, if there is one.
fn find(s: &mut Scanner<'_>, path: &[Seg], depth: usize) -> JResult<Option<(Kind, usize, usize)>> {
    s.ws();
    let Some(seg) = path.first() else {
        return s.value(depth).map(Some);
    };
    if depth >= s.max_depth {
        return s.err("nesting too deep");
    }
    match (seg, s.b.get(s.i)) {
        (Seg::Key(want), Some(b'{')) => {
            s.i += 1;
            if s.eat(b'}') {
                return Ok(None);
            }
            loop {
                s.ws();
                let (ks, ke, escaped) = s.string()?;
                s.expect(b':', "expected ':' after object key")?;
                let key = std::str::from_utf8(&s.b[ks..ke]).unwrap_or("");
                let hit = if escaped {
                    let mut k = String::new();
                    unescape(key, &mut k);
                    k == *want
                } else {
                    key == want
                };
                if hit {
                    return find(s, &path[1..], depth + 1);
                }
                s.value(depth + 1)?;
                if s.eat(b'}') {
                    return Ok(None);
                }
                s.expect(b',', "expected ',' or '}'")?;
            }
        }
        (Seg::Index(want), Some(b'[')) => {
            s.i += 1;
            if s.eat(b']') {
                return Ok(None);
            }
            for n in 0.. {
                if n == *want {
                    return find(s, &path[1..], depth + 1);
                }
                s.value(depth + 1)?;
                if s.eat(b']') {
                    break;
                }
                s.expect(b',', "expected ',' or ']'")?;
            }
            Ok(None)
        }
        _ => s.value(depth).map(|_| None),
    }
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
