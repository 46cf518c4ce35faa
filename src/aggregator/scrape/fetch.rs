//! One HTTP scrape: GET with the negotiation headers, status check, body read within
//! the size limit, gzip inflated within the same limit, and the body turned into text
//! 0.0.4 samples (an OpenMetrics answer's exemplars are cut, its second timestamps made
//! milliseconds, `# EOF` and `# UNIT` skipped).

use crate::exposition::parse::{parse, Parsed};
use std::io::Read;
use std::time::Duration;

/// We ask for text 0.0.4 first: every client library serves it, and it is the format
/// our parser reads in full; OpenMetrics is taken when that is all a target speaks.
pub const ACCEPT: &str =
    "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1";

/// Why a scrape failed, in the words Prometheus puts in `lastError`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Http(String),
    #[error("server returned HTTP status {0}")]
    Status(String),
    #[error("body size limit exceeded")]
    TooBig,
    #[error("{0}")]
    Parse(String),
}

/// GETs `url` within `timeout`, reading at most `limit` bytes (after inflating).
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    limit: u64,
    authorization: Option<&str>,
) -> Result<Parsed, FetchError> {
    let mut request = client.get(url).timeout(timeout);
    for (name, value) in scrape_headers(timeout, authorization) {
        request = request.header(name, value);
    }
    let resp = request
        .send()
        .await
        .map_err(|e| FetchError::Http(describe(&e)))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(FetchError::Status(status.to_string()));
    }
    let kind = BodyKind::of(resp.headers());
    let raw = read_limited(resp, limit).await?;
    decode(raw, kind, limit)
}

/// The headers to send with a scrape that waits at most `timeout`, besides Host and
/// User-Agent (the same over reqwest and over a loop's own connection), with the job's
/// `Authorization` header if it has one.
pub fn scrape_headers(
    timeout: Duration,
    authorization: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Accept", ACCEPT.to_owned()),
        ("Accept-Encoding", "gzip".to_owned()),
        (
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        ),
    ];
    if let Some(value) = authorization {
        headers.push(("Authorization", value.to_owned()));
    }
    headers
}

/// How a 200 answer's body is encoded, from its headers.
#[derive(Debug, Clone, Copy)]
pub struct BodyKind {
    gzipped: bool,
    openmetrics: bool,
}

impl BodyKind {
    pub fn of(headers: &http::HeaderMap) -> BodyKind {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        BodyKind {
            gzipped: header("content-encoding").contains("gzip"),
            openmetrics: header("content-type").starts_with("application/openmetrics-text"),
        }
    }
}

/// A whole raw body (at most `limit` bytes) as samples: inflated within `limit`,
/// checked as UTF-8, OpenMetrics turned into text 0.0.4, parsed.
pub fn decode(raw: Vec<u8>, kind: BodyKind, limit: u64) -> Result<Parsed, FetchError> {
    let body = if kind.gzipped {
        inflate(&raw, limit)?
    } else {
        raw
    };
    let text =
        String::from_utf8(body).map_err(|_| FetchError::Parse("body is not valid UTF-8".into()))?;
    let text = if kind.openmetrics {
        from_openmetrics(&text)
    } else {
        text
    };
    parse(&text).map_err(|e| FetchError::Parse(e.to_string()))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return DEADLINE.into();
    }
    error_chain(e)
}

/// What a scrape that ran out of time reports (Go's wording, as Prometheus shows it).
pub const DEADLINE: &str = "context deadline exceeded";

/// Appends a body's `chunk` to `body`, failing once the body would pass `limit` bytes.
pub fn append_limited(body: &mut Vec<u8>, chunk: &[u8], limit: u64) -> Result<(), FetchError> {
    if body.len() as u64 + chunk.len() as u64 > limit {
        return Err(FetchError::TooBig);
    }
    body.extend_from_slice(chunk);
    Ok(())
}

/// An error with its sources, `: `-separated (reqwest's wording, which Prometheus's
/// `lastError` shows in its own way).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

async fn read_limited(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| FetchError::Http(describe(&e)))?
    {
        append_limited(&mut body, &chunk, limit)?;
    }
    Ok(body)
}

fn inflate(gz: &[u8], limit: u64) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(gz).take(limit.saturating_add(1));
    reader
        .read_to_end(&mut out)
        .map_err(|e| FetchError::Parse(format!("gzip: {e}")))?;
    if out.len() as u64 > limit {
        return Err(FetchError::TooBig);
    }
    Ok(out)
}

/// An OpenMetrics body as text 0.0.4: exemplars cut, timestamps (seconds) in ms.
fn from_openmetrics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('#') {
            if !(line.starts_with("# EOF") || line.starts_with("# UNIT")) {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let body = labels_end(line);
        let sample = match line[body..].find(" # ") {
            Some(i) => &line[..body + i],
            None => line,
        };
        out.push_str(&with_ms_timestamp(sample, body));
        out.push('\n');
    }
    out
}

/// Where a sample line's label set ends (after its `}`; quoted values may hold `}`,
/// `#` and escaped quotes), or 0 when it has none.
fn labels_end(line: &str) -> usize {
    let Some(open) = line.find('{') else { return 0 };
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in line[open..].char_indices() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, _, '"') => quoted = !quoted,
            (false, _, '}') => return open + i + 1,
            _ => {}
        }
    }
    line.len()
}

/// `name{..} value ts_seconds` → `name{..} value ts_ms` (`body`: where the labels end,
/// 0 without labels); other lines unchanged.
fn with_ms_timestamp(line: &str, body: usize) -> String {
    let tail: Vec<&str> = line[body..].split_whitespace().collect();
    let value_at = if body == 0 { 1 } else { 0 };
    match tail.as_slice() {
        t if t.len() == value_at + 2 => match t[value_at + 1].parse::<f64>() {
            Ok(secs) => {
                let cut = line.rfind(t[value_at + 1]).unwrap_or(line.len());
                format!("{}{}", &line[..cut], (secs * 1000.0).round() as i64)
            }
            Err(_) => line.to_owned(),
        },
        _ => line.to_owned(),
    }
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
