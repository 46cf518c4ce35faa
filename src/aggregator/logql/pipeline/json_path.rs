//! `| json label="path"`: Loki's JSON expressions (`a.b[0]`, `["key with spaces"]`),
//! parsed once, then walked over each line without building a tree. Strings yield
//! their unescaped value, objects and arrays their raw JSON, `null` and a missing
//! path an empty value (so an earlier parser's value is cleared).

use super::json::{JsonBufs, JSON_ERR};
use super::json_scan::{unescape, JResult, Kind, Scanner};
use super::labels::LabelSet;
use crate::aggregator::model::Labels;

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
            let (key, after) = quoted_key(r).ok_or_else(bad)?;
            out.push(Seg::Key(key));
            rest = after.strip_prefix(']').ok_or_else(bad)?;
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

/// A `"`-terminated key with `\"` and `\\` escapes: the key and what follows the quote.
fn quoted_key(s: &str) -> Option<(String, &str)> {
    let mut key = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((key, &s[i + 1..])),
            '\\' => key.push(chars.next()?.1),
            _ => key.push(c),
        }
    }
    None
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
    if line.is_empty() {
        return; // as Loki: nothing to extract, no error
    }
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
            // A path that leads nowhere empties the label, as in Loki.
            Ok(None) => labels.set_extracted(stream, label, ""),
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
