//! Every push format the receiver reads, end to end through HTTP into the store.

use crate::server::{gzip, now, proto, snappy, start};
use nodepulse::aggregator::loki::Refusal;
use nodepulse::aggregator::model::logs::LogEntry;
use nodepulse::aggregator::model::Labels;
use std::io::Write;

fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn snappy_protobuf_with_structured_metadata() {
    let s = start(|_| {}).await;
    let t = now();
    let body = snappy(&proto(&[
        (
            r#"{app="api", namespace="prod"}"#,
            vec![
                (t, "GET /a 200", &[("trace_id", "t1"), ("user", "u1")]),
                (t + 1, "GET /b 500", &[]),
            ],
        ),
        (
            r#"{app="db"}"#,
            vec![(t, "slow query", &[("duration", "2s")])],
        ),
    ]));
    // X-Scope-OrgID is accepted and ignored; `Content-Encoding: snappy` is a no-op.
    let headers = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "snappy"),
        ("x-scope-orgid", "tenant-a"),
    ];
    assert_eq!(
        s.post("/loki/api/v1/push", &headers, body).await,
        (204, String::new())
    );
    let dump = s.store.dump();
    assert_eq!(dump.len(), 2);
    assert_eq!(
        dump[0].0,
        Labels::from_pairs(&[("app", "api"), ("namespace", "prod")])
    );
    assert_eq!(
        dump[0].1,
        vec![
            LogEntry {
                ts: t,
                line: "GET /a 200".into(),
                metadata: meta(&[("trace_id", "t1"), ("user", "u1")]),
            },
            LogEntry {
                ts: t + 1,
                line: "GET /b 500".into(),
                metadata: vec![],
            },
        ]
    );
    assert_eq!(dump[1].1[0].metadata, meta(&[("duration", "2s")]));
}

fn json_push(t: i64) -> String {
    format!(
        r#"{{"streams":[{{"stream":{{"job":"py","level":"info"}},"values":[
            ["{t}","plain line"],
            ["{}","with metadata",{{"trace_id":"abc"}}]]}}]}}"#,
        t + 5
    )
}

async fn json_case(headers: &[(&str, &str)], body: Vec<u8>, t: i64) {
    let s = start(|_| {}).await;
    let (status, text) = s.post("/loki/api/v1/push", headers, body).await;
    assert_eq!((status, text.as_str()), (204, ""), "{headers:?}");
    let dump = s.store.dump();
    assert_eq!(dump.len(), 1, "{headers:?}");
    assert_eq!(
        dump[0].0,
        Labels::from_pairs(&[("job", "py"), ("level", "info")])
    );
    let got: Vec<_> = dump[0].1.iter().map(|e| (e.ts, e.line.as_str())).collect();
    assert_eq!(got, [(t, "plain line"), (t + 5, "with metadata")]);
    assert_eq!(dump[0].1[1].metadata, meta(&[("trace_id", "abc")]));
}

#[tokio::test]
async fn json_plain_gzip_deflate_and_without_a_content_type() {
    let t = now();
    let body = json_push(t).into_bytes();
    let json = ("content-type", "application/json");
    json_case(&[json], body.clone(), t).await;
    json_case(&[json, ("content-encoding", "gzip")], gzip(&body), t).await;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&body).unwrap();
    json_case(
        &[json, ("content-encoding", "deflate")],
        z.finish().unwrap(),
        t,
    )
    .await;
    json_case(&[], body.clone(), t).await;
}

#[tokio::test]
async fn gzipped_snappy_protobuf() {
    let s = start(|_| {}).await;
    let t = now();
    let body = gzip(&snappy(&proto(&[(r#"{a="1"}"#, vec![(t, "zipped", &[])])])));
    let headers = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "gzip"),
    ];
    assert_eq!(s.post("/loki/api/v1/push", &headers, body).await.0, 204);
    assert_eq!(s.store.lines(&[("a", "1")]), ["zipped"]);
}

#[tokio::test]
async fn legacy_json_on_the_old_endpoint() {
    let s = start(|_| {}).await;
    let body = r#"{"streams":[{"labels":"{logger=\"app\"}","entries":[
        {"ts":"2030-01-01T00:00:00.5Z","line":"old shape"}]}]}"#;
    let ct = [("content-type", "application/json")];
    // 2030 is too new for the default grace period; a wider one takes it.
    let (status, text) = s
        .post("/api/prom/push", &ct, body.as_bytes().to_vec())
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("has timestamp too new: 2030-01-01 00:00:00.5 +0000 UTC"),
        "{text}"
    );

    let s = start(|l| l.limits.creation_grace = std::time::Duration::from_secs(10 * 365 * 86_400))
        .await;
    let (status, text) = s
        .post("/api/prom/push", &ct, body.as_bytes().to_vec())
        .await;
    assert_eq!((status, text.as_str()), (204, ""));
    let dump = s.store.dump();
    assert_eq!(dump[0].1[0].ts, 1_893_456_000_500_000_000);
    assert_eq!(dump[0].1[0].line, "old shape");
}

#[tokio::test]
async fn entries_the_store_refuses_answer_400_and_the_rest_is_kept() {
    let s = start(|_| {}).await;
    let t = now();
    let hour = 3_600_000_000_000;
    let body = snappy(&proto(&[(
        r#"{a="1"}"#,
        vec![
            (t, "new", &[]),
            (t - 2 * hour, "too far behind", &[]),
            (t - 1, "in window", &[]),
        ],
    )]));
    let (status, text) = s.push_proto(body).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("entry with timestamp "), "{text}");
    assert!(text.contains("entry too far behind"), "{text}");
    // Read back in time order.
    assert_eq!(s.store.lines(&[("a", "1")]), ["in window", "new"]);
}

#[tokio::test]
async fn a_failing_store_answers_500_so_the_client_retries() {
    let s = start(|_| {}).await;
    let body = || snappy(&proto(&[(r#"{a="1"}"#, vec![(now(), "retry me", &[])])]));
    s.store
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, text) = s.push_proto(body()).await;
    assert_eq!(
        (status, text.as_str()),
        (500, "log store I/O: disk on fire\n")
    );
    assert_eq!(s.loki.stats.refused(Refusal::StoreFailed), 1);
    s.store
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(s.push_proto(body()).await.0, 204);
    let accepted = s
        .loki
        .stats
        .entries_accepted
        .load(std::sync::atomic::Ordering::Relaxed);
    let bytes = s
        .loki
        .stats
        .bytes_received
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!((accepted, bytes), (1, 8));
}
