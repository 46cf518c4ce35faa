//! The robustness settings through the agent binary: a partial (P) line never completed
//! arrives marked incomplete (after `--logs.partial-flush-timeout`, or at once when its
//! file ends for good); more containers than `--logs.max-open-files` are all read, in
//! turn, in order; a cri-dockerd live file (a symlink to Docker's json-file log) is
//! read through, and Docker's rotation of it loses no line, the agent running or not;
//! and every `nodepulse_log_*` family passes `promtool check metrics`.

mod common;

use common::cri::{Container, Dirs};
use common::logs::metric;
use common::promtool::check_metrics;
use common::receivers::Receiver;
use common::{get, peer, spawn_agent, Server};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(60);

async fn agent(d: &Dirs, sinks: Vec<String>, extra: &[&str]) -> Server {
    let mut args = sinks;
    args.extend(d.args());
    args.extend(["--kube.api=off", "--node-name=test-node"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_agent(&args)
    })
    .await
    .unwrap()
}

fn loki(receiver: &Receiver) -> Vec<String> {
    vec![format!(
        "--sink.loki.url={}/loki/api/v1/push",
        receiver.url()
    )]
}

/// (container, line, incomplete) of every entry acknowledged, in arrival order.
fn arrived(receiver: &Receiver) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for r in receiver.script.received() {
        for stream in r.push.into_iter().flat_map(|p| p.streams) {
            let start = stream.labels.find("container=\"").unwrap() + 11;
            let container = stream.labels[start..].split('"').next().unwrap().to_owned();
            for e in stream.entries {
                let incomplete = e
                    .structured_metadata
                    .iter()
                    .any(|m| m.name == "incomplete" && m.value == "true");
                out.push((container.clone(), e.line, incomplete));
            }
        }
    }
    out
}

async fn wait_for(what: &str, server: &Server, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} not seen in {ARRIVAL_TIMEOUT:?}; agent log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Appends raw text to a container's live file.
fn append(d: &Dirs, pod: &str, container: &str, text: &str) {
    let path = d.pods.join(pod).join(container).join("0.log");
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_line_never_completed_arrives_marked_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let pod = ("default", "web-1", "11111111-aaaa");
    let mut app = Container::new(&d.pods, pod, "app");
    app.write(4);
    let receiver = Receiver::loki().await;
    let server = agent(&d, loki(&receiver), &["--logs.partial-flush-timeout=300ms"]).await;
    let pod_dir = "default_web-1_11111111-aaaa";
    append(
        &d,
        pod_dir,
        "app",
        "2024-01-01T00:00:10Z stdout P cut short \n",
    );
    append(
        &d,
        pod_dir,
        "app",
        "2024-01-01T00:00:11Z stderr F stderr goes on\n",
    );
    let want = ("app".to_owned(), "cut short ".to_owned(), true);
    wait_for("the incomplete line", &server, || {
        arrived(&receiver).contains(&want)
    })
    .await;
    let got = arrived(&receiver);
    assert!(
        got.contains(&("app".into(), "stderr goes on".into(), false)),
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|(_, _, inc)| *inc).count(), 1, "{got:?}");
    let flushed = "nodepulse_log_incomplete_messages_total{reason=\"timeout\"}";
    assert_eq!(metric(&server, flushed).await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_line_at_the_end_of_a_rotated_file_is_flushed_when_it_is_drained() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let pod = ("default", "web-1", "11111111-aaaa");
    let _app = Container::new(&d.pods, pod, "app");
    let receiver = Receiver::loki().await;
    // A timeout far away: only the end of the file can flush it.
    let server = agent(&d, loki(&receiver), &["--logs.partial-flush-timeout=1h"]).await;
    let pod_dir = "default_web-1_11111111-aaaa";
    append(
        &d,
        pod_dir,
        "app",
        "2024-01-01T00:00:10Z stdout P left open \n",
    );
    // The agent reads the open piece from the live file before it is rotated (a fixed
    // 500 ms once lost that race under CI's load: the file was then found only as a
    // rotated one).
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    while metric(&server, "nodepulse_log_read_lines_total").await < 1.0 {
        assert!(Instant::now() < deadline, "the open piece was never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = d.pods.join(pod_dir).join("app");
    fs::rename(dir.join("0.log"), dir.join("0.log.20240101-000001")).unwrap();
    File::create(dir.join("0.log")).unwrap();
    append(
        &d,
        pod_dir,
        "app",
        "2024-01-01T00:00:12Z stdout F a new line\n",
    );
    let want = ("app".to_owned(), "a new line".to_owned(), false);
    wait_for("the new file's line", &server, || {
        arrived(&receiver).contains(&want)
    })
    .await;
    let got = arrived(&receiver);
    let flushed = ("app".to_owned(), "left open ".to_owned(), true);
    assert_eq!(
        got,
        [flushed, want],
        "flushed alone, before the next file's line"
    );
    let name = "nodepulse_log_incomplete_messages_total{reason=\"file_end\"}";
    assert_eq!(metric(&server, name).await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_containers_than_max_open_files_are_all_read_in_turn() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let names = ["a", "b", "c", "d", "e"];
    let mut cs: Vec<Container> = names
        .iter()
        .map(|n| Container::new(&d.pods, ("default", "pod-0", "00000000-aaaa"), n))
        .collect();
    for c in &mut cs {
        c.write(30);
    }
    let receiver = Receiver::loki().await;
    let server = agent(&d, loki(&receiver), &["--logs.max-open-files=2"]).await;
    let mut most_open = 0.0f64;
    for _ in 0..10 {
        for c in &mut cs {
            c.write(5);
        }
        most_open = most_open.max(metric(&server, "nodepulse_log_files_watched").await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total: usize = cs.iter().map(|c| c.written.len()).sum();
    wait_for("every line", &server, || arrived(&receiver).len() >= total).await;
    let got = arrived(&receiver);
    for c in &cs {
        for s in ["stdout", "stderr"] {
            let lines: Vec<String> = got
                .iter()
                .filter(|(name, l, _)| name == c.name && c.find(l).is_some_and(|w| w.stream == s))
                .map(|(_, l, _)| l.clone())
                .collect();
            assert_eq!(
                lines,
                c.expected(s),
                "{} {s}: every line once, in order",
                c.name
            );
        }
    }
    assert_eq!(got.len(), total, "nothing else, nothing twice");
    assert!(most_open <= 2.0, "at most 2 files open, saw {most_open}");
    assert!(metric(&server, "nodepulse_log_stream_parks_total").await >= 3.0);
}

/// Every `nodepulse_log_*` family the agent can show (both sinks, the spool) passes
/// `promtool check metrics` with no finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_family_passes_promtool() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut app = Container::new(&d.pods, ("default", "web-1", "11111111-aaaa"), "app");
    app.write(10);
    let (lk, es) = (Receiver::loki().await, Receiver::elasticsearch().await);
    let sinks = vec![
        format!("--sink.loki.url={}/loki/api/v1/push", lk.url()),
        format!("--sink.elasticsearch.url={}", es.url()),
    ];
    let server = agent(&d, sinks, &["--logs.spool.max-bytes=64MiB"]).await;
    wait_for("the lines", &server, || arrived(&lk).len() >= 10).await;
    let url = server.url("/metrics");
    let body = tokio::task::spawn_blocking(move || get(&url, &[]).text())
        .await
        .unwrap();
    let ours: String = body
        .lines()
        .filter(|l| {
            let name = l
                .trim_start_matches("# HELP ")
                .trim_start_matches("# TYPE ");
            name.starts_with("nodepulse_log_")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    for family in [
        "nodepulse_log_oldest_unacked_age_seconds",
        "nodepulse_log_incomplete_messages_total",
        "nodepulse_log_streams_parked",
        "nodepulse_log_streams",
        "nodepulse_log_checkpoint_late_acks_total",
        "nodepulse_log_spool_bytes",
        "nodepulse_log_sink_split_requests_total",
    ] {
        assert!(
            ours.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{ours}"
        );
    }
    let lint = check_metrics(&promtool, &ours);
    assert_eq!(lint.parse_error, None, "{ours}");
    assert!(lint.findings.is_empty(), "{:#?}", lint.findings);
}

/// `nodepulse_log_oldest_unacked_age_seconds`: 0 when all is delivered, growing while
/// the sink is down, back to 0 once it is up and has taken everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_unacked_age_grows_while_the_sink_is_down_and_returns_to_zero() {
    const AGE: &str = "nodepulse_log_oldest_unacked_age_seconds";
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::new(tmp.path());
    let mut app = Container::new(&d.pods, ("default", "web-1", "11111111-aaaa"), "app");
    app.write(5);
    let mut receiver = Receiver::loki().await;
    let server = agent(&d, loki(&receiver), &[]).await;
    wait_for("the first lines", &server, || arrived(&receiver).len() >= 5).await;
    assert_eq!(metric(&server, AGE).await, 0.0, "nothing pending");
    receiver.stop().await;
    app.write(5);
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    while metric(&server, AGE).await < 1.0 {
        assert!(Instant::now() < deadline, "the age did not grow");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    receiver.restart().await;
    wait_for("the lines after the outage", &server, || {
        arrived(&receiver).len() >= 10
    })
    .await;
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    while metric(&server, AGE).await != 0.0 {
        assert!(Instant::now() < deadline, "the age did not return to 0");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Under cri-dockerd the kubelet's `<pod>/<container>/0.log` is a symlink to Docker's
/// json-file log in its own directory (which the DaemonSet mounts at the same path):
/// the agent reads through it, lines written before and after it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cri_dockerd_symlink_to_a_docker_json_file_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, json) = dockerd_pod(tmp.path());
    fs::write(&json, docker_line("before the agent", 1)).unwrap();
    let receiver = Receiver::loki().await;
    let server = agent(&d, loki(&receiver), &[]).await;
    let first = ("app".to_owned(), "before the agent".to_owned(), false);
    wait_for("the line written before", &server, || {
        arrived(&receiver).contains(&first)
    })
    .await;
    append_to(&json, &docker_line("after it started", 2));
    let second = ("app".to_owned(), "after it started".to_owned(), false);
    wait_for("the line written after", &server, || {
        arrived(&receiver).contains(&second)
    })
    .await;
    assert_eq!(arrived(&receiver), vec![first, second]);
}

/// Docker's json-file driver rotates by renaming `<id>-json.log` to `<id>-json.log.1`
/// and starting a new `<id>-json.log`; the kubelet's symlink keeps naming the live
/// path. A line written to the old file just before the rename, and lines in the new
/// one, all arrive, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cri_dockerd_log_rotated_by_docker_loses_no_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, json, receiver, server) = dockerd_agent_shipping(tmp.path(), "one").await;
    append_to(&json, &docker_line("two, just before the rotation", 2));
    fs::rename(&json, rotated(&json, 1)).unwrap();
    fs::write(&json, docker_line("three, in the new file", 3)).unwrap();
    append_to(&json, &docker_line("four", 4));
    wait_for("every line", &server, || texts(&receiver).len() >= 4).await;
    assert_eq!(
        texts(&receiver),
        [
            "one",
            "two, just before the rotation",
            "three, in the new file",
            "four"
        ]
    );
}

/// A pod's live log under cri-dockerd: the kubelet's `0.log` a symlink to Docker's
/// json-file log (in a directory of its own under `tmp`). The dirs and the Docker file.
fn dockerd_pod(tmp: &std::path::Path) -> (Dirs, std::path::PathBuf) {
    let d = Dirs::new(tmp);
    let docker = tmp.join("docker/containers/0a1b2c");
    fs::create_dir_all(&docker).unwrap();
    let json = docker.join("0a1b2c-json.log");
    let dir = d.pods.join("default_docker-1_22222222-bbbb/app");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&json, dir.join("0.log")).unwrap();
    (d, json)
}

/// A cri-dockerd pod ([`dockerd_pod`]) whose log holds `first`, and an agent shipping it
/// to a Loki receiver, once that line has arrived.
async fn dockerd_agent_shipping(
    tmp: &std::path::Path,
    first: &str,
) -> (Dirs, std::path::PathBuf, Receiver, Server) {
    let (d, json) = dockerd_pod(tmp);
    fs::write(&json, docker_line(first, 1)).unwrap();
    let receiver = Receiver::loki().await;
    let server = agent(&d, loki(&receiver), &[]).await;
    wait_for("the first line", &server, || texts(&receiver).len() == 1).await;
    (d, json, receiver, server)
}

/// The lines acknowledged, in arrival order.
fn texts(receiver: &Receiver) -> Vec<String> {
    arrived(receiver).into_iter().map(|a| a.1).collect()
}

/// Docker's name for the `k`th rotated file of `json`: `<id>-json.log.<k>`.
fn rotated(json: &std::path::Path, k: u32) -> std::path::PathBuf {
    let mut p = json.to_owned().into_os_string();
    p.push(format!(".{k}"));
    p.into()
}

/// One line as Docker's json-file driver writes it.
fn docker_line(text: &str, second: u32) -> String {
    format!("{{\"log\":\"{text}\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:{second:02}.000000000Z\"}}\n")
}

fn append_to(path: &std::path::Path, text: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The agent down while Docker rotates twice: a line written to the old file before the
/// first rename is read from `<id>-json.log.2` (found beside the symlink's target, where
/// the checkpoint's file now is), then `.1` from its start, then the new file, in order,
/// when the agent starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_rotations_while_the_agent_is_down_lose_no_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, json, receiver, mut server) = dockerd_agent_shipping(tmp.path(), "one").await;
    server.terminate();
    server
        .wait_exit(Duration::from_secs(30))
        .expect("the agent exits at SIGTERM");
    append_to(&json, &docker_line("two, while the agent was down", 2));
    fs::rename(&json, rotated(&json, 1)).unwrap();
    fs::write(&json, docker_line("three, between the rotations", 3)).unwrap();
    fs::rename(rotated(&json, 1), rotated(&json, 2)).unwrap();
    fs::rename(&json, rotated(&json, 1)).unwrap();
    fs::write(&json, docker_line("four, in the newest file", 4)).unwrap();
    let server = agent(&d, loki(&receiver), &[]).await;
    wait_for("every line", &server, || texts(&receiver).len() >= 4).await;
    assert_eq!(
        texts(&receiver),
        [
            "one",
            "two, while the agent was down",
            "three, between the rotations",
            "four, in the newest file"
        ]
    );
}
