//! The model-based rotation test at the pipeline level (issue 3): the real [`Pipeline`]
//! runs in process against a temp kubelet log tree (`<pods>/<ns>_<pod>_<uid>/<c>/N.log`
//! and the `<containers>` symlinks) and a local Loki receiver that decodes the real
//! snappy protobuf; random operations drawn from a seed — CRI writes (F lines, P…F
//! sequences, stdout and stderr interleaved, a message left unfinished across other
//! operations but finished before its file rotates), kubelet rename rotation (the runtime writing on to the renamed file),
//! copytruncate, gzip and deletion of rotated files, container restarts with kubelet's
//! GC, new pods, pod deletion, 503/429 answers, short sleeps — run against a model of
//! what was written (tests/common/kubelet.rs). Every message must be acknowledged once,
//! in order per (container instance, stream), with its labels, metadata and timestamp,
//! and nothing else (tests/common/delivered.rs).
//!
//! Loss that no agent can avoid is kept out of the sequences, as real kubelet timing
//! keeps it out, never by weakening the check: a file is unlinked (deleted, gzipped,
//! removed with its pod or by container GC) only once the agent has opened it — one
//! message written straight into it was acknowledged — or every message with a piece in
//! it was. Before that the test waits (bounded: an agent that never reads the file
//! fails the case). Copytruncate copies and truncates with nothing written in between
//! (what logrotate writes there is lost by design); the copy is then read by the agent
//! from where it had read the original, so copytruncate needs no other precaution. A
//! stopped container's unfinished message is finished before it stops.
//!
//! `NODEPULSE_MODEL_SEED=n` replays one case (every case prints its seed);
//! `NODEPULSE_MODEL_CASES=n` runs n cases (from the seed, if given; default 20).

mod common;

use common::delivered::Delivered;
use common::kubelet::Node;
use common::receivers::{Receiver, Reply};
use common::rng::Rng;
use nodepulse::agent::logs::buffer::BatchLimits;
use nodepulse::agent::logs::discover::DiscoverConfig;
use nodepulse::agent::logs::pipeline::{Pipeline, PipelineConfig, PipelineMetrics};
use nodepulse::agent::sinks::backoff::BackoffConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const NODE_NAME: &str = "model-node";
const DEFAULT_CASES: u64 = 20;
const STEPS: usize = 80;
/// The longest wait for the agent to read a file or deliver what was written: generous
/// for a loaded 2-core machine; only an agent that never gets there reaches it.
const WAIT: Duration = Duration::from_secs(60);

/// Per-case pipeline settings, drawn from the seed: small batches, buffers, budgets and
/// channels so that backpressure, partial reads and many requests are the common case.
#[derive(Debug)]
struct Settings {
    inotify: bool,
    batch_events: usize,
    buffer_bytes: usize,
    read_budget: usize,
    read_buf: usize,
    channel_polls: usize,
    /// kubelet's containerLogMaxFiles (the live file included).
    max_files: usize,
}

impl Settings {
    fn draw(rng: &mut Rng) -> Settings {
        Settings {
            inotify: rng.one_in(2),
            batch_events: rng.range(1, 8) as usize,
            buffer_bytes: rng.range(2, 64) as usize * 1024,
            read_budget: rng.pick(&[200, 1000, 8192, 1 << 20]),
            read_buf: rng.pick(&[64, 700, 4096, 65536]),
            channel_polls: rng.range(1, 3) as usize,
            max_files: rng.range(2, 5) as usize,
        }
    }
}

struct Case<'a> {
    seed: u64,
    rt: &'a Runtime,
    rng: Rng,
    settings: Settings,
    _tmp: tempfile::TempDir,
    data: std::path::PathBuf,
    node: Node,
    receiver: Receiver,
    delivered: Delivered,
    pipeline: Option<Pipeline>,
    /// The counters of each run of the agent (one per start).
    metrics: Vec<Arc<PipelineMetrics>>,
    trace: Vec<String>,
    /// The first request of the agent's current run.
    run_start: usize,
}

impl<'a> Case<'a> {
    fn new(seed: u64, rt: &'a Runtime) -> Case<'a> {
        let mut rng = Rng::new(seed);
        let settings = Settings::draw(&mut rng);
        let tmp = tempfile::tempdir().unwrap();
        let node = Node::new(tmp.path().join("pods"), tmp.path().join("containers"));
        let receiver = rt.block_on(Receiver::loki());
        Case {
            seed,
            rt,
            rng,
            settings,
            data: tmp.path().join("data"),
            _tmp: tmp,
            node,
            receiver,
            delivered: Delivered::new(NODE_NAME),
            pipeline: None,
            metrics: Vec::new(),
            trace: Vec::new(),
            run_start: 0,
        }
    }

    fn config(&self) -> PipelineConfig {
        let s = &self.settings;
        let discover =
            DiscoverConfig::new(self.node.pods.clone(), Some(self.node.containers.clone()));
        let url = format!("{}/loki/api/v1/push", self.receiver.url());
        let mut c = PipelineConfig::new(discover, self.data.clone(), NODE_NAME.into(), url);
        c.backoff = BackoffConfig {
            min: Duration::from_millis(5),
            max: Duration::from_millis(50),
            jitter_ratio: None,
            retry_after_cap: Duration::from_millis(100),
        };
        c.rescan_every = Duration::from_millis(100);
        c.use_inotify = s.inotify;
        c.read_budget_bytes = s.read_budget;
        c.idle = Duration::from_millis(5);
        c.channel_polls = s.channel_polls;
        c.partial_flush_timeout = Duration::from_secs(300);
        c.batch = BatchLimits {
            max_events: s.batch_events,
            max_bytes: 16 * 1024,
            max_age: Duration::from_millis(10),
        };
        c.buffer.max_memory_bytes = s.buffer_bytes;
        c.persist_every = Duration::from_millis(50);
        c.drain_timeout = WAIT;
        c.tail.max_hold = Duration::from_secs(600);
        c.tail.read_buf_bytes = s.read_buf;
        c
    }

    fn start_agent(&mut self) {
        self.delivered.ingest(&self.receiver, &self.node);
        self.run_start = self.delivered.requests_read();
        let _rt = self.rt.enter();
        let p = Pipeline::start(self.config()).expect("the pipeline starts");
        self.metrics.push(p.metrics());
        self.pipeline = Some(p);
    }

    fn stop_agent(&mut self) {
        if let Some(p) = self.pipeline.take() {
            self.rt.block_on(p.shutdown());
        }
    }

    fn log(&mut self, op: String) {
        self.trace.push(op);
    }

    fn run(&mut self) {
        eprintln!("logs_model: seed {} {:?}", self.seed, self.settings);
        self.start_agent();
        // Rotated files the agent finds at its first look, with no checkpoints, are
        // history from before its first start and not read (by design, StartAt): the
        // sequence begins once the agent has read a first message.
        self.node.new_pod(&mut self.rng);
        self.node.write(&mut self.rng, 0);
        self.node.finish_pending(0);
        self.wait_until("the first messages", |n, d| d.missing(n).is_empty());
        for _ in 0..STEPS {
            self.step();
        }
        for i in self.node.running() {
            self.node.finish_pending(i);
        }
        self.wait_until("every message acknowledged", |n, d| d.missing(n).is_empty());
        self.stop_agent();
        self.delivered.ingest(&self.receiver, &self.node);
        self.check();
        self.rt.block_on(self.receiver.stop());
    }

    fn step(&mut self) {
        let running = self.node.running();
        if running.is_empty() {
            self.log("new pod".into());
            return self.node.new_pod(&mut self.rng);
        }
        let i = self.rng.pick(&running);
        let name = self.node.name(i);
        match self.rng.below(100) {
            0..=39 => {
                self.log(format!("write {name}"));
                self.node.write(&mut self.rng, i);
            }
            40..=52 => {
                let ms = self.rng.range(0, 25);
                self.log(format!("sleep {ms} ms"));
                std::thread::sleep(Duration::from_millis(ms));
            }
            53..=62 => {
                self.log(format!("rotate {name}"));
                self.node.rotate(&mut self.rng, i);
                self.cleanup(i);
            }
            63..=68 => self.copytruncate(i),
            69..=73 => self.cleanup(i),
            74..=78 if running.len() < 6 => {
                self.log("new pod".into());
                self.node.new_pod(&mut self.rng);
            }
            79..=84 => self.restart_container(i),
            85..=88 => self.delete_pod(i),
            89..=92 => self.sink_hiccup(),
            93..=94 => self.restart_agent(),
            _ => {
                self.log(format!("write {name}"));
                self.node.write(&mut self.rng, i);
            }
        }
    }

    /// logrotate's copytruncate, once the agent has read the live file's first bytes
    /// (every message in it acknowledged, or one written into it acknowledged in the
    /// agent's current run, which has it open). Before that it cannot
    /// tell the truncated file, rewritten, from one it has not read yet: their new lines
    /// would be read before the copy's. Real timing gives this: logrotate truncates a
    /// file long after it was created.
    fn copytruncate(&mut self, i: usize) {
        let (live, name) = (self.node.instances[i].live, self.node.name(i));
        self.log(format!("copytruncate {name}"));
        self.node.finish_pending(i);
        let since = self.run_start;
        self.wait_until(&format!("the agent read the start of {name}"), |n, d| {
            let file = &n.files[live];
            let all = file.messages.iter().all(|&s| d.has(s));
            all || file.unique.iter().any(|&s| d.has_since(s, since))
        });
        self.node.copytruncate(i);
        self.cleanup(i);
    }

    /// kubelet's log cleanup after a rotation: old rotated files gzipped or deleted.
    fn cleanup(&mut self, i: usize) {
        let compress = self.rng.one_in(2);
        for (f, gzip) in self.node.cleanup_plan(i, self.settings.max_files, compress) {
            let what = if gzip { "gzip" } else { "delete" };
            self.unlink_when_safe(f, what, gzip);
        }
    }

    /// Unlinks a file once that cannot lose a message (see the module comment).
    fn unlink_when_safe(&mut self, f: usize, what: &str, gzip: bool) {
        let name = self.node.file_name(f);
        self.log(format!("{what} {name}"));
        self.node.finish_pending_in(f);
        self.wait_until_read(f);
        self.node.unlink(f, gzip);
    }

    /// Waits until unlinking `f` loses nothing: every message with a piece in it was
    /// acknowledged, or one written straight into it was by the agent's current run
    /// (which then has it open, and reads it to its end through the descriptor).
    fn wait_until_read(&mut self, f: usize) {
        let (name, since) = (self.node.file_name(f), self.run_start);
        self.wait_until(&format!("the agent read {name}"), |n, d| {
            let file = &n.files[f];
            file.messages.iter().all(|&s| d.has(s))
                || file.unique.iter().any(|&s| d.has_since(s, since))
        });
    }

    /// The container restarts (`N+1.log`); kubelet's GC removes instances older than
    /// the one just stopped.
    fn restart_container(&mut self, i: usize) {
        self.log(format!("restart {}", self.node.name(i)));
        let new = self.node.restart(i);
        for dead in self.node.gc_candidates(new) {
            self.log(format!("gc {}", self.node.name(dead)));
            for f in self.node.files_of(dead) {
                self.unlink_when_safe(f, "delete", false);
            }
            self.node.remove_symlink(dead);
        }
    }

    /// The pod is deleted: its containers stop, then its log directory goes (kubelet
    /// removes the symlinks too, sometimes later: some are left dangling).
    fn delete_pod(&mut self, i: usize) {
        self.log(format!("delete pod of {}", self.node.name(i)));
        self.node.stop_pod(i);
        for j in self.node.pod_of(i) {
            for f in self.node.files_of(j) {
                self.wait_until_read(f);
            }
        }
        self.node.remove_pod_dir(i);
        if !self.rng.one_in(3) {
            for j in self.node.pod_of(i) {
                self.node.remove_symlink(j);
            }
        }
    }

    /// The agent stops cleanly (delivering what it holds, persisting its checkpoints),
    /// a few operations happen while it is down, and it starts again: nothing is read
    /// twice, nothing is lost. Messages begun are finished, and every message written
    /// in pieces acknowledged, first: a partial line held at a stop makes the other
    /// stream's lines read after it be read again at the start (at-least-once by design:
    /// their checkpoint stops at the held piece, pipeline/process.rs). Nothing is
    /// unlinked while it is down: a file it never opened, deleted then, is lost to any
    /// agent.
    fn restart_agent(&mut self) {
        self.log("agent stops".into());
        for i in self.node.running() {
            self.node.finish_pending(i);
        }
        // A file unlinked while the agent reads it is read to its end through the open
        // descriptor; an agent stopped before that end cannot read the rest after its
        // start (the file is gone). Real timing gives it the time.
        self.wait_until("no partial line held", |n, d| {
            let split = (0..n.messages.len() as u64).filter(|&s| n.messages[s as usize].split);
            split.into_iter().all(|s| d.has(s))
        });
        self.wait_until("the agent read the files unlinked", |n, d| {
            let gone = n.files.iter().filter(|f| !f.on_disk);
            gone.flat_map(|f| &f.messages).all(|&s| d.has(s))
        });
        self.stop_agent();
        for _ in 0..self.rng.range(0, 4) {
            let running = self.node.running();
            if running.is_empty() {
                break;
            }
            let i = self.rng.pick(&running);
            let name = self.node.name(i);
            match self.rng.below(4) {
                0 | 1 => {
                    self.log(format!("write {name} (agent down)"));
                    self.node.write(&mut self.rng, i);
                    self.node.finish_pending(i);
                }
                2 => {
                    self.log(format!("rotate {name} (agent down)"));
                    self.node.rotate(&mut self.rng, i);
                }
                _ => {
                    self.log(format!("restart {name} (agent down)"));
                    self.node.restart(i);
                }
            }
        }
        self.log("agent starts".into());
        self.start_agent();
        // One message written now and acknowledged: the new run has synced once, so it
        // has every file present opened and knows its first bytes (see `copytruncate`).
        if let Some(&i) = self.node.running().first() {
            self.node.write(&mut self.rng, i);
            self.node.finish_pending(i);
            let last = self.node.messages.len() as u64 - 1;
            self.wait_until("a first message after the start", |_, d| d.has(last));
        }
    }

    /// The receiver turns the next requests away (retried with backoff).
    fn sink_hiccup(&mut self) {
        for _ in 0..self.rng.range(1, 3) {
            let reply = match self.rng.below(2) {
                0 => Reply::Status(503, None),
                _ => Reply::Status(429, Some("0")),
            };
            self.log(format!("receiver answers {reply:?}"));
            self.receiver.script.push(reply);
        }
    }

    /// Polls what arrived until `cond` holds; fails the case after [`WAIT`].
    fn wait_until(&mut self, what: &str, cond: impl Fn(&Node, &Delivered) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            self.delivered.ingest(&self.receiver, &self.node);
            if cond(&self.node, &self.delivered) {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("waited {WAIT:?} for {what}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn check(&self) {
        let missing = self.delivered.missing(&self.node);
        if !self.delivered.faults.is_empty() || !missing.is_empty() {
            self.fail("the receiver did not get exactly what was written");
        }
        let (mut sent, mut rotations, mut truncations, mut requests, mut retries) = (0, 0, 0, 0, 0);
        for m in &self.metrics {
            let (tail, process, send) = (m.tail(), m.process(), m.send());
            let loki = send.sinks.get("loki").cloned().unwrap_or_default();
            let sound = tail.files_let_go == 0
                && process.decode_errors.is_empty()
                && process.truncated == 0
                && process.incomplete.values().all(|&n| n == 0)
                && loki.dropped.values().all(|&n| n == 0);
            if !sound {
                self.fail(&format!("counters: {tail:?} {process:?} {loki:?}"));
            }
            sent += loki.events_sent;
            (rotations, truncations) = (rotations + tail.rotations, truncations + tail.truncations);
            (requests, retries) = (requests + loki.requests, retries + loki.retries);
        }
        if sent != self.node.messages.len() as u64 {
            self.fail(&format!("{sent} events sent"));
        }
        eprintln!(
            "logs_model: seed {}: {} messages in {} files, {} agent runs, {requests} requests \
             ({retries} retries), {rotations} rotations, {truncations} truncations seen",
            self.seed,
            self.node.messages.len(),
            self.node.files.len(),
            self.metrics.len(),
        );
    }

    /// Panics with the seed, the settings, the last operations and what went wrong.
    fn fail(&self, why: &str) -> ! {
        let missing = self.delivered.missing(&self.node);
        let where_ = |s: &u64| {
            let files: Vec<String> = (0..self.node.files.len())
                .filter(|&f| self.node.files[f].messages.contains(s))
                .map(|f| {
                    let gone = if self.node.files[f].on_disk {
                        ""
                    } else {
                        " (unlinked)"
                    };
                    format!("{}{gone}", self.node.file_name(f))
                })
                .collect();
            format!("m{s} in {files:?}")
        };
        let trace = &self.trace[self.trace.len().saturating_sub(300)..];
        for (f, file) in self.node.files.iter().enumerate() {
            let mark = |s: &u64| format!("m{s}{}", if self.delivered.has(*s) { "" } else { "(!)" });
            let msgs: Vec<String> = file.messages.iter().map(mark).collect();
            let unique: Vec<String> = file.unique.iter().map(mark).collect();
            let disk = if file.on_disk { "" } else { " (unlinked)" };
            eprintln!(
                "{}{disk}: {msgs:?} unique {unique:?}",
                self.node.file_name(f)
            );
        }
        if let Some(m) = self.metrics.last() {
            eprintln!(
                "counters: {:?}\n{:?}\n{:?}",
                m.tail(),
                m.process(),
                m.send()
            );
        }
        panic!(
            "requests: {:?}\n\
             seed {} (replay: NODEPULSE_MODEL_SEED={} cargo test --test logs_model): {why}\n\
             settings: {:?}\n{} messages written, {} entries acknowledged\n\
             faults ({}): {:#?}\nmissing ({}): {:#?}\nlast operations:\n  {}",
            &self.delivered.requests[self.delivered.requests.len().saturating_sub(30)..],
            self.seed,
            self.seed,
            self.settings,
            self.node.messages.len(),
            self.delivered.entries,
            self.delivered.faults.len(),
            self.delivered.faults[..self.delivered.faults.len().min(10)]
                .iter()
                .map(|f| {
                    let seqs = f
                        .split(' ')
                        .filter_map(|w| w.strip_prefix('m')?.parse().ok());
                    let at: Vec<String> = seqs.map(|s| where_(&s)).collect();
                    format!("{f}; {}", at.join("; "))
                })
                .collect::<Vec<_>>(),
            missing.len(),
            missing.iter().take(10).map(where_).collect::<Vec<_>>(),
            trace.join("\n  "),
        );
    }
}

fn seeds() -> std::ops::Range<u64> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .map(|v: String| v.parse::<u64>().unwrap())
    };
    let (seed, cases) = (var("NODEPULSE_MODEL_SEED"), var("NODEPULSE_MODEL_CASES"));
    let first = seed.unwrap_or(0);
    let n = cases.unwrap_or(if seed.is_some() { 1 } else { DEFAULT_CASES });
    first..first + n
}

/// Issue 3's done-when: every line written is delivered, in order per container, with
/// no duplicates, through rotations, copytruncates, deletions and new containers.
#[test]
fn every_line_is_delivered_once_in_order_through_rotations() {
    let filter = tracing_subscriber::EnvFilter::from_env("NODEPULSE_MODEL_LOG");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for seed in seeds() {
        Case::new(seed, &rt).run();
    }
}
