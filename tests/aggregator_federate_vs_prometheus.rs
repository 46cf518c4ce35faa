//! `/federate` against Prometheus 2.42's: both scrape one target in the test with the
//! same configuration (external labels, one of them also a target label), and answer
//! the same `match[]`s with the same families and samples (timestamps aside: each
//! stamps its own scrapes): names sorted, one untyped `# TYPE` each, empty labels left
//! out, external labels added after a series' own unless it has them. A series that
//! leaves the target is left out by both once stale. A bad selector is a 400 with
//! "parse error" in both; no `match[]` is an empty 200.

mod common;

use common::{peer, Server};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

const BODY: &str = "# TYPE demo_requests_total counter
demo_requests_total{code=\"200\",path=\"/a\"} 10
demo_requests_total{code=\"500\",path=\"/a\"} 2
# TYPE demo_temp gauge
demo_temp{cluster=\"own\"} 21.5
demo_temp{room=\"b\\\"q\"} -3.25e-05
demo_empty{lbl=\"\"} 1
Zed_upper 7
";

async fn target(body: Arc<Mutex<String>>) -> u16 {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let b = body.lock().unwrap().clone();
            async move { b }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

fn start(program: &Path, dir: &Path, port: u16, storage: &str) -> Server {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  external_labels: {{cluster: c1, replica: a}}\n\
         scrape_configs:\n  - job_name: t\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    );
    let name = program.file_name().unwrap().to_string_lossy().into_owned();
    let file = dir.join(format!("{name}.yml"));
    std::fs::write(&file, config).unwrap();
    let args = [
        format!("--config.file={}", file.display()),
        format!("{storage}={}", dir.join(&name).display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(program, &args, "/-/ready")
}

/// The status, the `# TYPE` lines in order, and the sample lines without timestamps.
async fn federate(server: &Server, query: &str) -> (u16, Vec<String>, BTreeSet<String>) {
    let resp = reqwest::get(server.url(&format!("/federate?{query}")))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    if status != 200 {
        // the parsers word the error their own way, each with "parse error" in it
        let said = text.contains("parse error").to_string();
        return (status, vec![said], BTreeSet::new());
    }
    let types = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let samples = (text.lines().filter(|l| !l.starts_with('#')))
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect();
    (status, types, samples)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_answers_as_prometheus_does() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let body = Arc::new(Mutex::new(BODY.to_owned()));
    let port = target(body.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let servers = tokio::task::spawn_blocking(move || {
        let p = start(&prometheus, &d, port, "--storage.tsdb.path");
        let o = start(Path::new(AGGREGATOR), &d, port, "--storage.path");
        (p, o)
    })
    .await
    .unwrap();
    let job = "match[]=%7Bjob%3D%22t%22%2C__name__%21~%22scrape_.%2A%22%7D&match[]=up";
    // Prometheus's discovery hands it the static target within 5 s of its start.
    let start = std::time::Instant::now();
    while federate(&servers.0, job).await.2.is_empty()
        || federate(&servers.1, job).await.2.is_empty()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "nothing scraped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let theirs = federate(&servers.0, job).await;
    assert!(
        theirs.2.contains(
            "demo_temp{cluster=\"own\",instance=\"127.0.0.1:PORT\",job=\"t\",replica=\"a\"} 21.5"
                .replace("PORT", &port.to_string())
                .as_str()
        ),
        "Prometheus's own answer: {theirs:?}; its targets: {}",
        reqwest::get(servers.0.url("/api/v1/targets"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    );
    assert_eq!(
        federate(&servers.1, job).await,
        theirs,
        "ours (left), Prometheus's (right)"
    );

    // A series gone from the target: stale in both, so not federated.
    *body.lock().unwrap() = BODY.replace("demo_requests_total{code=\"500\",path=\"/a\"} 2\n", "");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let theirs = federate(&servers.0, job).await;
    assert!(
        !theirs.2.iter().any(|l| l.contains("code=\"500\"")),
        "{theirs:?}"
    );
    assert_eq!(
        federate(&servers.1, job).await,
        theirs,
        "after a series left"
    );

    for query in ["match[]=up%7B", ""] {
        let theirs = federate(&servers.0, query).await;
        assert_eq!(federate(&servers.1, query).await, theirs, "{query:?}");
    }
}
