//! The metadata endpoints over pushed data, in Loki's JSON shapes and time ranges.

use crate::server::{now, proto, snappy, start, Running};

const HOUR: i64 = 3_600_000_000_000;

/// Three recent streams and one two hours old (outside the default last hour).
async fn seeded() -> (Running, i64) {
    let s = start(|_| {}).await;
    let t = now();
    let body = snappy(&proto(&[
        (
            r#"{app="api", pod="api-1"}"#,
            vec![(t - 60_000_000_000, "a1", &[]), (t - 1, "a1b", &[])],
        ),
        (r#"{app="api", pod="api-2"}"#, vec![(t - 1, "a2", &[])]),
        (r#"{app="db", env="prod"}"#, vec![(t - 1, "d", &[])]),
        (r#"{app="batch"}"#, vec![(t - 2 * HOUR, "old", &[])]),
    ]));
    assert_eq!(s.push_proto(body).await, (204, String::new()));
    (s, t)
}

fn ok(data: &str) -> (u16, String) {
    (200, format!(r#"{{"status":"success","data":{data}}}"#))
}

#[tokio::test]
async fn labels_and_values() {
    let (s, t) = seeded().await;
    let s = &s;
    let get = |p: String| async move { s.get(&p, &[]).await };
    assert_eq!(
        get("/loki/api/v1/labels".into()).await,
        ok(r#"["app","env","pod"]"#)
    );
    assert_eq!(
        get("/loki/api/v1/label".into()).await,
        ok(r#"["app","env","pod"]"#)
    );
    assert_eq!(
        get("/loki/api/v1/labels?query=%7Bapp%3D%22db%22%7D".into()).await,
        ok(r#"["app","env"]"#)
    );
    assert_eq!(
        get("/loki/api/v1/label/app/values".into()).await,
        ok(r#"["api","db"]"#)
    );
    let three_hours = format!(
        "/loki/api/v1/label/app/values?start={}",
        (t - 3 * HOUR) / 1_000_000_000
    );
    assert_eq!(get(three_hours).await, ok(r#"["api","batch","db"]"#));
    assert_eq!(
        get("/loki/api/v1/label/pod/values?query={app=\"api\"}".into()).await,
        ok(r#"["api-1","api-2"]"#)
    );
    assert_eq!(get("/loki/api/v1/label/nope/values".into()).await, ok("[]"));
}

#[tokio::test]
async fn series_with_several_matchers() {
    let (s, t) = seeded().await;
    let q = "/loki/api/v1/series?match[]={app=\"api\",pod=~\"api-.*\"}&match[]={env=\"prod\"}";
    assert_eq!(
        s.get(q, &[]).await,
        ok(
            r#"[{"app":"api","pod":"api-1"},{"app":"api","pod":"api-2"},{"app":"db","env":"prod"}]"#
        )
    );
    // Start as RFC 3339, end as nanoseconds: only the old stream's range.
    let old = t - 2 * HOUR;
    let start = "1970-01-01T00:00:00Z";
    let q = format!(
        "/loki/api/v1/series?match[]={{app=~\".%2B\"}}&start={start}&end={}",
        old + 1
    );
    assert_eq!(s.get(&q, &[]).await, ok(r#"[{"app":"batch"}]"#));
    // POST form, as Grafana sends it.
    let form = b"match%5B%5D=%7Bapp%3D%22db%22%7D".to_vec();
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(
        s.post("/loki/api/v1/series", &ct, form).await,
        ok(r#"[{"app":"db","env":"prod"}]"#)
    );
}

#[tokio::test]
async fn index_stats() {
    let (s, _) = seeded().await;
    let (status, body) = s
        .get("/loki/api/v1/index/stats?query={app=\"api\"}", &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"streams":2,"chunks":2,"bytes":7,"entries":3}"#);
    let (_, body) = s
        .get("/loki/api/v1/index/stats?query={app=\"none\"}", &[])
        .await;
    assert_eq!(body, r#"{"streams":0,"chunks":0,"bytes":0,"entries":0}"#);
}

#[tokio::test]
async fn bad_parameters_get_400_in_plain_text() {
    let (s, _) = seeded().await;
    let cases = [
        ("/loki/api/v1/series", "0 matcher groups supplied"),
        (
            "/loki/api/v1/series?match[]={app=~\".*\"}",
            "at least one regexp or equality matcher",
        ),
        (
            "/loki/api/v1/series?match[]=app",
            "parse error at line 1, col 1",
        ),
        ("/loki/api/v1/index/stats", "parse error"),
        (
            "/loki/api/v1/series?match[]=rate({app=\"a\"}[1m])",
            "only label matchers are supported",
        ),
        (
            "/loki/api/v1/labels?start=yesterday",
            "invalid start: cannot parse \"yesterday\"",
        ),
        (
            "/loki/api/v1/labels?query={a=~\"(\"}",
            "error parsing regexp",
        ),
    ];
    for (path, want) in cases {
        let (status, text) = s.get(path, &[]).await;
        assert_eq!(status, 400, "{path}: {text}");
        assert!(text.contains(want), "{path}: wanted {want:?} in {text:?}");
    }
}
