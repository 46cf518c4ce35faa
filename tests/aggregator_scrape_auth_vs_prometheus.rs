//! Scrape jobs' HTTP client keys against Prometheus 2.42: one `scrape_configs` list run
//! by a real Prometheus and by the aggregator binary. Its targets are a real
//! node_exporter 1.5 serving TLS only with a basic-auth user (its `--web.config.file`),
//! a second one asking for a client certificate, and a target in the test that wants
//! `Authorization: Bearer <the token file's contents>`, read on every request. Jobs with
//! the right CA, password, client certificate or token are up in both; a wrong password,
//! a missing CA or a missing client certificate are down in both. After the token file
//! is rewritten both stay up: each reads it again for every scrape.

mod common;

use common::certs::{make_certs, PASSWORD_HASH};
use common::{peer, Server};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

/// node_exporter over TLS only (the CA's server certificate) with `extra` in its web
/// configuration, collecting one thing.
fn node_exporter(program: &Path, dir: &Path, name: &str, extra: &str) -> Server {
    let web = dir.join(format!("{name}.yml"));
    let tls = format!(
        "tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\n",
        dir.display()
    );
    std::fs::write(&web, format!("{tls}{extra}")).unwrap();
    let args = [
        format!("--web.config.file={}", web.display()),
        "--collector.disable-defaults".to_owned(),
        "--collector.loadavg".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // plain HTTP to a TLS-only Go server is answered 400: it serves
    Server::start_answering(program, &args, "/metrics", 400)
}

/// A target wanting `Authorization: Bearer <token file>`, the file read per request.
async fn bearer_target(token: PathBuf) -> u16 {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: HeaderMap| {
            let want = std::fs::read_to_string(&token).unwrap();
            let got = headers.get("authorization").and_then(|v| v.to_str().ok());
            let ok = got == Some(format!("Bearer {}", want.trim()).as_str());
            async move {
                match ok {
                    true => (StatusCode::OK, "demo_up 1\n"),
                    false => (StatusCode::UNAUTHORIZED, "no\n"),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// The jobs, by name: (keys, target).
fn jobs(dir: &Path, tls: u16, mtls: u16, bearer: u16) -> String {
    let d = dir.display();
    let basic = "basic_auth: {username: prom, password_file: DIR/password}";
    let ca = "tls_config: {ca_file: DIR/ca.pem}";
    let client =
        "tls_config: {ca_file: DIR/ca.pem, cert_file: DIR/client.pem, key_file: DIR/client.key}";
    let rows = [
        (
            "tls-basic",
            format!("scheme: https\n    {basic}\n    {ca}"),
            tls,
        ),
        (
            "tls-wrong-password",
            format!("scheme: https\n    basic_auth: {{username: prom, password: nope}}\n    {ca}"),
            tls,
        ),
        ("tls-no-ca", format!("scheme: https\n    {basic}"), tls),
        ("mtls", format!("scheme: https\n    {client}"), mtls),
        ("mtls-no-cert", format!("scheme: https\n    {ca}"), mtls),
        (
            "bearer-file",
            "bearer_token_file: DIR/token".to_owned(),
            bearer,
        ),
        (
            "authorization-file",
            "authorization: {credentials_file: DIR/token}".to_owned(),
            bearer,
        ),
        ("no-token", "metrics_path: /metrics".to_owned(), bearer),
    ];
    let mut yaml =
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n".to_owned();
    for (name, keys, port) in rows {
        yaml += &format!(
            "  - job_name: {name}\n    {keys}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
        );
    }
    yaml.replace("DIR", &d.to_string())
}

async fn get_json(url: &str) -> Value {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

/// Each job's health at `/api/v1/targets` (one target per job).
async fn health(server: &Server) -> BTreeMap<String, String> {
    let body = get_json(&server.url("/api/v1/targets")).await;
    let mut out = BTreeMap::new();
    for t in body["data"]["activeTargets"].as_array().unwrap() {
        let job = t["labels"]["job"].as_str().unwrap_or("").to_owned();
        out.insert(job, t["health"].as_str().unwrap_or("").to_owned());
    }
    out
}

/// Waits until every job of both servers was scraped since `since` (health known),
/// then returns both servers' health by job.
async fn settled(servers: &(Server, Server), wait: Duration) -> [BTreeMap<String, String>; 2] {
    tokio::time::sleep(wait).await;
    let start = Instant::now();
    loop {
        let both = [health(&servers.0).await, health(&servers.1).await];
        if both
            .iter()
            .all(|h| h.len() == 8 && h.values().all(|v| v != "unknown"))
        {
            return both;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not every job scraped: {both:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn start(program: &Path, dir: &Path, config: &str, storage: &str) -> Server {
    let file = dir.join(format!(
        "{}.yml",
        program.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&file, config).unwrap();
    let args = [
        format!("--config.file={}", file.display()),
        format!(
            "{storage}={}",
            dir.join(storage.trim_start_matches('-')).display()
        ),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(program, &args, "/-/ready")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_with_credentials_and_certificates_as_prometheus_does() {
    let (Some(prometheus), Some(exporter)) = (peer("prometheus"), peer("prometheus-node-exporter"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("password"), "am-secret\n").unwrap();
    std::fs::write(d.join("token"), "first-token\n").unwrap();
    let bearer = bearer_target(d.join("token")).await;
    let (exporters, servers) = tokio::task::spawn_blocking(move || {
        make_certs(&d);
        let basic = format!("basic_auth_users:\n  prom: {PASSWORD_HASH}\n");
        let client_ca = format!(
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}/ca.pem\n",
            d.display()
        );
        let tls = node_exporter(&exporter, &d, "tls", &basic);
        let mtls = node_exporter(&exporter, &d, "mtls", &client_ca);
        let config = jobs(&d, tls.port, mtls.port, bearer);
        let p = start(&prometheus, &d, &config, "--storage.tsdb.path");
        let o = start(Path::new(AGGREGATOR), &d, &config, "--storage.path");
        ((tls, mtls), (p, o))
    })
    .await
    .unwrap();

    let up = |h: &BTreeMap<String, String>| {
        h.iter()
            .filter(|(_, v)| *v == "up")
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    let want = ["authorization-file", "bearer-file", "mtls", "tls-basic"];
    let [theirs, ours] = settled(&servers, Duration::from_secs(2)).await;
    assert_eq!(up(&theirs), want, "Prometheus's own result: {theirs:?}");
    assert_eq!(
        ours,
        theirs,
        "each job's health: ours (left), Prometheus's (right); logs:\n{}",
        servers.1.log_tail(20)
    );

    // A rotated token: both read the file again for the next scrape.
    std::fs::write(dir.path().join("token"), "second-token").unwrap();
    let [theirs, ours] = settled(&servers, Duration::from_secs(3)).await;
    assert_eq!(
        up(&theirs),
        want,
        "Prometheus after the rotation: {theirs:?}"
    );
    assert_eq!(
        ours, theirs,
        "after the rotation: ours (left), Prometheus's (right)"
    );

    // What was scraped over TLS is stored, as Prometheus stores it.
    let q = "/api/v1/query?query=node_load1";
    for server in [&servers.0, &servers.1] {
        let body = get_json(&server.url(q)).await;
        let mut jobs: Vec<&str> = (body["data"]["result"].as_array().unwrap().iter())
            .filter_map(|r| r["metric"]["job"].as_str())
            .collect();
        jobs.sort_unstable();
        assert_eq!(jobs, ["mtls", "tls-basic"], "{}: {body}", server.name);
    }
    drop(exporters);
}
