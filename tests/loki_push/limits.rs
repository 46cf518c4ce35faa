//! Admission limits (429) and bearer-token auth (401).

use crate::server::{now, proto, snappy, start};
use nodepulse::aggregator::loki::{Reason, Refusal};
use std::sync::atomic::{AtomicI64, Ordering};

static RATE_CLOCK: AtomicI64 = AtomicI64::new(0);

fn rate_clock() -> i64 {
    RATE_CLOCK.load(Ordering::SeqCst)
}

#[tokio::test]
async fn the_ingestion_rate_is_a_token_bucket() {
    RATE_CLOCK.store(now(), Ordering::SeqCst);
    let s = start(|l| {
        l.limits.ingestion_rate_bytes = 1000;
        l.limits.ingestion_burst_bytes = 2000;
        l.now = rate_clock;
    })
    .await;
    let t = rate_clock();
    let line = |n: usize| "x".repeat(n);
    let (l1500, l1000) = (line(1500), line(1000));
    let push = |l: &str| snappy(&proto(&[(r#"{a="1"}"#, vec![(t, l, &[])])]));
    assert_eq!(s.push_proto(push(&l1500)).await.0, 204);
    let (status, text) = s.push_proto(push(&l1000)).await;
    assert_eq!(status, 429);
    assert_eq!(
        text,
        "Ingestion rate limit exceeded for user fake (limit: 1000 bytes/sec) while attempting \
         to ingest '1' lines totaling '1000' bytes, reduce log volume or contact your Loki \
         administrator to see if the limit can be increased\n"
    );
    assert_eq!(
        s.store.lines(&[("a", "1")]).len(),
        1,
        "nothing of a refused push is stored"
    );
    RATE_CLOCK.fetch_add(1_000_000_000, Ordering::SeqCst);
    assert_eq!(
        s.push_proto(push(&l1000)).await.0,
        204,
        "a second refilled 1000 bytes"
    );
    assert_eq!(s.loki.stats.discarded(Reason::RateLimited), 1);
}

/// A million distinct label values: past `max_streams` every new stream is refused with
/// 429, memory stays bounded, and known streams (and the server) keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_distinct_label_values_hit_the_streams_limit() {
    let s = start(|l| {
        l.limits.max_streams = 1000;
        l.limits.ingestion_rate_bytes = 1 << 30;
        l.limits.ingestion_burst_bytes = 1 << 30;
    })
    .await;
    let t = now();
    let (requests, per_request) = (100, 10_000);
    for r in 0..requests {
        let labels: Vec<String> = (0..per_request)
            .map(|i| format!(r#"{{user_id="u{}"}}"#, r * per_request + i))
            .collect();
        let streams: Vec<_> = labels
            .iter()
            .map(|l| (l.as_str(), vec![(t, "x", &[][..])]))
            .collect();
        let (status, text) = s.push_proto(snappy(&proto(&streams))).await;
        assert_eq!(status, 429, "request {r}: {text}");
        assert!(
            text.starts_with(
                "Maximum active stream limit exceeded when trying to create stream {user_id=\"u"
            ),
            "{text}"
        );
        assert!(text.ends_with("user: 'fake'\n"), "{text}");
    }
    assert_eq!(s.store.stream_count(), 1000);
    assert_eq!(
        s.loki.stats.discarded(Reason::StreamLimit),
        1_000_000 - 1000
    );
    let known = snappy(&proto(&[(
        r#"{user_id="u7"}"#,
        vec![(t + 1, "again", &[])],
    )]));
    assert_eq!(s.push_proto(known).await, (204, String::new()));
    let new = snappy(&proto(&[(r#"{user_id="fresh"}"#, vec![(t, "x", &[])])]));
    assert_eq!(s.push_proto(new).await.0, 429);
    assert_eq!(s.get("/ready", &[]).await.0, 200);
    let (_, metrics) = s.get("/metrics", &[]).await;
    assert!(
        metrics.contains("\nnodepulse_loki_discarded_stream_limit_total 999001\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn bearer_tokens_guard_ingest_and_queries() {
    let s = start(|l| {
        l.auth.ingest_token = Some("push-secret".into());
        l.auth.query_token = Some("read-secret".into());
    })
    .await;
    let body = || snappy(&proto(&[(r#"{a="1"}"#, vec![(now(), "x", &[])])]));
    let pb = ("content-type", "application/x-protobuf");
    let cases = [
        (vec![pb], 401),
        (vec![pb, ("authorization", "Bearer wrong")], 401),
        (vec![pb, ("authorization", "Bearer read-secret")], 401),
        (vec![pb, ("authorization", "Basic cHVzaC1zZWNyZXQ=")], 401),
        (vec![pb, ("authorization", "Bearer push-secret")], 204),
    ];
    for (headers, want) in cases {
        let (status, text) = s.post("/loki/api/v1/push", &headers, body()).await;
        assert_eq!(status, want, "{headers:?}: {text}");
    }
    let read = [("authorization", "Bearer read-secret")];
    assert_eq!(s.get("/loki/api/v1/labels", &[]).await.0, 401);
    assert_eq!(
        s.get("/loki/api/v1/series?match[]={a=\"1\"}", &[]).await.0,
        401
    );
    assert_eq!(s.get("/loki/api/v1/labels", &read).await.0, 200);
    assert_eq!(
        s.get("/ready", &[]).await,
        (200, "ready\n".to_string()),
        "probes stay open"
    );
    assert_eq!(s.loki.stats.refused(Refusal::Unauthorized), 6);
    assert_eq!(s.store.lines(&[("a", "1")]), ["x"]);
}

/// One push with a stream past the limit, an invalid stream and a known stream: the
/// limit's 429 wins over the 400, and the known stream is stored.
#[tokio::test]
async fn a_limit_wins_over_invalid_entries_and_the_rest_is_stored() {
    let s = start(|l| l.limits.max_streams = 1).await;
    let t = now();
    let first = snappy(&proto(&[(r#"{a="known"}"#, vec![(t, "one", &[])])]));
    assert_eq!(s.push_proto(first).await.0, 204);
    let mixed = snappy(&proto(&[
        (r#"{a="new"}"#, vec![(t, "refused", &[])]),
        ("{}", vec![(t, "no labels", &[])]),
        (r#"{a="known"}"#, vec![(t + 1, "two", &[])]),
    ]));
    let (status, text) = s.push_proto(mixed).await;
    assert_eq!(status, 429);
    assert!(
        text.contains("when trying to create stream {a=\"new\"}"),
        "{text}"
    );
    assert_eq!(s.store.lines(&[("a", "known")]), ["one", "two"]);
    assert_eq!(s.store.stream_count(), 1);
    assert_eq!(s.loki.stats.discarded(Reason::MissingLabels), 1);
}
