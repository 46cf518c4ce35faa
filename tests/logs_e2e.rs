//! The log pipeline through the real agent binary: CRI files in a temp pods dir, a Loki
//! receiver speaking the real push protocol (tests/common/receivers.rs), lines written
//! before and after the start, a kubelet-style rotation mid-run, and a restart that
//! resends at most the last unacknowledged batch of each file. The SIGKILL test is
//! tests/logs_crash_e2e.rs.

mod common;

use common::receivers::Receiver;
use common::{get, spawn_agent, Server};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine, a 100 ms idle poll and 1 s batches.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(60);
/// The default batch limit in events: the most a restart may send again per file.
const BATCH_EVENTS: usize = 10_000;

/// The agent's directories, under one temp dir the caller keeps.
#[derive(Clone)]
struct Dirs {
    pods: PathBuf,
    containers: PathBuf,
    data: PathBuf,
}

fn dirs(tmp: &Path) -> Dirs {
    let d = Dirs {
        pods: tmp.join("pods"),
        containers: tmp.join("containers"),
        data: tmp.join("data"),
    };
    for dir in [&d.pods, &d.containers, &d.data] {
        fs::create_dir_all(dir).unwrap();
    }
    d
}

/// One container of the test: its log directory and the lines written so far.
struct Container {
    name: &'static str,
    dir: PathBuf,
    written: Vec<String>,
}

impl Container {
    fn new(pods: &Path, pod_dir: &str, name: &'static str) -> Container {
        let dir = pods.join(pod_dir).join(name);
        fs::create_dir_all(&dir).unwrap();
        File::create(dir.join("0.log")).unwrap();
        Container {
            name,
            dir,
            written: Vec::new(),
        }
    }

    /// Appends `n` CRI lines (alternating stdout/stderr, one split in two P/F pieces).
    fn write(&mut self, n: usize) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.dir.join("0.log"))
            .unwrap();
        let mut out = String::new();
        for _ in 0..n {
            let i = self.written.len();
            let msg = format!("{} line {i}", self.name);
            let stream = if i % 2 == 0 { "stdout" } else { "stderr" };
            let ts = format!("2024-01-01T00:00:{:02}.{:09}Z", i % 60, i);
            if i % 7 == 3 {
                let (a, b) = msg.split_at(4);
                out.push_str(&format!("{ts} {stream} P {a}\n{ts} {stream} F {b}\n"));
            } else {
                out.push_str(&format!("{ts} {stream} F {msg}\n"));
            }
            self.written.push(msg);
        }
        f.write_all(out.as_bytes()).unwrap();
        f.sync_all().unwrap();
    }

    fn key(&self, stream: &str) -> (String, String) {
        (self.name.to_string(), stream.to_string())
    }

    /// The lines written to `stream`, in order (even lines go to stdout).
    fn expected(&self, stream: &str) -> Vec<String> {
        let parity = usize::from(stream == "stderr");
        let lines = self.written.iter().enumerate();
        lines
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// kubelet's rotation: the live file is renamed with a timestamp, a new one created.
    fn rotate(&self, stamp: &str) {
        let live = self.dir.join("0.log");
        fs::rename(&live, self.dir.join(format!("0.log.{stamp}"))).unwrap();
        File::create(&live).unwrap();
    }
}

/// Starts the agent on the blocking pool (it waits for readiness).
async fn agent(d: &Dirs, receiver: &Receiver) -> Server {
    let args = [
        format!("--sink.loki.url={}/loki/api/v1/push", receiver.url()),
        format!("--logs.pods-dir={}", d.pods.display()),
        format!("--logs.containers-dir={}", d.containers.display()),
        format!("--data-dir={}", d.data.display()),
        "--kube.api=off".to_string(),
        "--node-name=test-node".to_string(),
    ];
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_agent(&args)
    })
    .await
    .unwrap()
}

/// Lines the receiver acknowledged, per (container, stream) (a Loki stream each), in
/// arrival order; and every label set seen.
type Got = BTreeMap<(String, String), Vec<String>>;

fn received(receiver: &Receiver) -> (Got, Vec<String>) {
    let mut lines: Got = BTreeMap::new();
    let mut label_sets = Vec::new();
    for r in receiver.script.received() {
        if !(200..300).contains(&r.status) {
            continue;
        }
        for stream in r.push.expect("protobuf push").streams {
            let key = (
                label(&stream.labels, "container"),
                label(&stream.labels, "stream"),
            );
            for e in stream.entries {
                lines.entry(key.clone()).or_default().push(e.line);
            }
            label_sets.push(stream.labels);
        }
    }
    (lines, label_sets)
}

fn label(labels: &str, name: &str) -> String {
    let start = labels.find(&format!("{name}=\"")).expect("label present") + name.len() + 2;
    labels[start..].split('"').next().unwrap().to_string()
}

/// Waits until every container's written lines have all arrived (at least once).
async fn wait_all(receiver: &Receiver, containers: &[&Container], server: &Server) {
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    loop {
        let (got, _) = received(receiver);
        let done = containers.iter().all(|c| {
            ["stdout", "stderr"].iter().all(|s| {
                let have = got.get(&c.key(s)).map_or(&[][..], Vec::as_slice);
                c.expected(s).iter().all(|l| have.contains(l))
            })
        });
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lines missing after {ARRIVAL_TIMEOUT:?}; agent log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scrapes until the body contains `needle` (bounded); returns the body.
async fn wait_metric(server: &Server, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = server.url("/metrics");
        let body = tokio::task::spawn_blocking(move || get(&url, &[]).text())
            .await
            .unwrap();
        if body.contains(needle) || Instant::now() > deadline {
            assert!(body.contains(needle), "{needle:?} not in:\n{body}");
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each container's lines arrived in write order, and nothing but them.
fn assert_in_order(got: &[String], written: &[String]) {
    let mut expected = written.iter();
    for line in got {
        assert!(
            expected.any(|w| w == line),
            "{line:?} out of order or unknown"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_arrives_once_in_order_across_rotation_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let mut web = Container::new(&d.pods, "default_web-1_11111111-aaaa", "app");
    let mut dns = Container::new(&d.pods, "kube-system_dns-2_22222222-bbbb", "dns");
    web.write(50);
    dns.write(30);
    let receiver = Receiver::loki().await;
    let server = agent(&d, &receiver).await;

    web.write(40);
    dns.write(40);
    tokio::time::sleep(Duration::from_millis(300)).await;
    web.rotate("20240101-000001");
    web.write(60);
    dns.write(10);
    wait_all(&receiver, &[&web, &dns], &server).await;

    let (got, label_sets) = received(&receiver);
    for c in [&web, &dns] {
        for s in ["stdout", "stderr"] {
            assert_eq!(
                got[&c.key(s)],
                c.expected(s),
                "{} {s}: every line once, in order",
                c.name
            );
        }
    }
    for labels in &label_sets {
        assert_eq!(label(labels, "node"), "test-node");
        let stream = label(labels, "stream");
        assert!(stream == "stdout" || stream == "stderr", "{labels}");
        match label(labels, "container").as_str() {
            "app" => assert!(
                labels.contains("namespace=\"default\"") && labels.contains("pod=\"web-1\""),
                "{labels}"
            ),
            "dns" => assert!(
                labels.contains("namespace=\"kube-system\"") && labels.contains("pod=\"dns-2\""),
                "{labels}"
            ),
            other => panic!("unexpected container {other}"),
        }
    }
    // The receiver records a push before the agent reads its answer: wait a little.
    let metrics = wait_metric(
        &server,
        "nodepulse_log_sent_events_total{sink=\"loki\"} 230",
    )
    .await;
    assert!(metrics.contains("nodepulse_log_files_watched"), "{metrics}");

    // A clean stop persists the checkpoints; lines written while down arrive after the
    // restart, and what was acknowledged is not sent again (at most one batch per file).
    let mut server = server;
    server.terminate();
    assert!(
        server.wait_exit(Duration::from_secs(20)).is_some(),
        "agent did not stop"
    );
    let before = received(&receiver).0;
    web.write(25);
    dns.write(25);
    let server = agent(&d, &receiver).await;
    wait_all(&receiver, &[&web, &dns], &server).await;
    let after = received(&receiver).0;
    for c in [&web, &dns] {
        for s in ["stdout", "stderr"] {
            let (old, new) = (&before[&c.key(s)], &after[&c.key(s)]);
            let again = &new[old.len()..];
            let resent = again.iter().filter(|l| old.contains(l)).count();
            assert!(
                resent <= BATCH_EVENTS,
                "{} {s}: {resent} lines sent again",
                c.name
            );
            assert_eq!(
                resent, 0,
                "{} {s}: a clean stop persisted every acked line",
                c.name
            );
            assert_in_order(again, &c.expected(s));
        }
    }
    drop(server);
}
