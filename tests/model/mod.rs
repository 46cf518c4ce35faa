//! The case of the model-based rotation test (tests/logs_model.rs): its settings drawn
//! from the seed, the agent's runs, the random steps and the waits; the kubelet-shaped
//! operations that need the agent's progress are in [`ops`], the final check and the
//! failure report in [`report`].

mod ops;
mod report;

use crate::common::delivered::Delivered;
use crate::common::kubelet::Node;
use crate::common::receivers::Receiver;
use crate::common::rng::Rng;
use nodepulse::agent::logs::buffer::BatchLimits;
use nodepulse::agent::logs::discover::DiscoverConfig;
use nodepulse::agent::logs::pipeline::{Pipeline, PipelineConfig, PipelineMetrics};
use nodepulse::agent::sinks::backoff::BackoffConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const NODE_NAME: &str = "model-node";
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

pub struct Case<'a> {
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
    pub fn new(seed: u64, rt: &'a Runtime) -> Case<'a> {
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

    pub fn run(&mut self) {
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
}
