//! Issue 6's LogQL corpus: a seeded data set (`logql_corpus/data.rs`) is pushed through
//! the real Loki receiver into the real log store, then every row of the corpus is
//! asked over HTTP (`/loki/api/v1/query_range`, `/loki/api/v1/query`) and Loki's JSON
//! answer is compared with what an independent reference computes from the raw lines
//! (`logql_corpus/reference.rs` and `parsers.rs`, which call nothing of
//! `nodepulse::aggregator::logql`). Every mismatch is reported together.

#[path = "logql_corpus/data.rs"]
mod data;
#[path = "logql_corpus/expect.rs"]
mod expect;
#[path = "logql_corpus/parsers.rs"]
mod parsers;
#[path = "logql_corpus/reference.rs"]
mod reference;
#[allow(dead_code)]
#[path = "common/rng.rs"]
mod rng;
#[path = "logql_corpus/row.rs"]
mod row;
#[path = "logql_corpus/rows_agg.rs"]
mod rows_agg;
#[path = "logql_corpus/rows_binary.rs"]
mod rows_binary;
#[path = "logql_corpus/rows_format.rs"]
mod rows_format;
#[path = "logql_corpus/rows_metric.rs"]
mod rows_metric;
#[path = "logql_corpus/rows_parse.rs"]
mod rows_parse;
#[path = "logql_corpus/rows_select.rs"]
mod rows_select;
#[path = "logql_corpus/rows_unwrap.rs"]
mod rows_unwrap;
#[path = "logql_corpus/stages.rs"]
mod stages;
#[path = "logql_corpus/vectors.rs"]
mod vectors;
// Shared with `loki_push.rs`, which uses all of it; this test needs only a part.
#[allow(dead_code)]
#[path = "loki_push/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "loki_push/store.rs"]
mod store;

use expect::decode;
use reference::Data;
use row::Row;
use server::{proto, snappy, start, Running};

/// Query text at least one row must contain: issue 6's feature list, one entry each.
#[rustfmt::skip]
const FEATURES: &[&str] = &[
    // Stream selectors, every matcher kind; line filters, every kind.
    "{app=\"", "app!=\"", "app=~\"", "pod!~\"", "} |= \"", "} != \"", "} |~ \"", "} !~ \"",
    // Parsers; label filters: string, regex, numeric, duration, bytes, and/or.
    "| json", "| logfmt", "| regexp", "| pattern", "level=\"error\"", "path=~\"",
    "status >= 500", "duration > 250ms", "size >= 20KB", " and ", " or ",
    "| line_format", "| label_format", "| drop", "| keep", "__error__=\"JSONParserErr\"",
    // Metric queries.
    "count_over_time(", "rate(", "bytes_over_time(", "bytes_rate(", "sum by (", "sum without (",
    "avg by (", "min by (", "max(", "max without (", "count by (", "topk(", "quantile_over_time(",
    "unwrap duration(", "unwrap bytes(", "vector(1)+vector(1)", " / ", " > bool ", "or vector(0)",
    "group_left", " and sum", "label_replace(", "rate_counter(",
];

#[tokio::test]
async fn the_corpus_matches_the_reference() {
    let data = Data {
        streams: data::dataset(),
    };
    let s = start(|loki| loki.limits.reject_older_than = None).await;
    push(&s, &data).await;
    let rows: Vec<Row> = [
        rows_select::rows(&data),
        rows_parse::rows(&data),
        rows_format::rows(&data),
        rows_metric::rows(&data),
        rows_unwrap::rows(&data),
        rows_agg::rows(&data),
        rows_binary::rows(&data),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(rows.len() >= 80, "only {} rows", rows.len());
    for f in FEATURES {
        assert!(
            rows.iter().any(|r| r.query.contains(f)),
            "no row uses {f:?}"
        );
    }
    let mut mismatches = Vec::new();
    for r in &rows {
        let (status, body) = s.get(&r.url(), &[]).await;
        let got = decode(status, &body);
        if !r.expect.matches(&got) {
            mismatches.push(format!(
                "query: {}\n  at: {:?}\n  expected: {:?}\n  got: {:?}\n",
                r.query, r.at, r.expect, got
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} rows differ from the reference:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches.join("\n")
    );
}

/// The data set, one push request, through the receiver into the store.
async fn push(s: &Running, data: &Data) {
    let selectors: Vec<String> = data.streams.iter().map(|st| st.selector()).collect();
    let streams: Vec<(&str, Vec<server::Entry<'_>>)> = data
        .streams
        .iter()
        .zip(&selectors)
        .map(|(st, sel)| {
            let entries = st
                .entries
                .iter()
                .map(|(t, l)| (*t, l.as_str(), &[][..]))
                .collect();
            (sel.as_str(), entries)
        })
        .collect();
    assert_eq!(
        s.push_proto(snappy(&proto(&streams))).await,
        (204, String::new())
    );
    let pushed: usize = data.streams.iter().map(|st| st.entries.len()).sum();
    let stored: usize = s.store.dump().iter().map(|(_, e)| e.len()).sum();
    assert_eq!(stored, pushed, "every line stored");
}
