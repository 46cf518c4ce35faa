//! The log sinks through the real agent binary: CRI files in a temp pods dir
//! (tests/common/cri.rs), shipped to the Loki and Elasticsearch stand-ins
//! (tests/common/receivers.rs) that decode the real wire formats. Elasticsearch gets
//! ECS documents line by line; Loki JSON+gzip with a tenant and a bearer token set in a
//! config file; both sinks at once; a bulk answer with failed items; a batch is not
//! acknowledged until every sink took it; a bad setting stops the agent naming its key.

mod common;

use common::cri::{Container, Dirs};
use common::receivers::{Receiver, Reply};
use common::{agent_start_failure, agent_start_failure_with_env, get, spawn_agent, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine, a 100 ms idle poll and 1 s batches.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(60);

const WEB: (&str, &str, &str) = ("default", "web-1", "11111111-aaaa");
const DNS: (&str, &str, &str) = ("kube-system", "dns-2", "22222222-bbbb");

/// Starts the agent on the blocking pool (it waits for readiness).
async fn agent(args: Vec<String>) -> Server {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_agent(&args)
    })
    .await
    .unwrap()
}

/// The directories, no Kubernetes API, a fixed node name, and `sinks`.
fn args(d: &Dirs, sinks: &[String]) -> Vec<String> {
    let mut a = d.args();
    a.extend(["--kube.api=off".into(), "--node-name=test-node".into()]);
    a.extend_from_slice(sinks);
    a
}

/// Messages that arrived, per (container, stream), in arrival order.
type Got = BTreeMap<(String, String), Vec<String>>;

fn key(container: &str, stream: &str) -> (String, String) {
    (container.to_owned(), stream.to_owned())
}

/// What Elasticsearch accepted (2xx items), in order.
fn es_got(es: &Receiver) -> Got {
    let mut got = Got::new();
    for doc in es.script.accepted() {
        let k = &doc["kubernetes"]["container"]["name"];
        let k = key(k.as_str().unwrap(), doc["stream"].as_str().unwrap());
        got.entry(k)
            .or_default()
            .push(doc["message"].as_str().unwrap().to_owned());
    }
    got
}

/// What Loki acknowledged, from protobuf or JSON pushes.
fn loki_got(loki: &Receiver) -> Got {
    let mut got = Got::new();
    for r in loki.script.received() {
        if !(200..300).contains(&r.status) {
            continue;
        }
        for s in r.push.map(|p| p.streams).unwrap_or_default() {
            let k = key(&label(&s.labels, "container"), &label(&s.labels, "stream"));
            got.entry(k)
                .or_default()
                .extend(s.entries.into_iter().map(|e| e.line));
        }
        for s in r
            .json
            .as_ref()
            .map_or(&[][..], |j| j["streams"].as_array().unwrap())
        {
            let labels = &s["stream"];
            let k = key(
                labels["container"].as_str().unwrap(),
                labels["stream"].as_str().unwrap(),
            );
            let lines = s["values"].as_array().unwrap().iter();
            got.entry(k)
                .or_default()
                .extend(lines.map(|v| v[1].as_str().unwrap().to_owned()));
        }
    }
    got
}

fn label(labels: &str, name: &str) -> String {
    let start = labels.find(&format!("{name}=\"")).expect("label present") + name.len() + 2;
    labels[start..].split('"').next().unwrap().to_string()
}

/// Every line written has arrived (at least once).
fn has_all(got: &Got, containers: &[&Container]) -> bool {
    containers.iter().all(|c| {
        ["stdout", "stderr"].iter().all(|s| {
            let have = got.get(&key(c.name, s)).map_or(&[][..], Vec::as_slice);
            c.expected(s).iter().all(|l| have.contains(l))
        })
    })
}

/// Every line arrived exactly once, in write order per (container, stream).
fn assert_exactly_once_in_order(got: &Got, containers: &[&Container], sink: &str) {
    for c in containers {
        for s in ["stdout", "stderr"] {
            assert_eq!(
                got[&key(c.name, s)],
                c.expected(s),
                "{sink}: {} {s}",
                c.name
            );
        }
    }
}

/// Polls `done` until it holds; fails with the agent's log after the timeout.
async fn wait_until(server: &Server, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} not after {ARRIVAL_TIMEOUT:?}; agent log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scrapes until the body contains every one of `needles` (bounded); returns the body.
async fn wait_metrics(server: &Server, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = server.url("/metrics");
        let body = tokio::task::spawn_blocking(move || get(&url, &[]).text())
            .await
            .unwrap();
        let missing: Vec<_> = needles.iter().filter(|n| !body.contains(*n)).collect();
        if missing.is_empty() {
            return body;
        }
        assert!(Instant::now() < deadline, "{missing:?} not in:\n{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ECS document the agent must have made of `doc`'s line, every field of it.
fn expected_document(doc: &Value, containers: &[&Container]) -> Value {
    let name = doc["kubernetes"]["container"]["name"].as_str().unwrap();
    let c = containers
        .iter()
        .find(|c| c.name == name)
        .expect("a known container");
    let message = doc["message"].as_str().unwrap();
    let line = c
        .find(message)
        .unwrap_or_else(|| panic!("{message:?} was not written"));
    let mut want = json!({
        "@timestamp": line.timestamp,
        "message": line.message,
        "stream": line.stream,
        "kubernetes": {
            "namespace": c.namespace,
            "pod": {"name": c.pod, "uid": c.uid},
            "container": {"name": c.name},
            "node": {"name": "test-node"},
        }
    });
    if message.starts_with('{') {
        want["log"] = json!({"level": "warn"});
        want["trace"] = json!({"id": "4bf92f3577b34da6a3ce929d0e0e4736"});
    }
    want
}

const JSON_LINE: &str =
    r#"{"level":"WARNING","msg":"slow query","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_gets_every_line_as_an_ecs_document_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut web = Container::new(&d.pods, WEB, "app");
    let mut dns = Container::new(&d.pods, DNS, "dns");
    web.write(30);
    dns.write(20);
    web.write_message("stdout", JSON_LINE);
    let es = Receiver::elasticsearch().await;
    let server = agent(args(
        &d,
        &[
            format!("--sink.elasticsearch.url={}", es.url()),
            "--sink.elasticsearch.index=logs-test-%Y.%m.%d".into(),
        ],
    ))
    .await;
    web.write(25);
    dns.write(25);
    let all = [&web, &dns];
    wait_until(&server, "every line at Elasticsearch", || {
        has_all(&es_got(&es), &all)
    })
    .await;

    let mut documents = 0;
    for r in es.script.received() {
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["content-encoding"], "gzip");
        assert_eq!(r.actions.len(), r.docs.len());
        for (action, doc) in r.actions.iter().zip(&r.docs) {
            assert_eq!(
                action,
                &json!({"create": {"_index": "logs-test-2024.01.01"}})
            );
            assert_eq!(doc, &expected_document(doc, &all));
            documents += 1;
        }
    }
    assert_eq!(documents, 101, "no document sent twice");
    assert_exactly_once_in_order(&es_got(&es), &all, "elasticsearch");
    wait_metrics(
        &server,
        &[
            "nodepulse_log_sent_events_total{sink=\"elasticsearch\"} 101",
            "nodepulse_log_dropped_events_total{reason=\"rejected\",sink=\"elasticsearch\"} 0",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_json_with_tenant_and_token_from_a_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut web = Container::new(&d.pods, WEB, "app");
    let mut dns = Container::new(&d.pods, DNS, "dns");
    web.write(20);
    let loki = Receiver::loki().await;
    let token = tmp.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let config = tmp.path().join("agent.yaml");
    let yaml = format!(
        "data_dir: {data}\nnode_name: test-node\nkube:\n  api: \"off\"\n\
         logs:\n  pods_dir: {pods}\n  containers_dir: {containers}\n  batch:\n    timeout: 200ms\n\
         sink:\n  loki:\n    url: {url}/loki/api/v1/push\n    format: json\n    \
         tenant_id: team-a\n    bearer_token_file: {token}\n    headers:\n      X-Test: e2e\n",
        data = d.data.display(),
        pods = d.pods.display(),
        containers = d.containers.display(),
        url = loki.url(),
        token = token.display(),
    );
    std::fs::write(&config, yaml).unwrap();
    let server = agent(vec![format!("--config.file={}", config.display())]).await;
    web.write(20);
    dns.write(30);
    let all = [&web, &dns];
    wait_until(&server, "every line at Loki", || {
        has_all(&loki_got(&loki), &all)
    })
    .await;

    for r in loki.script.received() {
        let h = |name: &str| r.headers[name].to_str().unwrap().to_owned();
        assert_eq!(h("content-type"), "application/json");
        assert_eq!(h("content-encoding"), "gzip");
        assert_eq!(h("x-scope-orgid"), "team-a");
        assert_eq!(h("authorization"), "Bearer tok-123");
        assert_eq!(h("x-test"), "e2e");
        assert!(h("user-agent").starts_with("nodepulse/"));
        assert_json_streams(r.json.as_ref().expect("a JSON push"), &all);
    }
    assert_exactly_once_in_order(&loki_got(&loki), &all, "loki");
}

/// Each JSON stream has exactly the agreed labels, each entry the pod's metadata.
fn assert_json_streams(push: &Value, containers: &[&Container]) {
    for s in push["streams"].as_array().unwrap() {
        let labels = &s["stream"];
        let name = labels["container"].as_str().unwrap();
        let c = containers.iter().find(|c| c.name == name).unwrap();
        let stream = labels["stream"].as_str().unwrap();
        let want = json!({"namespace": c.namespace, "pod": c.pod, "container": c.name,
                          "node": "test-node", "stream": stream});
        assert_eq!(labels, &want);
        for v in s["values"].as_array().unwrap() {
            let line = c.find(v[1].as_str().unwrap()).expect("a written line");
            assert_eq!(v[0], line_nanos(&line.timestamp), "{v}");
            assert_eq!(v[2]["pod_uid"], c.uid, "{v}");
            assert_eq!(v[2]["restart_count"], "0", "{v}");
        }
    }
}

/// The Unix nanoseconds of a timestamp `Container` wrote (2024-01-01T00:MM:SS.N), as
/// Loki's JSON has them: a decimal string.
fn line_nanos(ts: &str) -> String {
    const JAN_1_2024: u64 = 1_704_067_200;
    let minutes: u64 = ts[14..16].parse().unwrap();
    let seconds: u64 = ts[17..19].parse().unwrap();
    let nanos: u64 = ts[20..29].parse().unwrap();
    ((JAN_1_2024 + minutes * 60 + seconds) * 1_000_000_000 + nanos).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sinks_get_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut web = Container::new(&d.pods, WEB, "app");
    let mut dns = Container::new(&d.pods, DNS, "dns");
    web.write(40);
    let (loki, es) = (Receiver::loki().await, Receiver::elasticsearch().await);
    let server = agent(args(
        &d,
        &[
            format!("--sink.loki.url={}/loki/api/v1/push", loki.url()),
            format!("--sink.elasticsearch.url={}", es.url()),
        ],
    ))
    .await;
    web.write(30);
    dns.write(50);
    let all = [&web, &dns];
    wait_until(&server, "every line at both sinks", || {
        has_all(&loki_got(&loki), &all) && has_all(&es_got(&es), &all)
    })
    .await;
    assert_exactly_once_in_order(&loki_got(&loki), &all, "loki");
    assert_exactly_once_in_order(&es_got(&es), &all, "elasticsearch");
    for r in es.script.received() {
        for action in &r.actions {
            assert_eq!(
                action,
                &json!({"create": {"_index": "nodepulse-2024.01.01"}})
            );
        }
    }
    wait_metrics(
        &server,
        &[
            "nodepulse_log_sent_events_total{sink=\"elasticsearch\"} 120",
            "nodepulse_log_sent_events_total{sink=\"loki\"} 120",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_failed_bulk_items_are_sent_again() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut web = Container::new(&d.pods, WEB, "app");
    web.write(40);
    let es = Receiver::elasticsearch().await;
    // The first answer: 200 with errors: true for items 1, 3 and 5 (retryable).
    es.script
        .push(Reply::Items(vec![201, 429, 201, 503, 201, 500]));
    let server = agent(args(
        &d,
        &[format!("--sink.elasticsearch.url={}", es.url())],
    ))
    .await;
    web.write(10);
    let all = [&web];
    wait_until(&server, "every line at Elasticsearch", || {
        has_all(&es_got(&es), &all)
    })
    .await;

    let received = es.script.received();
    let first = &received[0].docs;
    let failed: Vec<&Value> = [1, 3, 5].iter().filter_map(|&i| first.get(i)).collect();
    assert!(
        !failed.is_empty(),
        "the first request held {} documents",
        first.len()
    );
    let retry: Vec<&Value> = received[1].docs.iter().collect();
    assert_eq!(
        retry, failed,
        "the retry holds exactly the failed items, in order"
    );
    let accepted = es.script.accepted();
    for line in &web.written {
        let n = accepted
            .iter()
            .filter(|d| d["message"] == line.message)
            .count();
        assert_eq!(n, 1, "{:?} accepted {n} times", line.message);
    }
    assert_eq!(accepted.len(), 50);
    wait_metrics(
        &server,
        &[
            "nodepulse_log_sent_events_total{sink=\"elasticsearch\"} 50",
            "nodepulse_log_sink_retries_total{sink=\"elasticsearch\"} 1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_acknowledged_only_when_every_sink_took_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut web = Container::new(&d.pods, WEB, "app");
    web.write(30);
    let loki = Receiver::loki().await;
    let mut es = Receiver::elasticsearch().await;
    es.stop().await; // connections refused: Elasticsearch never settles the batch
    let sinks = [
        format!("--sink.loki.url={}/loki/api/v1/push", loki.url()),
        format!("--sink.elasticsearch.url={}", es.url()),
    ];
    let mut server = agent(args(&d, &sinks)).await;
    wait_until(&server, "a push at Loki", || {
        !loki.script.received().is_empty()
    })
    .await;
    wait_metrics(
        &server,
        &["nodepulse_log_sent_events_total{sink=\"elasticsearch\"} 0"],
    )
    .await;
    server.terminate();
    let stopped = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(30)));
    assert!(stopped.await.unwrap().is_some(), "agent did not stop");
    let first_run = loki_got(&loki);

    es.restart().await;
    let server = agent(args(&d, &sinks)).await;
    let all = [&web];
    wait_until(&server, "every line at both sinks", || {
        has_all(&loki_got(&loki), &all) && has_all(&es_got(&es), &all)
    })
    .await;
    // Loki took the batch in the first run, but Elasticsearch did not: the checkpoint
    // did not move, so the second run read it again and Loki got it twice.
    let both_runs = loki_got(&loki);
    for (k, lines) in &first_run {
        for line in lines {
            let n = both_runs[k].iter().filter(|l| *l == line).count();
            assert!(n >= 2, "{line:?} sent to Loki {n} times");
        }
    }
    assert_exactly_once_in_order(&es_got(&es), &all, "elasticsearch");
}

#[test]
fn a_bad_setting_stops_the_agent_naming_its_key() {
    let timeout = Duration::from_secs(30);
    let (status, stderr) = agent_start_failure(&["--logs.batch.max-bytes=lots"], timeout);
    assert!(!status.success());
    assert!(
        stderr.contains("logs.batch.max_bytes") && stderr.contains("--logs.batch.max-bytes"),
        "{stderr}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("agent.yaml");
    std::fs::write(
        &config,
        "sink:\n  loki:\n    url: http://l/p\n    format: xml\n",
    )
    .unwrap();
    let arg = format!("--config.file={}", config.display());
    let (status, stderr) = agent_start_failure(&[&arg], timeout);
    assert!(!status.success());
    assert!(stderr.contains("sink.loki.format"), "{stderr}");

    // The same through the environment variable.
    let env = [("NODEPULSE_LOGS_BUFFER_WHEN_FULL", "sometimes")];
    let (status, stderr) = agent_start_failure_with_env(&[], &env, timeout);
    assert!(!status.success());
    assert!(stderr.contains("logs.buffer.when_full"), "{stderr}");
}
