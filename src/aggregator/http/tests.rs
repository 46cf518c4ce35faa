//! The API over real HTTP on a loopback port, against `MemStore`, with Prometheus 2.42's
//! literal answers (captured from /usr/bin/prometheus) as the expected bodies.

use super::*;
use crate::aggregator::model::{Labels, MemStore, Sample};
use crate::aggregator::remote_write::encode;

pub(super) struct Running {
    pub(super) base: String,
    pub(super) client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(super) async fn start(store: Arc<MemStore>, tweak: impl FnOnce(&mut Api)) -> Running {
    let mut api = Api::new(store.clone(), store);
    api.now = || 1_435_781_451_781;
    tweak(&mut api);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, Arc::new(api), None, async {
        let _ = rx.await;
    }));
    Running {
        base,
        client: reqwest::Client::new(),
        _stop: tx,
    }
}

impl Running {
    pub(super) async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post_form(&self, path: &str, form: &str) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn write(&self, body: Vec<u8>) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}/api/v1/write", self.base))
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn batch() -> Vec<(Labels, Vec<Sample>)> {
    let s = |t, v| Sample { t, v };
    vec![
        (
            Labels::from_pairs(&[("__name__", "up"), ("job", "a"), ("instance", "x:1")]),
            vec![s(1_000, 1.0), s(16_000, 1.0)],
        ),
        (
            Labels::from_pairs(&[("__name__", "up"), ("job", "b"), ("instance", "y:1")]),
            vec![s(1_000, 0.0)],
        ),
        (
            Labels::from_pairs(&[("__name__", "temp"), ("job", "a")]),
            vec![s(2_000, 21.5)],
        ),
    ]
}

#[tokio::test]
async fn remote_write_then_metadata_endpoints() {
    let store = Arc::new(MemStore::default());
    let api = start(store, |_| {}).await;
    assert_eq!(api.write(encode(&batch())).await, (204, String::new()));

    let (code, body) = api
        .get("/api/v1/series?match[]=up&match[]=temp{job=\"a\"}")
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"temp","job":"a"},{"__name__":"up","instance":"x:1","job":"a"},{"__name__":"up","instance":"y:1","job":"b"}]}"#
    );
    let (_, body) = api.get("/api/v1/labels").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__","instance","job"]}"#
    );
    let (_, body) = api.post_form("/api/v1/labels", "match[]=temp").await;
    assert_eq!(body, r#"{"status":"success","data":["__name__","job"]}"#);
    let (_, body) = api.get("/api/v1/label/job/values?match[]=up").await;
    assert_eq!(body, r#"{"status":"success","data":["a","b"]}"#);
    let (_, body) = api.get("/api/v1/label/nope/values").await;
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
    let (_, body) = api.get("/api/v1/series?match[]=up&start=10&end=20").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"up","instance":"x:1","job":"a"}]}"#
    );
}

#[tokio::test]
async fn metadata_errors_match_prometheus() {
    let api = start(Arc::new(MemStore::default()), |_| {}).await;
    let cases = [
        (
            "/api/v1/series",
            r#"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#,
        ),
        (
            "/api/v1/label/a-b/values",
            r#"{"status":"error","errorType":"bad_data","error":"invalid label name: \"a-b\""}"#,
        ),
        (
            "/api/v1/labels?start=abc",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp"}"#,
        ),
        (
            "/api/v1/label/__name__/values?match[]=up&end=x",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": Invalid time value for 'end': cannot parse \"x\" to a valid timestamp"}"#,
        ),
    ];
    for (path, want) in cases {
        assert_eq!(api.get(path).await, (400, want.to_string()), "{path}");
    }
    let (code, body) = api.get("/api/v1/series?match[]={a=~\".*\"}").await;
    assert_eq!(code, 400);
    assert!(
        body.contains("match[] must contain at least one non-empty matcher"),
        "{body}"
    );
}

#[tokio::test]
async fn remote_write_refuses_garbage() {
    let store = Arc::new(MemStore::default());
    let api = start(store.clone(), |a| a.write_limits.max_body_bytes = 1 << 16).await;
    let (code, body) = api.write(b"garbage".to_vec()).await;
    assert_eq!(code, 400);
    assert!(body.starts_with("snappy:"), "{body}");
    let mut huge_header = vec![0xff, 0xff, 0xff, 0xff, 0x0f];
    huge_header.extend_from_slice(&[0; 16]);
    let (code, body) = api.write(huge_header).await;
    assert_eq!(
        (code, body.contains("exceeds the limit")),
        (400, true),
        "{body}"
    );
    let (code, _) = api.write(vec![0; 1 << 17]).await;
    assert_eq!(code, 413);
    // Out of order: the second write goes back in time.
    assert_eq!(api.write(encode(&batch())).await.0, 204);
    let (code, body) = api
        .write(encode(
            &batch()[..1]
                .to_vec()
                .into_iter()
                .map(|(l, _)| (l, vec![Sample { t: 500, v: 1.0 }]))
                .collect::<Vec<_>>(),
        ))
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.starts_with("out of order sample"), "{body}");
    let (_, metrics) = api.get("/metrics").await;
    assert!(
        metrics.contains("nodepulse_remote_write_requests_invalid_total 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("nodepulse_remote_write_samples_refused_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn buildinfo_has_prometheus_fields() {
    let api = start(Arc::new(MemStore::default()), |_| {}).await;
    let (code, body) = api.get("/api/v1/status/buildinfo").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success");
    for field in [
        "version",
        "revision",
        "branch",
        "buildUser",
        "buildDate",
        "goVersion",
    ] {
        assert!(v["data"][field].is_string(), "{field}: {body}");
    }
}

#[tokio::test]
async fn queries_answer_in_prometheus_shapes() {
    let store = Arc::new(MemStore::default());
    let api = start(store, |_| {}).await;
    assert_eq!(api.write(encode(&batch())).await.0, 204);
    let (code, body) = api.get("/api/v1/query?query=2").await;
    assert_eq!(code, 200);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"2"]}}"#
    );
    let (_, body) = api
        .post_form("/api/v1/query", "query=up%7Bjob%3D%22b%22%7D&time=16")
        .await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"y:1","job":"b"},"value":[16,"0"]}]}}"#
    );
    let (_, body) = api
        .get("/api/v1/query_range?query=up%7Bjob%3D%22a%22%7D&start=1&end=16&step=15s")
        .await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"x:1","job":"a"},"values":[[1,"1"],[16,"1"]]}]}}"#
    );
}

/// Prometheus 2.42's answers to the same bad requests, verbatim.
#[tokio::test]
async fn query_errors_match_prometheus() {
    let api = start(Arc::new(MemStore::default()), |_| {}).await;
    let cases = [
        (
            "/api/v1/query?query=up&time=abc",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp"}"#,
        ),
        (
            "/api/v1/query?query=1&timeout=abc",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"timeout\": cannot parse \"abc\" to a valid duration"}"#,
        ),
        (
            "/api/v1/query_range?query=1&start=abc&end=1&step=1",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"abc\" to a valid timestamp"}"#,
        ),
        (
            "/api/v1/query_range?query=vector(1)&start=1&end=0&step=15",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}"#,
        ),
        (
            "/api/v1/query_range?query=vector(1)&start=1&end=100000&step=1",
            r#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}"#,
        ),
        (
            "/api/v1/query_range?query=vector(1)&start=1&end=10&step=0",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"}"#,
        ),
        (
            "/api/v1/query_range?query=1&start=1&end=2",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": cannot parse \"\" to a valid duration"}"#,
        ),
    ];
    for (path, want) in cases {
        assert_eq!(api.get(path).await, (400, want.to_string()), "{path}");
    }
    // Parse errors: Prometheus's type and prefix; the parser's own words follow.
    for path in ["/api/v1/query?query=up%7B", "/api/v1/query?query="] {
        let (code, body) = api.get(path).await;
        assert_eq!(code, 400, "{path}");
        assert!(
            body.starts_with(
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": "#
            ),
            "{path}: {body}"
        );
    }
}
