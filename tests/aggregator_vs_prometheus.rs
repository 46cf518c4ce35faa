//! The differential test: the real Prometheus 2.42 (`/usr/bin/prometheus`) and the
//! aggregator ingest the same data set through remote_write, then answer the same PromQL
//! corpus through their HTTP APIs; every answer must agree (see `compare`). Skips with
//! an install hint when `prometheus` is missing, fails under `CI=true`.

mod common;
#[path = "aggregator_vs_prometheus/compare.rs"]
mod compare;
#[path = "aggregator_vs_prometheus/corpus.rs"]
mod corpus;
#[path = "aggregator_vs_prometheus/dataset.rs"]
mod dataset;

use common::{peer, Server};
use nodepulse::aggregator::remote_write::encode;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");
/// Series per remote_write request (each with all its samples, in time order).
const SERIES_PER_REQUEST: usize = 8;

struct Peers {
    prom: Server,
    ours: Server,
    http: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
}

fn start() -> Option<Peers> {
    let prometheus = peer("prometheus")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("writing config");
    let prom_args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.path().join("prom").display()),
        "--web.enable-remote-write-receiver".to_string(),
    ];
    let ours_args = [format!(
        "--storage.path={}",
        dir.path().join("ours").display()
    )];
    let prom = Server::start(&prometheus, &as_strs(&prom_args), "/-/ready");
    let ours = Server::start(Path::new(AGGREGATOR), &as_strs(&ours_args), "/-/ready");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client");
    Some(Peers {
        prom,
        ours,
        http,
        _dir: dir,
    })
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl Peers {
    fn push(&self, data: &dataset::Batch) {
        for chunk in data.chunks(SERIES_PER_REQUEST) {
            let body = encode(chunk);
            for server in [&self.prom, &self.ours] {
                let r = self
                    .http
                    .post(server.url("/api/v1/write"))
                    .header("Content-Type", "application/x-protobuf")
                    .header("Content-Encoding", "snappy")
                    .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                    .body(body.clone())
                    .send()
                    .unwrap_or_else(|e| panic!("remote_write to {}: {e}", server.name));
                let status = r.status().as_u16();
                let text = r.text().unwrap_or_default();
                assert_eq!(status, 204, "{} refused a write: {text}", server.name);
            }
        }
    }

    /// A form POST, or a GET where Prometheus takes only GET (label values).
    fn ask(&self, server: &Server, path: &str, form: &[(&str, String)]) -> Value {
        let url = server.url(path);
        let request = if path.starts_with("/api/v1/label/") {
            self.http.get(url).query(form)
        } else {
            self.http.post(url).form(form)
        };
        let r = request
            .send()
            .unwrap_or_else(|e| panic!("{path} on {}: {e}", server.name));
        let text = r.text().expect("a body");
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{} answered {path} with non-JSON ({e}): {text}",
                server.name
            )
        })
    }

    /// Asks both; a description of the difference, if any.
    fn differs(&self, path: &str, form: &[(&str, String)]) -> Option<String> {
        let prom = self.ask(&self.prom, path, form);
        let ours = self.ask(&self.ours, path, form);
        compare::diff(&prom, &ours)
    }
}

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Both servers loaded with the data set; its first and last sample times (ms).
fn loaded() -> Option<(Peers, i64, i64)> {
    let peers = start()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    // Aligned to the minute, so range steps fall on sample times; ends a minute ago.
    let end = now / 60_000 * 60_000 - 60_000;
    let first = end - (dataset::POINTS - 1) * dataset::STEP_MS;
    peers.push(&dataset::generate(first));
    let form = [("query", "count(up)".to_string()), ("time", secs(end))];
    let sanity = peers.ask(&peers.prom, "/api/v1/query", &form);
    assert_eq!(
        sanity["data"]["result"][0]["value"][1], "5",
        "Prometheus ingested: {sanity}"
    );
    Some((peers, first, end))
}

/// The evaluation times of instant queries: the end, 20 minutes before it, between two
/// samples, just after the stale marker, and both sides of the lookback edge of the
/// series that stops without one.
fn instant_times(first: i64, end: i64) -> [i64; 6] {
    let stop = first + dataset::STOP * dataset::STEP_MS;
    let quiet_last = stop - dataset::STEP_MS;
    [
        end,
        end - 20 * 60_000,
        end - 7_500,
        stop + 1_000,
        quiet_last + 300_000,
        quiet_last + 300_001,
    ]
}

/// Every query of `instant` and `range` on both servers; the differences, and how many
/// answers were compared.
fn run(
    peers: &Peers,
    first: i64,
    end: i64,
    instant: &[&str],
    range: &[&str],
) -> (Vec<String>, usize) {
    let expand = |q: &str| q.replace("$START", &secs(first));
    let mut failures = Vec::new();
    let mut asked = 0;
    for q in instant {
        for t in instant_times(first, end) {
            asked += 1;
            let form = [("query", expand(q)), ("time", secs(t))];
            if let Some(d) = peers.differs("/api/v1/query", &form) {
                failures.push(format!("instant {q:?} at {}: {d}", secs(t)));
            }
        }
    }
    for q in range {
        asked += 1;
        let form = [
            ("query", expand(q)),
            ("start", secs(end - 45 * 60_000)),
            ("end", secs(end)),
            ("step", "60".to_string()),
        ];
        if let Some(d) = peers.differs("/api/v1/query_range", &form) {
            failures.push(format!("range {q:?}: {d}"));
        }
    }
    (failures, asked)
}

fn assert_agree((failures, asked): (Vec<String>, usize)) {
    assert!(
        failures.is_empty(),
        "{} of {asked} answers differ from Prometheus:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn aggregator_answers_promql_as_prometheus_does() {
    let Some((peers, first, end)) = loaded() else {
        return;
    };
    assert_agree(run(&peers, first, end, corpus::INSTANT, corpus::RANGE));
}

/// The comparison itself tells values, label sets, result types and errors apart.
#[test]
fn compare_detects_differences() {
    let v = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
    let base = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"2"]}]}}"#;
    assert_eq!(compare::diff(&v(base), &v(base)), None);
    for other in [
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"2.0000001"]}]}}"#,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"2"},"value":[1,"2"]}]}}"#,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[2,"2"]}]}}"#,
        r#"{"status":"error","errorType":"bad_data","error":"x"}"#,
    ] {
        assert!(compare::diff(&v(base), &v(other)).is_some(), "{other}");
    }
    let nan = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}"#;
    assert_eq!(compare::diff(&v(nan), &v(nan)), None);
    assert!(compare::close(1.0, 1.0 + 1e-12) && !compare::close(1.0, 1.0 + 1e-6));
}

#[test]
fn metadata_endpoints_agree_with_prometheus() {
    let Some(peers) = start() else { return };
    let end = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64)
        / 60_000
        * 60_000;
    peers.push(&dataset::generate(
        end - (dataset::POINTS - 1) * dataset::STEP_MS,
    ));
    let cases: [(&str, Vec<(&str, String)>); 6] = [
        (
            "/api/v1/series",
            vec![
                ("match[]", "up".into()),
                ("match[]", "temperature_celsius".into()),
            ],
        ),
        ("/api/v1/labels", vec![]),
        (
            "/api/v1/labels",
            vec![("match[]", "request_duration_seconds_bucket".into())],
        ),
        ("/api/v1/label/job/values", vec![]),
        (
            "/api/v1/label/le/values",
            vec![("match[]", "{job=\"web\"}".into())],
        ),
        ("/api/v1/series", vec![("match[]", "{le=~\".*\"}".into())]),
    ];
    for (path, form) in cases {
        let prom = peers.ask(&peers.prom, path, &form);
        let ours = peers.ask(&peers.ours, path, &form);
        let (p, o) = (sorted(&prom), sorted(&ours));
        assert_eq!(p, o, "{path} {form:?}\nprometheus {prom}\nours {ours}");
    }
}

/// The answer with `data` as a sorted list of its JSON texts (order is unspecified).
fn sorted(v: &Value) -> (Value, Value, Vec<String>) {
    let mut items: Vec<String> = v["data"]
        .as_array()
        .map(|a| a.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    items.sort();
    (v["status"].clone(), v["errorType"].clone(), items)
}
