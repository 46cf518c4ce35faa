//! Shared by the integration tests and the side-by-side benchmark: child processes bound
//! to free loopback ports that die with their guard (the agent, node_exporter,
//! Prometheus), the peer binaries' lookup, raw HTTP GETs, and body parsing; the sinks'
//! stand-in receivers ([`receivers`]) and a recording retry sleeper ([`sleeper`]); for
//! the model-based log test, a kubelet log tree with a model of what was written
//! ([`kubelet`]), deliveries checked against it ([`delivered`]) and a seeded generator
//! ([`rng`]); a fake Kubernetes API server ([`fake_api`]) serving real-shaped pods
//! ([`pods`]); the metric names nodepulse exposes ([`exposed`]); `kubectl kustomize`
//! renders ([`kustomize`]); a scrape target that can be killed ([`killable`]);
//! certificates made by openssl ([`certs`]).
#![allow(dead_code)] // each test file uses its own subset

pub mod certs;
pub mod cri;
pub mod delivered;
pub mod exposed;
pub mod fake_api;
pub mod killable;
pub mod kube_cache;
pub mod kubelet;
pub mod kustomize;
pub mod logs;
pub mod pods;
pub mod promtool;
pub mod receivers;
pub mod rng;
pub mod scrape_target;
pub mod sleeper;

use nodepulse::exposition::parse::{parse, Parsed};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tempfile::NamedTempFile;

/// The agent binary cargo built for this test or bench.
pub const AGENT: &str = env!("CARGO_BIN_EXE_nodepulse-agent");

/// The `Accept` header Prometheus 2.42 scrapes with (it prefers OpenMetrics).
pub const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
     application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Flags that make node_exporter 1.5 and the agent collect the same things. Debian's
/// build changed these two defaults; the values are upstream's, which are the agent's.
/// The agent takes the same flag names.
pub const EQUIVALENT_FLAGS: [&str; 2] = [
    "--collector.netdev.device-exclude=",
    "--collector.filesystem.mount-points-exclude=\
     ^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
];

/// How long a child may take to answer its readiness URL on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// `/usr/bin/<name>`, or `None` (after saying what to install) when it is missing. Under
/// `CI=true` a missing peer is a failure, not a skip.
pub fn peer(name: &str) -> Option<PathBuf> {
    let path = Path::new("/usr/bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    let package = match name {
        "prometheus-node-exporter" => "prometheus-node-exporter",
        "prometheus-alertmanager" => "prometheus-alertmanager",
        _ => "prometheus",
    };
    let msg = format!(
        "{} is missing: install it: apt-get install {package}",
        path.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
    None
}

/// A running child process serving HTTP on a loopback port; killed on drop.
pub struct Server {
    pub name: String,
    pub port: u16,
    child: Child,
    log: NamedTempFile,
}

impl Server {
    /// Starts `program args --web.listen-address=127.0.0.1:<free port>` and waits until
    /// `ready_path` answers 200. Retries on another port if the child exits early (a
    /// port taken between our probe and its bind); panics with its log otherwise.
    pub fn start(program: &Path, args: &[&str], ready_path: &str) -> Server {
        Server::start_answering(program, args, ready_path, 200)
    }

    /// As [`Server::start`], ready once `ready_path` answers a plain request with
    /// `status`: 400 for a server that serves only TLS (Go's answer to plain HTTP).
    pub fn start_answering(program: &Path, args: &[&str], ready_path: &str, status: u16) -> Server {
        let name = program.file_name().map_or_else(
            || program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut last_log = String::new();
        for _ in 0..3 {
            match Server::start_port(program, args, (ready_path, status), free_port()) {
                Ok(server) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("{name} exited before it was ready; its log:\n{last_log}");
    }

    /// Starts `program args --web.listen-address=127.0.0.1:<port>` and waits until
    /// `ready_path` answers 200; `Err` with its log if the child exits first (the port
    /// was taken, say). For peers that must know each other's ports before starting.
    pub fn start_on(
        program: &Path,
        args: &[&str],
        ready_path: &str,
        port: u16,
    ) -> Result<Server, String> {
        Server::start_port(program, args, (ready_path, 200), port)
    }

    fn start_port(
        program: &Path,
        args: &[&str],
        (ready_path, status): (&str, u16),
        port: u16,
    ) -> Result<Server, String> {
        let name = program.file_name().map_or_else(
            || program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let log = NamedTempFile::new().expect("creating a log file");
        let child = Command::new(program)
            .args(args)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("reopening the log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut server = Server {
            name,
            port,
            child,
            log,
        };
        if server.wait_ready(ready_path, status) {
            Ok(server)
        } else {
            Err(server.log())
        }
    }

    /// Polls `ready_path` until it answers `status` (true) or the child exits (false).
    fn wait_ready(&mut self, ready_path: &str, status: u16) -> bool {
        let http = Http::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if http.status(&self.url(ready_path)) == Some(status) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{} did not answer {ready_path} within {READY_TIMEOUT:?}; its log:\n{}",
            self.name,
            self.log()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the child wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The last `n` lines of the child's stderr.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Sends SIGTERM (through kill(1): the crate has no signal-sending dependency).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits up to `timeout` for the child to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_bounded(&mut self.child, timeout)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the agent with `args` on a free loopback port.
pub fn spawn_agent(args: &[&str]) -> Server {
    Server::start(Path::new(AGENT), args, "/readyz")
}

/// Runs the agent with `args`, expecting it to refuse to start: returns its exit status
/// and stderr. Panics if it is still running after `timeout`.
pub fn agent_start_failure(args: &[&str], timeout: Duration) -> (ExitStatus, String) {
    agent_start_failure_with_env(args, &[], timeout)
}

/// [`agent_start_failure`] with environment variables set for the agent.
pub fn agent_start_failure_with_env(
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> (ExitStatus, String) {
    let log = NamedTempFile::new().expect("creating a log file");
    let mut child = Command::new(AGENT)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("reopening the log file"))
        .spawn()
        .expect("starting the agent");
    let status = wait_bounded(&mut child, timeout);
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = File::open(log.path()).and_then(|mut f| f.read_to_string(&mut stderr));
    let status = status
        .unwrap_or_else(|| panic!("agent {args:?} still running after {timeout:?}: {stderr}"));
    (status, stderr)
}

fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw HTTP response: the body is as sent (still gzip-compressed if it was).
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text, gunzipped when `Content-Encoding: gzip`.
    pub fn text(&self) -> String {
        let mut bytes = Vec::new();
        if self.header("content-encoding") == Some("gzip") {
            flate2::read::GzDecoder::new(&self.body[..])
                .read_to_end(&mut bytes)
                .expect("gunzipping the body");
        } else {
            bytes.clone_from(&self.body);
        }
        String::from_utf8(bytes).expect("body is UTF-8")
    }
}

/// A keep-alive HTTP client that sends only the headers it is given (no automatic
/// `Accept-Encoding`, no transparent decompression).
pub struct Http(reqwest::blocking::Client);

impl Http {
    pub fn new() -> Http {
        let client = reqwest::blocking::Client::builder()
            .no_gzip()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("building an HTTP client");
        Http(client)
    }

    /// A client of the caller's making (a private CA, basic auth by header).
    pub fn with(client: reqwest::blocking::Client) -> Http {
        Http(client)
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self.0.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let body = resp.bytes().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        Response {
            status,
            headers,
            body: body.to_vec(),
        }
    }

    /// The status of a GET, or `None` when nothing answers (yet).
    fn status(&self, url: &str) -> Option<u16> {
        let resp = self
            .0
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .ok()?;
        Some(resp.status().as_u16())
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

/// One GET with a fresh client.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    Http::new().get(url, headers)
}

/// Parses a scrape body with the crate's own parser; panics with the line on error.
pub fn parse_body(body: &str) -> Parsed {
    parse(body).unwrap_or_else(|e| panic!("unparsable body: {e}\n{body}"))
}

/// The family a sample belongs to: its own name, or for OpenMetrics counters (and
/// summaries/histograms) the name without the sample suffix.
pub fn family_of<'a>(sample: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(sample) {
        return Some(sample);
    }
    ["_total", "_created", "_sum", "_count", "_bucket"]
        .iter()
        .filter_map(|s| sample.strip_suffix(s))
        .find(|base| types.contains_key(*base))
}
