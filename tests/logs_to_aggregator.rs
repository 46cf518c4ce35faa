//! Logs end to end through both binaries: the agent tails kubelet-layout CRI files and
//! ships them with its Loki sink to the aggregator's push API; the aggregator stores them
//! and answers LogQL over them (lines in order with their labels, a metric query), and
//! still does after being killed.

mod common;

use common::cri::{Container, Dirs};
use common::{spawn_agent, Server};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(90);

fn aggregator(storage: &Path) -> Server {
    let arg = format!("--storage.path={}", storage.display());
    Server::start(Path::new(AGGREGATOR), &[arg.as_str()], "/-/ready")
}

/// `query_range` over the last week, forward, as JSON.
fn query_range(agg: &Server, query: &str, extra: &str) -> Value {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let url = agg.url(&format!(
        "/loki/api/v1/query_range?query={q}&since=168h&limit=5000&direction=forward{extra}"
    ));
    let text = reqwest::blocking::get(url).unwrap().text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Each result stream's `stream` label and its lines.
fn lines_by_stream(v: &Value) -> Vec<(String, Vec<String>)> {
    let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
    result
        .iter()
        .map(|s| {
            let name = s["stream"]["stream"].as_str().unwrap_or("").to_string();
            let lines = s["values"].as_array().unwrap();
            let lines = lines
                .iter()
                .map(|p| p[1].as_str().unwrap().to_string())
                .collect();
            (name, lines)
        })
        .collect()
}

#[test]
fn lines_written_by_a_container_are_queryable_in_the_aggregator() {
    let tmp = tempfile::tempdir().unwrap();
    let storage = tmp.path().join("aggregator");
    let agg = aggregator(&storage);
    let dirs = Dirs::new(tmp.path());
    let mut app = Container::new(&dirs.pods, ("shop", "web-1", "uid-1"), "app").stamped_yesterday();
    app.write(200);
    let mut args = dirs.args();
    args.push(format!("--sink.loki.url={}", agg.url("/loki/api/v1/push")));
    args.extend(["--kube.api=off".into(), "--node-name=test-node".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let agent = spawn_agent(&args);
    app.write(100);

    let want = |s: &str| app.expected(s);
    let selector = r#"{namespace="shop", pod="web-1", container="app"}"#;
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    loop {
        let got = lines_by_stream(&query_range(&agg, selector, ""));
        let done = got
            == [
                ("stderr".into(), want("stderr")),
                ("stdout".into(), want("stdout")),
            ];
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after {ARRIVAL_TIMEOUT:?}: {:?} streams, {} lines; agent log:\n{}\naggregator log:\n{}",
            got.iter().map(|g| &g.0).collect::<Vec<_>>(),
            got.iter().map(|g| g.1.len()).sum::<usize>(),
            agent.log_tail(20),
            agg.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    // A metric query over the same lines: 300 in all, 150 per stream.
    let count = r#"sum by (stream) (count_over_time({container="app"} |= "app line" [1w]))"#;
    let q: String = form_urlencoded::byte_serialize(count.as_bytes()).collect();
    let v: Value = serde_json::from_str(
        &reqwest::blocking::get(agg.url(&format!("/loki/api/v1/query?query={q}")))
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let result = v["data"]["result"].as_array().unwrap();
    let counts: Vec<(&str, &str)> = result
        .iter()
        .map(|r| {
            (
                r["metric"]["stream"].as_str().unwrap(),
                r["value"][1].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("stderr", "150"), ("stdout", "150")], "{v}");

    // The store survives the aggregator's end: SIGTERM and at once SIGKILL (the drop),
    // so its shutdown may or may not have run. This caught the first WAL record being
    // skipped at replay (the agent's first batch lost).
    drop(agent);
    agg.terminate();
    drop(agg);
    let agg = aggregator(&storage);
    let got = lines_by_stream(&query_range(&agg, selector, ""));
    assert_eq!(
        got,
        [
            ("stderr".into(), want("stderr")),
            ("stdout".into(), want("stdout"))
        ]
    );
}
