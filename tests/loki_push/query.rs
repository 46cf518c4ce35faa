//! LogQL over HTTP after a push: `query_range` for a log query (streams, limit,
//! direction) and a metric query (matrix), `query` for an instant metric query and
//! Grafana's health check (`vector(1)+vector(1)`), and the errors Loki gives.

use crate::server::{now, proto, snappy, start, Running};

const S: i64 = 1_000_000_000;

/// `api` logs at t0+1..=t0+6 s (odd seconds "error"), `db` once at t0+3 s.
async fn seeded() -> (Running, i64) {
    let s = start(|_| {}).await;
    let t0 = now() / (60 * S) * (60 * S) - 600 * S;
    let api: Vec<(i64, String)> = (1..=6)
        .map(|i| {
            (
                t0 + i * S,
                format!("{} req {i}", if i % 2 == 1 { "error" } else { "info" }),
            )
        })
        .collect();
    let api_entries = api.iter().map(|(t, l)| (*t, l.as_str(), &[][..])).collect();
    let body = snappy(&proto(&[
        (r#"{app="api"}"#, api_entries),
        (r#"{app="db"}"#, vec![(t0 + 3 * S, "error db", &[])]),
    ]));
    assert_eq!(s.push_proto(body).await, (204, String::new()));
    (s, t0)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The second element of each `values` pair of one result (a line, or a sample value).
fn values_of(result: &serde_json::Value) -> Vec<String> {
    let values = result["values"].as_array().unwrap();
    values
        .iter()
        .map(|p| p[1].as_str().unwrap().to_string())
        .collect()
}

fn url(path: &str, query: &str, extra: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!("{path}?query={q}{extra}")
}

#[tokio::test]
async fn a_log_query_returns_streams_newest_first_within_the_limit() {
    let (s, t0) = seeded().await;
    let range = format!("&start={}&end={}", t0, t0 + 60 * S);
    let (status, body) = s
        .get(
            &url(
                "/loki/api/v1/query_range",
                r#"{app=~".+"} |= "error""#,
                &range,
            ),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["data"]["resultType"], "streams");
    let result = v["data"]["result"].as_array().unwrap();
    let lines = |i: usize| values_of(&result[i]);
    assert_eq!(result[0]["stream"], json(r#"{"app":"api"}"#));
    assert_eq!(lines(0), ["error req 5", "error req 3", "error req 1"]);
    assert_eq!(lines(1), ["error db"]);
    assert_eq!(result[0]["values"][0][0], (t0 + 5 * S).to_string());

    let limited = format!("{range}&limit=2&direction=forward");
    let (_, body) = s
        .get(
            &url("/loki/api/v1/query_range", r#"{app="api"}"#, &limited),
            &[],
        )
        .await;
    let v = json(&body);
    let values = &v["data"]["result"][0]["values"];
    assert_eq!(values.as_array().unwrap().len(), 2);
    assert_eq!(values[0][1], "error req 1");
    assert_eq!(values[1][1], "info req 2");
}

#[tokio::test]
async fn metric_queries_range_and_instant() {
    let (s, t0) = seeded().await;
    let range = format!("&start={}&end={}&step=2s", t0 + 2 * S, t0 + 6 * S);
    let q = r#"sum by (app) (count_over_time({app=~".+"} |= "error" [2s]))"#;
    let (status, body) = s
        .get(&url("/loki/api/v1/query_range", q, &range), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["data"]["resultType"], "matrix");
    // (t-2s, t] at t0+2, +4, +6: api has one odd second in each; db its line at +3.
    let result = v["data"]["result"].as_array().unwrap();
    let points = |i: usize| values_of(&result[i]);
    assert_eq!(result[0]["metric"], json(r#"{"app":"api"}"#));
    assert_eq!(points(0), ["1", "1", "1"]);
    assert_eq!(result[1]["metric"], json(r#"{"app":"db"}"#));
    assert_eq!(points(1), ["1"]);

    let at = format!("&time={}", t0 + 6 * S);
    let (_, body) = s
        .get(
            &url(
                "/loki/api/v1/query",
                r#"count_over_time({app="api"}[10s])"#,
                &at,
            ),
            &[],
        )
        .await;
    let v = json(&body);
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"][0]["value"][1], "6");
}

#[tokio::test]
async fn grafanas_health_check_and_errors() {
    let (s, _) = seeded().await;
    let (status, body) = s
        .get(&url("/loki/api/v1/query", "vector(1)+vector(1)", ""), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["data"]["result"][0]["value"][1], "2");

    let (status, body) = s
        .get(&url("/loki/api/v1/query_range", "{app=", ""), &[])
        .await;
    assert_eq!(status, 400);
    assert!(body.starts_with("parse error at line 1"), "{body}");
    let (status, body) = s
        .get(&url("/loki/api/v1/query", r#"{app="api"}"#, ""), &[])
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("not supported as an instant query"), "{body}");
    let (status, _) = s
        .get(
            &url("/loki/api/v1/query_range", r#"{app="api"}"#, "&step=0"),
            &[],
        )
        .await;
    assert_eq!(status, 400);
}
