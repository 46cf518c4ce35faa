//! The agent holds state per container log stream only while the stream exists: pods
//! deleted and containers restarted (kubelet's `N+1.log`, the oldest dead instance's
//! log removed by its container GC) take their streams off `nodepulse_log_streams`
//! once every line of them was read, and a partial line a stream still holds when it
//! ends is shipped marked incomplete and counted, never lost.

mod common;

use common::logs::{agent, assert_complete_in_order, metric, wait_all, Container, Dirs};
use common::receivers::Receiver;
use common::Server;
use nodepulse::agent::sinks::loki::proto::EntryAdapter;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine, a debug build, discovery's rescan.
const TIMEOUT: Duration = Duration::from_secs(60);
const STREAMS: &str = "nodepulse_log_streams";

/// Waits (bounded) until the metric `name` reads `want`.
async fn wait_metric(server: &Server, name: &str, want: f64) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = metric(server, name).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is {got}, not {want}, after {TIMEOUT:?}; agent log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Container `c` of pod `p` (in its own pod directory).
fn container(d: &Dirs, p: usize, c: usize) -> Container {
    Container::new(&d.pods, &pod_dir(p), leak(format!("p{p}c{c}")))
}

fn pod_dir(p: usize) -> String {
    format!("default_pod-{p}_0000000{p}-uid")
}

/// Kubelet restarts the container: its next instance writes `<N+1>.log` beside the old.
fn restart(c: &mut Container, n: u32) {
    c.file = c.file.with_file_name(format!("{n}.log"));
    File::create(&c.file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pods_and_restarted_containers_leave_no_stream_state_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let mut churned: Vec<Container> = (0..6)
        .flat_map(|p| (0..3).map(move |c| (p, c)))
        .map(|(p, c)| container(&d, p, c))
        .collect();
    let mut kept = container(&d, 9, 0);
    let receiver = Receiver::loki().await;
    let server = agent(&d, &receiver, &["--logs.partial-flush-timeout=1h"]).await;
    for c in churned.iter_mut().chain([&mut kept]) {
        c.write(20, 60);
    }
    let all: Vec<&Container> = churned.iter().chain([&kept]).collect();
    wait_all(&receiver, &all, &server, TIMEOUT).await;
    wait_metric(&server, STREAMS, 19.0).await;

    // The kept container restarts twice; its oldest dead instance's log is collected.
    let first = kept.file.clone();
    for n in 1..=2 {
        restart(&mut kept, n);
        kept.write(10, 60);
    }
    fs::remove_file(first).unwrap();
    // Pods deleted with lines still unread: they are read before the streams go.
    for c in churned.iter_mut() {
        c.write(5, 60);
    }
    for p in 0..6 {
        fs::remove_dir_all(d.pods.join(pod_dir(p))).unwrap();
    }
    wait_metric(&server, STREAMS, 2.0).await; // 1.log and 2.log of the kept container
    let all: Vec<&Container> = churned.iter().chain([&kept]).collect();
    wait_all(&receiver, &all, &server, TIMEOUT).await;
    assert_complete_in_order(&receiver, &all);
    let incomplete = "nodepulse_log_incomplete_messages_total{reason=\"file_end\"}";
    assert_eq!(metric(&server, incomplete).await, 0.0, "no partial was cut");
}

/// Lines acknowledged that are marked `incomplete="true"`.
fn incomplete_lines(receiver: &Receiver) -> Vec<String> {
    let pushes = receiver
        .script
        .received()
        .into_iter()
        .filter_map(|r| r.push);
    let entries = pushes.flat_map(|p| p.streams).flat_map(|s| s.entries);
    let marked = |e: &EntryAdapter| {
        let mut meta = e.structured_metadata.iter();
        meta.any(|m| m.name == "incomplete" && m.value == "true")
    };
    entries.filter(marked).map(|e| e.line).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A partial line held by a container removed while its stream was parked
/// (`--logs.max-open-files`: no file open, so no end-of-file mark) is shipped
/// incomplete and counted when its stream ends, long before the flush timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_held_when_its_container_goes_arrives_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let mut others: Vec<Container> = (1..6).map(|p| container(&d, p, 0)).collect();
    let mut cut = container(&d, 0, 0);
    cut.write(3, 60);
    append(&cut.file, "2024-01-01T00:01:00Z stdout P left open \n");
    let receiver = Receiver::loki().await;
    let extra = ["--logs.partial-flush-timeout=1h", "--logs.max-open-files=1"];
    let server = agent(&d, &receiver, &extra).await;
    for c in others.iter_mut() {
        c.write(3, 60);
    }
    let all: Vec<&Container> = others.iter().chain([&cut]).collect();
    wait_all(&receiver, &all, &server, TIMEOUT).await;
    // Every raw line read, the held piece too (the pieces of split lines count).
    let raw_lines = 6.0 * 3.0 + 1.0;
    let deadline = Instant::now() + TIMEOUT;
    while metric(&server, "nodepulse_log_read_lines_total").await < raw_lines {
        assert!(Instant::now() < deadline, "{}", server.log_tail(40));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fs::remove_dir_all(d.pods.join(pod_dir(0))).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while incomplete_lines(&receiver).is_empty() {
        assert!(Instant::now() < deadline, "{}", server.log_tail(40));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(incomplete_lines(&receiver), ["left open "]);
    let flushed = "nodepulse_log_incomplete_messages_total{reason=\"file_end\"}";
    assert_eq!(metric(&server, flushed).await, 1.0);
    wait_metric(&server, STREAMS, 5.0).await;
}
