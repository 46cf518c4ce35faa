//! `/federate`, as Prometheus serves it, so that a central Prometheus can pull a
//! cluster's series from the aggregator: every series any `match[]` selects, its latest
//! sample within the lookback delta (5m) before now, a stale one left out; sorted by
//! metric name, one `# TYPE <name> untyped` per name, each sample with its timestamp;
//! the external labels added where a series lacks them (after its own, as Prometheus
//! writes them). Always the text format 0.0.4 (Prometheus answers OpenMetrics-preferring
//! scrapers the same; protobuf is not offered). A bad selector is a 400 with
//! Prometheus's `parse error: ...`; no `match[]` selects nothing.

use super::params::{form, matcher_sets};
use super::Api;
use crate::aggregator::model::{is_stale, Labels};
use crate::exposition::{escape_into, write_value};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn federate(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = form(q, &headers, &body);
    let selectors = p.all("match[]");
    let sets = match selectors.is_empty() {
        true => Vec::new(),
        false => match matcher_sets(&selectors) {
            Ok(s) => s,
            Err(e) => {
                return (StatusCode::BAD_REQUEST, format!("parse error: {e}\n")).into_response()
            }
        },
    };
    let maxt = (api.now)();
    let mint = maxt - api.query.lookback.as_millis() as i64;
    let external = api
        .external_labels
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let querier = api.querier.clone();
    let latest = tokio::task::spawn_blocking(move || {
        let mut latest: BTreeMap<(String, Labels), (i64, f64)> = BTreeMap::new();
        for set in &sets {
            for s in querier.select(set, mint, maxt)? {
                let last = s.samples.iter().rev().find(|x| x.t <= maxt && x.t >= mint);
                let (Some(last), Some(name)) = (last, s.labels.name()) else {
                    continue;
                };
                if !is_stale(last.v) {
                    latest.insert((name.to_owned(), s.labels.clone()), (last.t, last.v));
                }
            }
        }
        Ok::<_, crate::aggregator::model::StorageError>(latest)
    })
    .await;
    // a storage error, or the read's task lost
    let latest = latest.map_err(|e| e.to_string());
    let latest = match latest.and_then(|read| read.map_err(|e| e.to_string())) {
        Ok(l) => l,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    let text = encode(&latest, &external);
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// The text: a `# TYPE` line per name, then its samples.
fn encode(latest: &BTreeMap<(String, Labels), (i64, f64)>, external: &Labels) -> Vec<u8> {
    let mut out = Vec::new();
    let mut family = None;
    for ((name, labels), (t, v)) in latest {
        if family != Some(name) {
            out.extend_from_slice(b"# TYPE ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b" untyped\n");
            family = Some(name);
        }
        out.extend_from_slice(name.as_bytes());
        let own = labels
            .iter()
            .filter(|(n, v)| *n != "__name__" && !v.is_empty());
        let added = external
            .iter()
            .filter(|(n, _)| labels.get(n).is_none_or(str::is_empty));
        let mut first = true;
        for (n, v) in own.chain(added) {
            out.push(if first { b'{' } else { b',' });
            first = false;
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_into(v, true, &mut out);
            out.push(b'"');
        }
        if !first {
            out.push(b'}');
        }
        out.push(b' ');
        write_go_float(*v, &mut out);
        out.push(b' ');
        out.extend_from_slice(itoa::Buffer::new().format(*t).as_bytes());
        out.push(b'\n');
    }
    out
}

/// A value as Prometheus's text encoder writes it: Go's shortest `%g`
/// (`strconv.FormatFloat(v, 'g', -1, 64)`), an exponent below -4 or from 6 on written
/// as `d.ddde±XX` (`-3.25e-05`, `1.5e+06`), plain decimals otherwise.
fn write_go_float(v: f64, out: &mut Vec<u8>) {
    if !v.is_finite() {
        return write_value(v, out);
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        out.extend_from_slice(format!("{v}").as_bytes());
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        let text = format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_go_writes_them() {
        let cases = [
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (10.0, "10"),
            (21.5, "21.5"),
            (0.0001, "0.0001"),
            (-3.25e-5, "-3.25e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (3e6, "3e+06"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            write_go_float(v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v}");
        }
    }
}
