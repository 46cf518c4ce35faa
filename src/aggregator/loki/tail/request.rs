//! A tail request's parameters as Loki reads them (`pkg/loghttp/tail.go`,
//! `ParseTailQuery`): `query` (a log query: selector and pipeline; a metric query is
//! refused), `limit` (lines of backlog, 100), `start` (the backlog's start, an hour ago)
//! and `delay_for` (seconds a line is held back for late arrivals, 0 to 5). Pure.

use super::super::params::parse_timestamp;
use crate::aggregator::http::params::Params;
use crate::aggregator::logql::ast::LogExpr;
use crate::aggregator::logql::{parse, Expr};

/// Loki's `maxDelayForInTailing` (seconds).
pub const MAX_DELAY_FOR: i64 = 5;
/// Loki's `defaultQueryLimit`.
const DEFAULT_LIMIT: usize = 100;
const S: i64 = 1_000_000_000;

/// A validated tail request.
#[derive(Debug, Clone, PartialEq)]
pub struct TailRequest {
    pub log: LogExpr,
    /// Backlog lines sent first (the newest ones since `start`).
    pub limit: usize,
    /// The backlog's start, ns.
    pub start: i64,
    /// How long (ns) a line waits before it is sent, so late lines keep their order.
    pub delay_ns: i64,
}

impl TailRequest {
    /// Reads the parameters at `now` (ns); the error is the 400's text.
    pub fn parse(p: &Params, now: i64) -> Result<TailRequest, String> {
        let log = match parse(p.get("query")).map_err(|e| e.to_string())? {
            Expr::Log(log) => log,
            Expr::Metric(_) => return Err("only log selector is supported".into()),
        };
        let limit = limit(p.get("limit"))?;
        let start = match p.get("start") {
            "" => now.saturating_sub(3600 * S),
            v => parse_timestamp(v).map_err(|e| format!("invalid start: {e}"))?,
        };
        let delay = delay_for(p.get("delay_for"))?;
        Ok(TailRequest {
            log,
            limit,
            start,
            delay_ns: delay * S,
        })
    }
}

fn limit(v: &str) -> Result<usize, String> {
    if v.is_empty() {
        return Ok(DEFAULT_LIMIT);
    }
    let n = v
        .parse::<i64>()
        .map_err(|_| format!("invalid limit: {v:?}"))?;
    if n <= 0 {
        return Err("limit must be a positive value".into());
    }
    usize::try_from(n).map_err(|_| format!("invalid limit: {v:?}"))
}

fn delay_for(v: &str) -> Result<i64, String> {
    if v.is_empty() {
        return Ok(0);
    }
    let n = v
        .parse::<i64>()
        .map_err(|_| format!("invalid delay_for: {v:?}"))?;
    if n < 0 {
        return Err(format!("invalid delay_for: {v:?}"));
    }
    if n > MAX_DELAY_FOR {
        return Err(format!("delay_for can't be greater than {MAX_DELAY_FOR}"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000 * S;

    fn parse_query(q: &str) -> Result<TailRequest, String> {
        TailRequest::parse(&Params::parse(None, Some(q)), NOW)
    }

    #[test]
    fn defaults_are_lokis() {
        let r = parse_query("query=%7Bapp%3D%22api%22%7D").unwrap();
        assert_eq!((r.limit, r.start, r.delay_ns), (100, NOW - 3600 * S, 0));
        assert_eq!(r.log.matchers.len(), 1);
    }

    #[test]
    fn parameters_are_read() {
        let r = parse_query(
            "query=%7Ba%3D%22b%22%7D+%7C%3D+%22x%22&limit=7&start=1700000000&delay_for=5",
        )
        .unwrap();
        assert_eq!((r.limit, r.start, r.delay_ns), (7, NOW, 5 * S));
        assert_eq!(r.log.stages.len(), 1);
    }

    #[test]
    fn bad_parameters_are_refused_with_lokis_words() {
        let sel = "query=%7Ba%3D%22b%22%7D";
        let cases = [
            (
                "query=count_over_time(%7Ba%3D%22b%22%7D%5B1m%5D)".to_string(),
                "only log selector is supported",
            ),
            (
                format!("{sel}&delay_for=6"),
                "delay_for can't be greater than 5",
            ),
            (format!("{sel}&delay_for=-1"), "invalid delay_for"),
            (format!("{sel}&delay_for=x"), "invalid delay_for"),
            (format!("{sel}&limit=0"), "limit must be a positive value"),
            (format!("{sel}&limit=ten"), "invalid limit"),
            (format!("{sel}&start=yesterday"), "invalid start"),
            ("query=%7Ba%3D".to_string(), "parse error"),
            ("query=".to_string(), "parse error"),
        ];
        for (q, want) in cases {
            let err = parse_query(&q).unwrap_err();
            assert!(err.contains(want), "{q}: {err}");
        }
    }
}
