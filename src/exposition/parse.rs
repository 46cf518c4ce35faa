//! Reads the Prometheus text format 0.0.4 (and the OpenMetrics text subset the agent
//! writes) into samples and per-family metadata. A pure function over `&str`: the
//! aggregator's scraper and the tests that compare the agent with node_exporter use it.

use std::collections::HashMap;
use thiserror::Error;

/// A parse failure, with the 1-based line it happened on.
#[derive(Debug, Error, PartialEq)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    pub name: String,
    /// Label pairs in the order they were written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// Everything a scrape body says.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    /// `# TYPE` per family name (the word as written: counter, gauge, unknown, ...).
    pub types: HashMap<String, String>,
    /// `# HELP` per family name, unescaped.
    pub helps: HashMap<String, String>,
    pub samples: Vec<ParsedSample>,
}

/// Parses a whole exposition body.
pub fn parse(body: &str) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    for (i, raw) in body.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let err = |msg: &str| ParseError {
            line: i + 1,
            msg: msg.to_owned(),
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            parse_comment(rest.trim_start(), &mut out).map_err(|m| err(&m))?;
            continue;
        }
        out.samples.push(parse_sample(line).map_err(|m| err(&m))?);
    }
    Ok(out)
}

fn parse_comment(rest: &str, out: &mut Parsed) -> Result<(), String> {
    let mut it = rest.splitn(3, ' ');
    let (kw, name, text) = (it.next(), it.next(), it.next().unwrap_or(""));
    match (kw, name) {
        (Some("TYPE"), Some(name)) => {
            out.types.insert(name.to_owned(), text.trim().to_owned());
        }
        (Some("HELP"), Some(name)) => {
            out.helps.insert(name.to_owned(), unescape(text)?);
        }
        _ => {}
    }
    Ok(())
}

fn parse_sample(line: &str) -> Result<ParsedSample, String> {
    let name_end = line
        .find(['{', ' ', '\t'])
        .ok_or("sample line has no value")?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if rest.starts_with('{') {
        rest = parse_labels(&rest[1..], &mut labels)?;
    }
    let mut fields = rest.split_whitespace();
    let value = parse_value(fields.next().ok_or("sample line has no value")?)?;
    let timestamp_ms = match fields.next() {
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("bad timestamp {t:?}"))?,
        ),
        None => None,
    };
    if fields.next().is_some() {
        return Err("trailing text after timestamp".into());
    }
    Ok(ParsedSample {
        name: name.to_owned(),
        labels,
        value,
        timestamp_ms,
    })
}

/// Parses `name="value",...}` and returns the text after the closing brace.
fn parse_labels<'a>(mut s: &'a str, labels: &mut Vec<(String, String)>) -> Result<&'a str, String> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let eq = s.find('=').ok_or("label without '='")?;
        let name = s[..eq].trim();
        if !valid_label_name(name) {
            return Err(format!("invalid label name {name:?}"));
        }
        let after = s[eq + 1..].trim_start();
        let body = after.strip_prefix('"').ok_or("label value is not quoted")?;
        let end = closing_quote(body).ok_or("unterminated label value")?;
        labels.push((name.to_owned(), unescape(&body[..end])?));
        s = body[end + 1..].trim_start();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => return Err("dangling backslash".into()),
        }
    }
    Ok(out)
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("bad value {s:?}")),
    }
}

fn valid_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn valid_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{encode, Format, MetricFamily};

    #[test]
    fn parses_node_exporter_shaped_text() {
        let body = "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.25\n\
            node_x{a=\"q\\\"\\\\\\n\",b=\"\"} 1.795450081e+09 1700000000000\n";
        let p = parse(body).unwrap();
        assert_eq!(p.types["node_load1"], "gauge");
        assert_eq!(p.helps["node_load1"], "1m load average.");
        assert_eq!(p.samples[0].value, 0.25);
        assert_eq!(p.samples[1].labels[0].1, "q\"\\\n");
        assert_eq!(p.samples[1].labels[1].1, "");
        assert_eq!(p.samples[1].timestamp_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn round_trips_the_encoder() {
        let f = MetricFamily::counter("node_forks_total", "Help \\ \n")
            .with(&[("x", "a\"b\\c\nd"), ("y", "é")], 1.5)
            .with(&[("x", "2")], f64::INFINITY);
        for fmt in [Format::Text, Format::OpenMetrics] {
            let mut out = Vec::new();
            encode(std::slice::from_ref(&f), fmt, &mut out);
            let p = parse(std::str::from_utf8(&out).unwrap()).unwrap();
            assert_eq!(p.samples.len(), 2);
            assert_eq!(p.samples[0].name, "node_forks_total");
            assert_eq!(p.samples[0].labels[0].1, "a\"b\\c\nd");
            assert_eq!(p.samples[1].value, f64::INFINITY);
        }
    }

    #[test]
    fn rejects_garbage_with_line_number() {
        for bad in [
            "node_x",
            "1abc 1",
            "node_x{a=1} 1",
            "node_x{a=\"1} 1",
            "node_x one",
            "node_x 1 2 3",
        ] {
            let e = parse(&format!("# ok\n{bad}\n")).unwrap_err();
            assert_eq!(e.line, 2, "{bad}");
        }
    }
}
