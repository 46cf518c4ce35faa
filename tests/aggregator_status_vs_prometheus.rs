//! `/api/v1/metadata` and `/api/v1/status/config` beside a real Prometheus (Debian's
//! 2.42): both scrape the same scripted target, and the metadata both answer (per
//! metric, its set of type/help/unit entries) is the same, whole and with `metric=`
//! and `limit=`. The aggregator's rendered configuration is itself a valid aggregator
//! configuration, and its Prometheus sections pass `promtool check config`.

mod common;

use common::scrape_target::{ok, serve};
use common::{peer, Server};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

const BODY: &str = "# HELP req_total Requests served, by \\\\ code.\\nSecond line.\n\
# TYPE req_total counter\nreq_total{code=\"200\"} 3\nreq_total{code=\"500\"} 1\n\
# HELP temp_celsius A gauge.\n# TYPE temp_celsius gauge\ntemp_celsius 21.5\n\
# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n\
lat_seconds_bucket{le=\"0.1\"} 1\nlat_seconds_bucket{le=\"+Inf\"} 2\nlat_seconds_sum 0.3\nlat_seconds_count 2\n\
# TYPE rpc_seconds summary\nrpc_seconds{quantile=\"0.5\"} 0.2\nrpc_seconds_sum 1\nrpc_seconds_count 5\n\
# TYPE legacy untyped\nlegacy 7\n# HELP help_only Only a help line.\nhelp_only 1\n\
no_metadata 2\n";

type Meta = BTreeMap<String, BTreeSet<(String, String, String)>>;

fn metadata(http: &reqwest::blocking::Client, server: &Server, params: &str) -> Meta {
    let url = server.url(&format!("/api/v1/metadata{params}"));
    let text = http.get(&url).send().unwrap().text().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
    assert_eq!(v["status"], "success", "{text}");
    let data = v["data"].as_object().expect("data is an object");
    data.iter()
        .map(|(name, entries)| {
            let set = entries
                .as_array()
                .expect("a list per metric")
                .iter()
                .map(|e| {
                    let f = |k: &str| e[k].as_str().expect("string field").to_owned();
                    (f("type"), f("help"), f("unit"))
                })
                .collect();
            (name.clone(), set)
        })
        .collect()
}

fn start_target() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            tx.send(serve(Arc::new(Mutex::new(ok(BODY)))).await)
                .unwrap();
            std::future::pending::<()>().await
        })
    });
    rx.recv().unwrap()
}

#[test]
fn metadata_matches_prometheus_and_the_config_is_valid() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let port = start_target();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scrape.yml");
    // an Alertmanager with basic auth, a private CA and relabelling (never sent to: no
    // rules), alert relabelling, and a scrape job with a bearer token and a private CA
    // (never up), so that promtool checks those keys as we render them
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let alerting = format!(
        "alerting:\n  alert_relabel_configs: [{{action: labeldrop, regex: replica}}]\n  alertmanagers:\n  - scheme: https\n    basic_auth: {{username: prom, password: hunter2}}\n    tls_config: {{ca_file: {ca}}}\n    static_configs: [{{targets: ['127.0.0.1:1']}}]\n    relabel_configs: [{{source_labels: [__address__], regex: 'nowhere:1', action: drop}}]\n"
    );
    let scrape = format!(
        "global:\n  scrape_interval: 1s\n{alerting}scrape_configs:\n  - job_name: t\n    relabel_configs:\n      - {{source_labels: [__address__], regex: '(.*):\\d+', target_label: host}}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n\
         \x20 - job_name: secured\n    scheme: https\n    bearer_token: s3cret\n    tls_config: {{ca_file: {ca}}}\n    static_configs: [{{targets: ['127.0.0.1:1']}}]\n"
    );
    std::fs::write(&config, &scrape).unwrap();
    let (data, prom_data) = (dir.path().join("agg"), dir.path().join("prom"));
    let agg_args = [
        format!("--storage.path={}", data.display()),
        format!("--config.file={}", config.display()),
    ];
    let agg_args: Vec<&str> = agg_args.iter().map(String::as_str).collect();
    let ours = Server::start(Path::new(AGGREGATOR), &agg_args, "/-/ready");
    let prom_args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", prom_data.display()),
    ];
    let prom_args: Vec<&str> = prom_args.iter().map(String::as_str).collect();
    let prom = Server::start(&prometheus, &prom_args, "/-/ready");
    let http = reqwest::blocking::Client::new();

    let deadline = Instant::now() + Duration::from_secs(90);
    let (a, b) = loop {
        let (a, b) = (metadata(&http, &ours, ""), metadata(&http, &prom, ""));
        if (a.len() >= 6 && a == b) || Instant::now() > deadline {
            break (a, b);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(a, b, "aggregator (left) vs Prometheus (right)");
    assert_eq!(a.len(), 6, "{a:?}");
    assert_eq!(
        a["req_total"].first().map(|e| e.1.as_str()),
        Some("Requests served, by \\ code.\nSecond line.")
    );
    for params in ["?metric=lat_seconds", "?metric=nope", "?limit=-1"] {
        let (a, b) = (
            metadata(&http, &ours, params),
            metadata(&http, &prom, params),
        );
        assert_eq!(a, b, "{params}");
    }
    assert_eq!(metadata(&http, &ours, "?limit=2").len(), 2);
    assert_eq!(metadata(&http, &ours, "?limit=0").len(), 0);
    let bad = http
        .get(ours.url("/api/v1/metadata?limit=x"))
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    exemplars_answer_as_prometheus(&http, &ours, &prom);

    let text = http
        .get(ours.url("/api/v1/status/config"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let yaml = v["data"]["yaml"].as_str().expect("yaml string").to_owned();
    check_rendered(&yaml, dir.path());
}

/// `/api/v1/query_exemplars` (Prometheus 2.42 keeps no exemplars by default, nor do we):
/// the same status and body for each query, the parse error's wording aside.
fn exemplars_answer_as_prometheus(http: &reqwest::blocking::Client, ours: &Server, prom: &Server) {
    let asks = [
        "query=up",
        "query=rate(req_total%5B5m%5D)&start=0&end=100",
        "query=vector(1)",
        "query=up&start=10&end=5",
        "query=up&start=x",
        "query=up%7B",
        "",
    ];
    for q in asks {
        let answer = |server: &Server, post: bool| {
            let url = server.url("/api/v1/query_exemplars");
            let resp = match post {
                true => http
                    .post(url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(q)
                    .send(),
                false => http.get(format!("{url}?{q}")).send(),
            }
            .unwrap();
            let status = resp.status().as_u16();
            let mut body: Value =
                serde_json::from_str(&resp.text().unwrap()).unwrap_or(Value::Null);
            if q.contains("%7B") || q.is_empty() {
                body["error"] = Value::Null; // the parsers word it their own way
            }
            (status, body)
        };
        for post in [false, true] {
            let (a, b) = (answer(ours, post), answer(prom, post));
            assert_eq!(
                a, b,
                "query_exemplars {q:?} (POST {post}): ours (left), Prometheus's"
            );
        }
    }
}

/// The rendered YAML loads as our configuration, and its Prometheus part passes
/// `promtool check config`.
fn check_rendered(yaml: &str, dir: &Path) {
    assert!(yaml.contains("scrape_interval: 1s"), "{yaml}");
    assert!(yaml.contains("regex: (.*):\\d+"), "{yaml}");
    for want in [
        "password: <secret>",
        "username: prom",
        "ca_file: ",
        "regex: replica",
        "regex: nowhere:1",
        "type: Bearer",
        "credentials: <secret>",
    ] {
        assert!(yaml.contains(want), "{want} not in\n{yaml}");
    }
    assert!(!yaml.contains("s3cret"), "a secret shown:\n{yaml}");
    let ours = dir.join("rendered.yml");
    std::fs::write(&ours, yaml).unwrap();
    let status = std::process::Command::new(AGGREGATOR)
        .arg(format!("--config.file={}", ours.display()))
        .arg("--check-config")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{yaml}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let prom_part: String = yaml
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("global:"))
        .collect();
    let path = dir.join("prometheus-part.yml");
    std::fs::write(&path, &prom_part).unwrap();
    let promtool = peer("promtool").expect("promtool comes with prometheus");
    let out = std::process::Command::new(promtool)
        .args(["check", "config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{prom_part}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
