//! A real Prometheus server scrapes the agent on a loopback port: the target is up with
//! no scrape error and the agent's series come back through the query API.
//!
//! Prometheus 2.42 asks for OpenMetrics first, so the "nodepulse" job validates the
//! agent's OpenMetrics output with Prometheus's own parser (promtool cannot read
//! OpenMetrics; see tests/promtool.rs). 2.42 has no `scrape_protocols` setting (2.49+),
//! so the "nodepulse-text" job forces text 0.0.4 through a small proxy that rewrites
//! the `Accept` header.

mod common;

use common::{peer, spawn_agent, Http, Server};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const JOBS: [&str; 2] = ["nodepulse", "nodepulse-text"];
const POLL_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn prometheus_scrapes_the_agent() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let agent = spawn_agent(&[]);
    let proxy = TextOnlyProxy::start(agent.url("/metrics"));
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, prometheus_yml(agent.port, proxy.port)).expect("writing config");
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let prom = Server::start(&prometheus, &args, "/-/ready");
    let http = Http::new();

    poll("both targets healthy", &prom, || {
        targets_healthy(&http, &prom)
    });
    for job in JOBS {
        poll(&format!("up{{job={job:?}}} == 1"), &prom, || {
            let v = query(&http, &prom, &format!("up{{job={job:?}}}"))?;
            (v.first().and_then(|s| s["value"][1].as_str()) == Some("1"))
                .then_some(())
                .ok_or(format!("{v:?}"))
        });
        poll(&format!("node_load1 of {job}"), &prom, || {
            non_empty(query(&http, &prom, &format!("node_load1{{job={job:?}}}"))?)
        });
    }
    poll("node_cpu_seconds_total", &prom, || {
        non_empty(query(
            &http,
            &prom,
            "node_cpu_seconds_total{job=\"nodepulse\"}",
        )?)
    });
}

fn prometheus_yml(agent_port: u16, proxy_port: u16) -> String {
    let job = |name: &str, port: u16| {
        format!(
            "  - job_name: {name}\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
        )
    };
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{}{}",
        job(JOBS[0], agent_port),
        job(JOBS[1], proxy_port)
    )
}

/// Retries `f` until it returns `Ok`, for at most [`POLL_TIMEOUT`].
fn poll<T>(what: &str, prom: &Server, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + POLL_TIMEOUT;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => panic!(
                "{what}: not true after {POLL_TIMEOUT:?}; last answer: {e}\nPrometheus log:\n{}",
                prom.log_tail(40)
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// Every job's target reports health "up" and an empty lastError (where a parse error
/// of the scraped body would show).
fn targets_healthy(http: &Http, prom: &Server) -> Result<(), String> {
    let body = api(http, prom, "/api/v1/targets")?;
    let targets = body["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for job in JOBS {
        let t = targets
            .iter()
            .find(|t| t["labels"]["job"] == job)
            .ok_or(format!("no target for job {job}: {body}"))?;
        if t["health"] != "up" || t["lastError"] != "" {
            return Err(format!(
                "job {job}: health {}, lastError {}",
                t["health"], t["lastError"]
            ));
        }
    }
    Ok(())
}

/// The result vector of an instant query.
fn query(http: &Http, prom: &Server, promql: &str) -> Result<Vec<Value>, String> {
    let body = api(
        http,
        prom,
        &format!("/api/v1/query?query={}", url_encode(promql)),
    )?;
    body["data"]["result"]
        .as_array()
        .cloned()
        .ok_or(format!("no result in {body}"))
}

fn non_empty(result: Vec<Value>) -> Result<(), String> {
    (!result.is_empty())
        .then_some(())
        .ok_or("empty result".into())
}

fn api(http: &Http, prom: &Server, path: &str) -> Result<Value, String> {
    let resp = http.get(&prom.url(path), &[]);
    let body: Value = serde_json::from_slice(&resp.body).map_err(|e| format!("{path}: {e}"))?;
    match body["status"].as_str() {
        Some("success") => Ok(body),
        _ => Err(format!("{path}: {body}")),
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Answers every request with the agent's `/metrics` fetched as text 0.0.4 only, one
/// request per connection.
struct TextOnlyProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TextOnlyProxy {
    fn start(metrics_url: String) -> TextOnlyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let http = Http::new();
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = forward(conn, &http, &metrics_url);
                }
            }
        });
        TextOnlyProxy {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

fn forward(mut conn: TcpStream, http: &Http, metrics_url: &str) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let (mut head, mut buf) = (Vec::new(), [0u8; 4096]);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let resp = http.get(metrics_url, &[("accept", "text/plain;version=0.0.4")]);
    let content_type = resp.header("content-type").unwrap_or_default().to_owned();
    write!(
        conn,
        "HTTP/1.1 {} OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        resp.status,
        resp.body.len()
    )?;
    conn.write_all(&resp.body)
}

impl Drop for TextOnlyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes accept()
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
