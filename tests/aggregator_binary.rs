//! `nodepulse-aggregator` as users run it: flags and `--help`, a bad configuration
//! refused at start-up naming the field, `--check-config` on rule files beside promtool, remote_write in and the Prometheus API out on a
//! loopback port, Grafana's health check (`/api/v1/query` and buildinfo), and a clean
//! exit on SIGTERM (an open Loki tail told so).

mod common;

use common::Server;
use nodepulse::aggregator::model::{Labels, Sample};
use nodepulse::aggregator::remote_write::encode;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the binary to its exit (bounded), with its output.
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(AGGREGATOR)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the aggregator");
    let deadline = Instant::now() + EXIT_TIMEOUT;
    while child.try_wait().expect("waiting").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("aggregator {args:?} still running after {EXIT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collecting output")
}

#[test]
fn help_lists_the_contract_flags() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--web.listen-address",
        "--storage.path",
        "--storage.retention",
        "--config.file",
        "--log.level",
        "--log.format",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

#[test]
fn bad_configuration_fails_at_start_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agg.yml");
    std::fs::write(&file, "storage:\n  retention: soon\n").unwrap();
    let config_flag = format!("--config.file={}", file.display());
    let cases: [(&[&str], &str); 3] = [
        (&["--storage.retention=forever"], "storage.retention"),
        (&[&config_flag], "storage.retention"),
        (&["--web.listen-address=nowhere"], "web.listen_address"),
    ];
    for (args, field) in cases {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(field), "{args:?}: {stderr}");
    }
    std::fs::write(&file, "storage:\n  retnetion: 1d\n").unwrap();
    let out = run(&[&config_flag]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("retnetion"));
}

/// `--check-config` checks the rule files too, as `promtool check config` does: the
/// same files pass and fail in both, and ours names promtool's line.
#[test]
fn check_config_checks_the_rule_files_as_promtool() {
    let Some(promtool) = common::peer("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (rules, config) = (dir.path().join("rules.yml"), dir.path().join("agg.yml"));
    std::fs::write(&config, "rule_files: [rules.yml]\n").unwrap();
    let rule = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n";
    let cases = [
        (
            format!("{rule}    bogus: 1\n"),
            Some("line 6: field bogus not found"),
        ),
        (
            format!("{rule}    annotations: {{summary: '{{{{ $labels.x '}}\n"),
            Some("unclosed action"),
        ),
        (
            rule.replace("up == 0", "up ==="),
            Some("group \"g\", rule 1"),
        ),
        (rule.to_owned(), None),
    ];
    for (text, error) in cases {
        std::fs::write(&rules, &text).unwrap();
        let ours = run(&[
            &format!("--config.file={}", config.display()),
            "--check-config",
        ]);
        let theirs = Command::new(&promtool)
            .args(["check", "rules"])
            .arg(&rules)
            .output()
            .unwrap();
        let (our_err, their_out) = (
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stdout) + String::from_utf8_lossy(&theirs.stderr),
        );
        assert_eq!(
            ours.status.success(),
            theirs.status.success(),
            "{text}\nours: {our_err}\npromtool: {their_out}"
        );
        match error {
            Some(e) => {
                assert!(our_err.contains(e), "{text}\nours: {our_err}");
                assert!(their_out.contains(e), "{text}\npromtool: {their_out}");
                assert!(our_err.contains(&rules.display().to_string()), "{our_err}");
            }
            None => assert!(our_err.contains("SUCCESS: 1 rule files found"), "{our_err}"),
        }
    }
}

#[test]
fn serves_remote_write_and_the_query_api_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let storage = format!("--storage.path={}", dir.path().display());
    let mut server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let http = reqwest::blocking::Client::new();
    let batch = vec![(
        Labels::from_pairs(&[("__name__", "up"), ("job", "agent")]),
        vec![Sample { t: 1_000, v: 1.0 }, Sample { t: 16_000, v: 0.0 }],
    )];
    let r = http
        .post(server.url("/api/v1/write"))
        .body(encode(&batch))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = http
        .post(server.url("/api/v1/write"))
        .body("junk")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let get = |path: &str| -> Value {
        let text = http.get(server.url(path)).send().unwrap().text().unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    };
    // Grafana's data-source health check asks a constant query and the build info.
    let health = get("/api/v1/query?query=1%2B1&time=1");
    assert_eq!(
        health["data"]["result"],
        serde_json::json!([1, "2"]),
        "{health}"
    );
    assert_eq!(get("/api/v1/status/buildinfo")["status"], "success");
    let v = get("/api/v1/query?query=up&time=16");
    assert_eq!(
        v["data"]["result"][0]["value"],
        serde_json::json!([16, "0"])
    );
    let v = get("/api/v1/query_range?query=up&start=1&end=16&step=15");
    assert_eq!(
        v["data"]["result"][0]["values"].as_array().unwrap().len(),
        2
    );

    server.terminate();
    let status = server.wait_exit(EXIT_TIMEOUT).expect("exit after SIGTERM");
    assert!(status.success(), "{status:?}: {}", server.log());
}

/// A Loki tail open at SIGTERM is told the server is going away (1001), and the
/// binary still exits cleanly: upgraded connections are not the HTTP server's to wait for.
#[test]
fn an_open_tail_is_closed_at_sigterm() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let storage = format!("--storage.path={}", dir.path().display());
    let mut server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let url = server
        .url("/loki/api/v1/tail?query=%7Bapp%3D%22api%22%7D")
        .replacen("http://", "ws://", 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let close = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("tail");
        server.terminate();
        let read = async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame,
                    Some(Ok(_)) => continue,
                    other => panic!("no close frame: {other:?}"),
                }
            }
        };
        tokio::time::timeout(EXIT_TIMEOUT, read)
            .await
            .expect("no close frame")
    });
    assert_eq!(close.map(|c| u16::from(c.code)), Some(1001));
    let status = server.wait_exit(EXIT_TIMEOUT).expect("exit after SIGTERM");
    assert!(status.success(), "{status:?}: {}", server.log());
}

/// Every sample acknowledged (204) before a SIGKILL is queryable after the restart: the
/// WAL is synced before the receiver answers.
#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let storage = format!("--storage.path={}", dir.path().display());
    let server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let http = reqwest::blocking::Client::new();
    let labels = Labels::from_pairs(&[("__name__", "acked_total"), ("job", "crash")]);
    for i in 0..50 {
        let samples = vec![Sample {
            t: i * 15_000,
            v: i as f64,
        }];
        let body = encode(&[(labels.clone(), samples)]);
        let r = http
            .post(server.url("/api/v1/write"))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
    }
    drop(server); // SIGKILL: no shutdown path runs.

    let server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let url = server.url("/api/v1/query?query=acked_total[1h]&time=735");
    let v: Value = serde_json::from_str(&http.get(url).send().unwrap().text().unwrap()).unwrap();
    let values = v["data"]["result"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(values.len(), 50, "{v}");
    assert_eq!(values[49], serde_json::json!([735, "49"]));
}

/// The `logs` section reaches the running Loki routes: a token file guards push and
/// query, and `max_line_size` refuses a longer line with Loki's 400.
#[test]
fn the_logs_section_sets_the_loki_limits_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (token, config) = (dir.path().join("token"), dir.path().join("agg.yml"));
    std::fs::write(&token, "s3cret\n").unwrap();
    let yaml = format!(
        "logs:\n  limits:\n    max_line_size: 64B\n  auth:\n    ingest_token_file: {0}\n    \
         query_token_file: {0}\n",
        token.display()
    );
    std::fs::write(&config, yaml).unwrap();
    let storage = format!("--storage.path={}", dir.path().join("data").display());
    let config = format!("--config.file={}", config.display());
    let mut server = Server::start(Path::new(AGGREGATOR), &[&storage, &config], "/-/ready");
    let http = reqwest::blocking::Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let push = |line: &str, auth: Option<&str>| {
        let body = serde_json::json!({"streams": [{"stream": {"app": "a"},
            "values": [[now.to_string(), line]]}]});
        let mut r = http
            .post(server.url("/loki/api/v1/push"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(push("short", None).0, 401);
    assert_eq!(push("short", Some("s3cret")).0, 204);
    let (status, text) = push(&"x".repeat(65), Some("s3cret"));
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("Max entry size '64' bytes exceeded"),
        "{text}"
    );
    let query = server.url("/loki/api/v1/query_range?query=%7Bapp%3D%22a%22%7D");
    assert_eq!(http.get(&query).send().unwrap().status().as_u16(), 401);
    let v = http
        .get(&query)
        .bearer_auth("s3cret")
        .send()
        .unwrap()
        .text()
        .unwrap();
    let v: Value = serde_json::from_str(&v).unwrap_or_else(|e| panic!("{e}: {v}"));
    assert_eq!(v["data"]["result"][0]["values"][0][1], "short", "{v}");
    server.terminate();
    assert!(server.wait_exit(EXIT_TIMEOUT).expect("exit").success());
}
