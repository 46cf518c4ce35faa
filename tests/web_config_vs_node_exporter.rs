//! `--web.config.file` against node_exporter 1.5's (the exporter toolkit's): one web
//! configuration file, TLS with a private CA's certificate, a basic-auth user and a
//! response header, given to node_exporter, the agent and the aggregator. Each answers
//! the same requests the same way: 200 with the header to the user, 401 with
//! `WWW-Authenticate: Basic` without credentials or with a wrong password, no handshake
//! for a client without the CA, Go's 400 to plain HTTP; Prometheus 2.42 scrapes all
//! three. The file is then rewritten (a new user, client certificates required): all
//! three take it without a restart. The probes' paths stay open on ours.

mod common;

use common::certs::{make_certs, PASSWORD_HASH};
use common::{peer, Server, AGENT};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

/// What a request got: the status (or "no TLS"), `WWW-Authenticate`, `X-Frame-Options`.
type Answer = (String, Option<String>, Option<String>);

fn client(dir: &Path, ca: bool, cert: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder().tls_built_in_root_certs(false);
    if ca {
        let pem = std::fs::read(dir.join("ca.pem")).unwrap();
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    if cert {
        let mut pem = std::fs::read(dir.join("client.pem")).unwrap();
        pem.extend(std::fs::read(dir.join("client.key")).unwrap());
        b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

async fn ask(client: &reqwest::Client, url: &str, user: Option<(&str, &str)>) -> Answer {
    let mut req = client.get(url);
    if let Some((u, p)) = user {
        req = req.basic_auth(u, Some(p));
    }
    let Ok(resp) = req.send().await else {
        return ("no TLS".into(), None, None);
    };
    let header =
        |name: &str| (resp.headers().get(name)).map(|v| v.to_str().unwrap_or("").to_owned());
    let (auth, frame) = (header("www-authenticate"), header("x-frame-options"));
    (resp.status().as_u16().to_string(), auth, frame)
}

/// A plain-HTTP GET's status line and body.
async fn plain(port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    match reqwest::get(url).await {
        Ok(r) => format!(
            "{} {}",
            r.status().as_u16(),
            r.text().await.unwrap_or_default()
        ),
        Err(e) => format!("error: {e}"),
    }
}

fn web_yml(dir: &Path, extra: &str) {
    let d = dir.display();
    let text = format!(
        "tls_server_config:\n  cert_file: {d}/server.pem\n  key_file: {d}/server.key\n{extra}\
         http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    );
    std::fs::write(dir.join("web.yml"), text).unwrap();
}

/// The three servers on one web configuration: node_exporter, the agent, the aggregator.
fn start_all(dir: &Path) -> Option<[Server; 3]> {
    let exporter = peer("prometheus-node-exporter")?;
    let web = format!("--web.config.file={}", dir.join("web.yml").display());
    let storage = format!("--storage.path={}", dir.join("agg").display());
    let ne = ["--collector.disable-defaults", "--collector.loadavg", &web];
    Some([
        Server::start_answering(&exporter, &ne, "/metrics", 400),
        Server::start_answering(Path::new(AGENT), &[&web], "/readyz", 400),
        Server::start_answering(Path::new(AGGREGATOR), &[&web, &storage], "/-/ready", 400),
    ])
}

/// Each server's answer to `client` with `user`, node_exporter's first.
async fn answers(
    servers: &[Server; 3],
    client: &reqwest::Client,
    user: Option<(&str, &str)>,
) -> Vec<Answer> {
    let mut out = Vec::new();
    for s in servers {
        out.push(
            ask(
                client,
                &format!("https://127.0.0.1:{}/metrics", s.port),
                user,
            )
            .await,
        );
    }
    out
}

fn all_like_node_exporter(got: &[Answer], want: (&str, Option<&str>), what: &str) {
    let first = &got[0];
    assert_eq!(
        (first.0.as_str(), first.1.as_deref()),
        want,
        "node_exporter's own answer {what}: {got:?}"
    );
    assert!(
        got.iter().all(|a| a == first),
        "{what}: node_exporter, the agent, the aggregator: {got:?}"
    );
}

/// Prometheus 2.42 scraping the three over TLS with basic auth: every target up.
fn prometheus_scrapes(dir: &Path, servers: &[Server; 3]) {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let targets: Vec<String> = servers
        .iter()
        .map(|s| format!("'127.0.0.1:{}'", s.port))
        .collect();
    let config = format!(
        "global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: all\n  scheme: https\n\
         \x20 basic_auth: {{username: prom, password: am-secret}}\n  tls_config: {{ca_file: {}/ca.pem}}\n\
         \x20 static_configs: [{{targets: [{}]}}]\n",
        dir.display(),
        targets.join(", ")
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let args = [
        format!("--config.file={}/prometheus.yml", dir.display()),
        format!("--storage.tsdb.path={}/prom", dir.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let prom = Server::start(&prometheus, &args, "/-/ready");
    let start = Instant::now();
    loop {
        let body = common::get(&prom.url("/api/v1/targets"), &[]).text();
        let v: Value = serde_json::from_str(&body).unwrap();
        let health: Vec<(String, String)> = (v["data"]["activeTargets"].as_array().unwrap().iter())
            .map(|t| {
                (
                    t["scrapeUrl"].as_str().unwrap_or("").to_owned(),
                    t["health"].as_str().unwrap_or("").to_owned()
                        + " "
                        + t["lastError"].as_str().unwrap_or(""),
                )
            })
            .collect();
        if health.len() == 3 && health.iter().all(|(_, h)| h.trim() == "up") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Prometheus's targets: {health:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_basic_auth_answer_as_node_exporter_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let started = tokio::task::spawn_blocking(move || {
        make_certs(&d);
        web_yml(&d, &format!("basic_auth_users:\n  prom: {PASSWORD_HASH}\n"));
        start_all(&d)
    });
    let Some(servers) = started.await.unwrap() else {
        return;
    };
    let d = dir.path();
    let (trusting, blind) = (client(d, true, false), client(d, false, false));
    let user = Some(("prom", "am-secret"));
    let ok = answers(&servers, &trusting, user).await;
    all_like_node_exporter(&ok, ("200", None), "to the user");
    assert_eq!(ok[0].2.as_deref(), Some("deny"), "the header: {ok:?}");
    let none = answers(&servers, &trusting, None).await;
    all_like_node_exporter(&none, ("401", Some("Basic")), "without credentials");
    let wrong = answers(&servers, &trusting, Some(("prom", "nope"))).await;
    all_like_node_exporter(&wrong, ("401", Some("Basic")), "to a wrong password");
    let stranger = answers(&servers, &trusting, Some(("eve", "am-secret"))).await;
    all_like_node_exporter(&stranger, ("401", Some("Basic")), "to an unknown user");
    let untrusting = answers(&servers, &blind, user).await;
    all_like_node_exporter(&untrusting, ("no TLS", None), "to a client without the CA");
    let mut plains = Vec::new();
    for s in &servers {
        plains.push(plain(s.port).await);
    }
    assert!(
        plains[0].starts_with("400 Client sent an HTTP request to an HTTPS server."),
        "{plains:?}"
    );
    assert!(
        plains.iter().all(|p| p == &plains[0]),
        "plain HTTP: {plains:?}"
    );
    // the probes need no credentials on ours
    let probe = ask(
        &trusting,
        &format!("https://127.0.0.1:{}/healthz", servers[1].port),
        None,
    )
    .await;
    assert_eq!(probe.0, "200", "the agent's /healthz");
    let probe = ask(
        &trusting,
        &format!("https://127.0.0.1:{}/-/ready", servers[2].port),
        None,
    )
    .await;
    assert_eq!(probe.0, "200", "the aggregator's /-/ready");

    let d2 = d.to_owned();
    let servers = tokio::task::spawn_blocking(move || {
        prometheus_scrapes(&d2, &servers);
        servers
    })
    .await
    .unwrap();

    // A new user, and client certificates required: taken by all three at once.
    let hash = bcrypt::hash("ops-secret", 4).unwrap();
    let ca = format!(
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}/ca.pem\nbasic_auth_users:\n  ops: {hash}\n",
        d.display()
    );
    web_yml(d, &ca);
    let with_cert = client(d, true, true);
    let ops = Some(("ops", "ops-secret"));
    let ok = answers(&servers, &with_cert, ops).await;
    all_like_node_exporter(&ok, ("200", None), "to the new user with a certificate");
    let old = answers(&servers, &with_cert, user).await;
    all_like_node_exporter(&old, ("401", Some("Basic")), "to the removed user");
    // a new client: the old one's kept connections were let in before the change
    let no_cert = answers(&servers, &client(d, true, false), ops).await;
    all_like_node_exporter(
        &no_cert,
        ("no TLS", None),
        "to a client without a certificate",
    );

    // TLS dropped from the file: the servers speak TLS until they restart, so every
    // handshake fails; ours say why in their logs once.
    std::fs::write(d.join("web.yml"), "basic_auth_users: {}\n").unwrap();
    let dropped = answers(&servers, &client(d, true, true), ops).await;
    all_like_node_exporter(&dropped, ("no TLS", None), "with tls_server_config removed");
    for ours in &servers[1..] {
        let log = ours.log();
        assert!(
            log.contains("tls_server_config removed"),
            "{}: {log}",
            ours.name
        );
    }
}
