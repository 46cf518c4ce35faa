//! Helpers for end-to-end log tests that move many MiB: containers writing numbered CRI
//! lines of a set length, what a Loki receiver got as line numbers per (container,
//! stream), `/metrics` values, checkpoint offsets, and the agent's memory from
//! `/proc/<pid>/status`.

use super::receivers::Receiver;
use super::{get, spawn_agent, Server};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The agent's directories, under one temp dir the caller keeps.
pub struct Dirs {
    pub pods: PathBuf,
    pub containers: PathBuf,
    pub data: PathBuf,
}

impl Dirs {
    pub fn under(tmp: &Path) -> Dirs {
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
}

/// Starts the agent shipping `d` to `receiver`, with `extra` flags (on the blocking
/// pool: it waits for readiness).
pub async fn agent(d: &Dirs, receiver: &Receiver, extra: &[&str]) -> Server {
    let mut args = vec![
        format!("--sink.loki.url={}/loki/api/v1/push", receiver.url()),
        format!("--logs.pods-dir={}", d.pods.display()),
        format!("--logs.containers-dir={}", d.containers.display()),
        format!("--data-dir={}", d.data.display()),
        "--kube.api=off".to_string(),
        "--node-name=test-node".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn_agent(&args)
    })
    .await
    .unwrap()
}

/// One container writing `<name> line <8-digit number> xxx…` to `0.log`: even numbers
/// on stdout, odd on stderr, now and then split in P/F pieces.
pub struct Container {
    pub name: &'static str,
    pub file: PathBuf,
    pub lines: u64,
    /// Bytes written to the file.
    pub bytes: u64,
}

impl Container {
    pub fn new(pods: &Path, pod_dir: &str, name: &'static str) -> Container {
        let dir = pods.join(pod_dir).join(name);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("0.log");
        File::create(&file).unwrap();
        Container {
            name,
            file,
            lines: 0,
            bytes: 0,
        }
    }

    /// Appends `n` lines whose messages are `msg_len` bytes long.
    pub fn write(&mut self, n: u64, msg_len: usize) {
        let mut out = String::new();
        for i in self.lines..self.lines + n {
            let mut msg = format!("{} line {i:08} ", self.name);
            msg.extend(std::iter::repeat_n('x', msg_len.saturating_sub(msg.len())));
            let stream = if i % 2 == 0 { "stdout" } else { "stderr" };
            let ts = format!("2024-01-01T00:00:{:02}.{:09}Z", i % 60, i % 1_000_000_000);
            if i % 97 == 3 {
                let (a, b) = msg.split_at(msg.len() / 2);
                out.push_str(&format!("{ts} {stream} P {a}\n{ts} {stream} F {b}\n"));
            } else {
                out.push_str(&format!("{ts} {stream} F {msg}\n"));
            }
        }
        let mut f = OpenOptions::new().append(true).open(&self.file).unwrap();
        f.write_all(out.as_bytes()).unwrap();
        self.lines += n;
        self.bytes += out.len() as u64;
    }

    pub fn key(&self, stream: &str) -> (String, String) {
        (self.name.to_string(), stream.to_string())
    }

    /// The numbers of the lines written to `stream`, in order.
    pub fn expected(&self, stream: &str) -> Vec<u64> {
        let parity = u64::from(stream == "stderr");
        (0..self.lines).filter(|i| i % 2 == parity).collect()
    }
}

/// Line numbers the receiver acknowledged (2xx), per (container, stream), in arrival
/// order, repeats included.
pub fn received(receiver: &Receiver) -> BTreeMap<(String, String), Vec<u64>> {
    let mut got: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for r in receiver.script.received() {
        if !(200..300).contains(&r.status) {
            continue;
        }
        for stream in r.push.expect("protobuf push").streams {
            let key = (
                label(&stream.labels, "container"),
                label(&stream.labels, "stream"),
            );
            let numbers = got.entry(key).or_default();
            numbers.extend(stream.entries.iter().map(|e| line_number(&e.line)));
        }
    }
    got
}

fn line_number(line: &str) -> u64 {
    let field = line.split(' ').nth(2);
    field
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered test line: {line:.80}"))
}

fn label(labels: &str, name: &str) -> String {
    let start = labels.find(&format!("{name}=\"")).expect("label present") + name.len() + 2;
    labels[start..].split('"').next().unwrap().to_string()
}

/// Whether every line written has arrived at least once.
pub fn all_arrived(receiver: &Receiver, containers: &[&Container]) -> bool {
    let got = received(receiver);
    containers.iter().all(|c| {
        ["stdout", "stderr"].iter().all(|s| {
            let have: std::collections::HashSet<u64> =
                got.get(&c.key(s)).into_iter().flatten().copied().collect();
            c.expected(s).iter().all(|n| have.contains(n))
        })
    })
}

/// Waits (bounded) until every line written has arrived.
pub async fn wait_all(
    receiver: &Receiver,
    containers: &[&Container],
    server: &Server,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    while !all_arrived(receiver, containers) {
        assert!(
            Instant::now() < deadline,
            "lines missing after {timeout:?}; agent log:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Nothing lost and, counting first arrivals only, nothing out of order per (container,
/// stream); returns how many repeats each (container, stream) had.
pub fn assert_complete_in_order(receiver: &Receiver, containers: &[&Container]) -> Vec<usize> {
    let got = received(receiver);
    let mut repeats = Vec::new();
    for c in containers {
        for s in ["stdout", "stderr"] {
            let all = got.get(&c.key(s)).cloned().unwrap_or_default();
            let mut seen = std::collections::HashSet::new();
            let firsts: Vec<u64> = all.iter().copied().filter(|n| seen.insert(*n)).collect();
            let expected = c.expected(s);
            if firsts != expected {
                let at = firsts.iter().zip(&expected).position(|(a, b)| a != b);
                panic!(
                    "{} {s}: {} lines of {} first arrived, first difference at {at:?}",
                    c.name,
                    firsts.len(),
                    expected.len()
                );
            }
            repeats.push(all.len() - firsts.len());
        }
    }
    repeats
}

/// The value of an unlabelled sample on `/metrics` (0 when absent).
pub async fn metric(server: &Server, name: &str) -> f64 {
    let url = server.url("/metrics");
    let body = tokio::task::spawn_blocking(move || get(&url, &[]).text())
        .await
        .unwrap();
    let prefix = format!("{name} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// The checkpoint offsets in `<data>/checkpoints.json`, by file path.
pub fn checkpoints(d: &Dirs) -> BTreeMap<String, u64> {
    let Ok(bytes) = fs::read(d.data.join("checkpoints.json")) else {
        return BTreeMap::new();
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let files = json["files"].as_array().cloned().unwrap_or_default();
    files
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            (path, f["offset"].as_u64().unwrap())
        })
        .collect()
}

/// A field of `/proc/<pid>/status` in KiB (VmRSS, VmHWM).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} not in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Samples a process's VmRSS every 50 ms on a thread and keeps the highest.
pub struct RssSampler {
    max_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let max_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let (max_kib, stop) = (max_kib.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    max_kib.fetch_max(status_kib(pid, "VmRSS"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
        RssSampler {
            max_kib,
            stop,
            thread: Some(thread),
        }
    }

    /// The highest VmRSS seen so far.
    pub fn max_kib(&self) -> u64 {
        self.max_kib.load(Ordering::Relaxed)
    }

    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.max_kib()
    }
}
