//! The `logfmt` stage (Loki's `LogfmtParser`, go-logfmt's syntax): `key=value`,
//! `key="quoted \"value\""`, standalone `key`. Keys are runs of bytes above space other
//! than `=` and `"`, sanitised as json keys are. Empty values are skipped unless
//! `--keep-empty`; a syntax error skips the bad token, or with `--strict` stops and
//! sets `__error__="LogfmtParserErr"`.

use super::labels::LabelSet;
use crate::aggregator::logql::ast::LogfmtParams;
use crate::aggregator::model::Labels;

pub const LOGFMT_ERR: &str = "LogfmtParserErr";

/// Reusable buffers.
#[derive(Debug, Default)]
pub struct LogfmtBufs {
    key: String,
    value: String,
}

/// Runs the stage on `line`.
pub fn extract(
    line: &str,
    p: &LogfmtParams,
    stream: &Labels,
    labels: &mut LabelSet,
    bufs: &mut LogfmtBufs,
) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] <= b' ' {
            i += 1;
            continue;
        }
        match pair(line, i, bufs) {
            Ok(next) => {
                i = next;
                set(p, stream, labels, bufs);
            }
            Err((at, msg)) => {
                if p.strict {
                    labels.set_error(
                        LOGFMT_ERR,
                        &format!("logfmt syntax error at pos {}: {msg}", at + 1),
                    );
                    return;
                }
                // Skip the bad token: to the next whitespace.
                i = at
                    + b[at..]
                        .iter()
                        .position(|c| *c <= b' ')
                        .unwrap_or(b.len() - at);
            }
        }
    }
}

fn set(p: &LogfmtParams, stream: &Labels, labels: &mut LabelSet, bufs: &LogfmtBufs) {
    if bufs.value.is_empty() && !p.keep_empty {
        return;
    }
    if p.params.is_empty() {
        labels.set_extracted(stream, &sanitize(&bufs.key), &bufs.value);
    } else if let Some((label, _)) = p.params.iter().find(|(_, key)| *key == bufs.key) {
        labels.set_extracted(stream, label, &bufs.value);
    }
}

/// Reads one `key[=value]` at `i` into `bufs`: the offset after it, or (offset, why).
fn pair(line: &str, i: usize, bufs: &mut LogfmtBufs) -> Result<usize, (usize, &'static str)> {
    let b = line.as_bytes();
    let key_end = i + b[i..]
        .iter()
        .position(|c| *c <= b' ' || *c == b'=' || *c == b'"')
        .unwrap_or(b.len() - i);
    if key_end == i {
        return Err((
            i,
            if b[i] == b'=' {
                "unexpected '='"
            } else {
                "unexpected '\"'"
            },
        ));
    }
    bufs.key.clear();
    bufs.key.push_str(&line[i..key_end]);
    bufs.value.clear();
    if b.get(key_end) != Some(&b'=') {
        return match b.get(key_end) {
            Some(b'"') => Err((key_end, "unexpected '\"'")),
            _ => Ok(key_end),
        };
    }
    let v = key_end + 1;
    if b.get(v) == Some(&b'"') {
        return quoted(line, v + 1, &mut bufs.value);
    }
    let end = v + b[v..]
        .iter()
        .position(|c| *c <= b' ')
        .unwrap_or(b.len() - v);
    if let Some(bad) = b[v..end].iter().position(|c| *c == b'=' || *c == b'"') {
        return Err((v + bad, "invalid character in value"));
    }
    bufs.value.push_str(&line[v..end]);
    Ok(end)
}

/// A quoted value starting after its quote: unescaped into `out`; the offset after it.
fn quoted(line: &str, start: usize, out: &mut String) -> Result<usize, (usize, &'static str)> {
    let mut chars = line[start..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '"' => return Ok(start + n + 1),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(e @ ('"' | '\\' | '/')) => out.push(e),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    out.push(ch.ok_or((start + n, "invalid \\u escape"))?);
                }
                _ => return Err((start + n, "invalid escape")),
            },
            _ => out.push(c),
        }
    }
    Err((start - 1, "unterminated quoted value"))
}

/// Loki's label-name sanitising (as for json keys); borrowed when already clean.
fn sanitize(key: &str) -> std::borrow::Cow<'_, str> {
    let clean = key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if clean {
        return std::borrow::Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 1);
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    std::borrow::Cow::Owned(out)
}
