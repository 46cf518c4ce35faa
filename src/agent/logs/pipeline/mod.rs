//! The log pipeline wired end to end (DESIGN.md, LOGS), as separate tokio tasks joined
//! by bounded queues:
//!
//! ```text
//! reader (blocking thread: discover + tail)  ─▶ channel (bounded) ─▶
//! processor (decode, reassemble, enrich, app-log stage, stages, batcher) ─▶ buffer ─▶
//! sender (Loki push and/or Elasticsearch _bulk, concurrently, retries) ─▶ ack when
//! every sink settled ─▶ checkpointer (advance, persist)
//! ```
//!
//! Backpressure: the sender is slow ─▶ the buffer is full ─▶ the processor waits in
//! `push` ─▶ the channel fills ─▶ the reader stops polling files (it reads only when the
//! channel has room). Nothing is read that cannot be held.
//!
//! With a disk spool (`buffer.spool`; off unless `--logs.spool.max-bytes` is set) the
//! buffer is the spool: each batch is written and fsynced there (on the blocking pool)
//! before the processor goes on, checkpoints follow the spool, and reading goes on
//! through a sink outage until the spool is full. At start its unacknowledged batches
//! are sent before anything read now ([`crate::agent::logs::buffer`]).
//!
//! Shutdown ([`Pipeline::shutdown`]): the reader stops; the processor drains the
//! channel, flushes the batcher and closes the buffer; the sender delivers what is held
//! for at most `drain_timeout`, then its delivery in flight is cancelled (left
//! unacknowledged: read again at the next start); the checkpointer takes what settled
//! and persists. Lines sent twice after a restart are at most those of the batches in
//! flight at the stop: at-least-once. After a crash too: the sender starts a batch only
//! once the previous one's checkpoint is on disk, so a SIGKILL resends at most one batch
//! (`checkpointer.rs`).
//!
//! Defaults (see [`PipelineConfig::new`]; the agent's settings override those that have
//! a flag or key, `config/logs.rs`): start at the beginning of files met at the first
//! start with no checkpoint; rescan the pods dir every 10 s besides inotify; read at
//! most 512 KiB per poll and pause 100 ms when idle; a channel of 4 polls; messages
//! capped at 1 MiB; batches of 1 MiB / 10,000 events / 1 s (cut early when the reader
//! has caught up); a 16 MiB memory buffer that blocks when full (so the agent stays
//! within 64 MiB of RSS even while a sink lags), no disk spool; checkpoints persisted
//! after each acknowledged batch (and every second for the reader's changes) and kept
//! 24 h after their file; partial lines never completed flushed after 5 s
//! (`process/flush.rs`); sinks with a 30 s attempt timeout and the default backoff; 5 s
//! to drain at stop; the default redaction rules; JSON lines up to 64 KiB parsed for
//! structured fields.

pub mod applog_stage;
mod checkpointer;
pub mod enrich;
pub mod event;
pub mod metrics;
mod pending;
mod process;
mod reader;
pub mod record;
mod send;

pub use event::{Event, Stage};
pub use metrics::PipelineMetrics;
pub use send::{EsSinkConfig, LokiSinkConfig, SinksConfig};

use crate::agent::logs::applog::DEFAULT_MAX_LIFT_BYTES;
use crate::agent::logs::buffer::{
    BatchLimits, Batcher, Buffer, BufferConfig, FileOffsets, RecordsPool,
};
use crate::agent::logs::checkpoint::{self, CheckpointStore};
use crate::agent::logs::discover::{DiscoverConfig, WatchedProvider};
use crate::agent::logs::reassemble::DEFAULT_MAX_MESSAGE_BYTES;
use crate::agent::logs::redact::{RedactConfig, Redactor};
use crate::agent::logs::tail::{TailConfig, Tailer};
use crate::agent::sinks::backoff::BackoffConfig;
use crate::agent::sinks::http::HttpConfig;
use crate::agent::sinks::loki::Format;
use applog_stage::AppLogStage;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Everything the pipeline needs; [`PipelineConfig::new`] fills in the defaults.
pub struct PipelineConfig {
    pub discover: DiscoverConfig,
    pub data_dir: PathBuf,
    pub node_name: String,
    /// Where batches go: Loki, Elasticsearch, or both (at least one).
    pub sinks: SinksConfig,
    pub backoff: BackoffConfig,
    pub tail: TailConfig,
    pub rescan_every: Duration,
    pub use_inotify: bool,
    pub read_budget_bytes: usize,
    pub idle: Duration,
    pub channel_polls: usize,
    pub max_message_bytes: usize,
    /// A partial (P) line never completed is flushed, marked incomplete and counted,
    /// after this long (and when its file ends for good).
    pub partial_flush_timeout: Duration,
    pub batch: BatchLimits,
    pub buffer: BufferConfig,
    pub persist_every: Duration,
    pub checkpoint_retention: Duration,
    pub drain_timeout: Duration,
    /// Redaction rules of the app-log stage (the defaults unless told otherwise).
    pub redact: RedactConfig,
    /// Longest JSON line the app-log stage parses for fields.
    pub max_lift_bytes: usize,
    /// Run on every event after enrichment and the app-log stage (Kubernetes metadata:
    /// a later stage). Empty for now.
    pub stages: Vec<Box<dyn Stage>>,
    /// Pod metadata for each stream (the pod cache), when there is one.
    pub enricher: Option<Arc<dyn enrich::Enricher>>,
}

impl PipelineConfig {
    /// Shipping to the Loki push URL `loki_url` (snappy protobuf), every other setting
    /// at its default.
    pub fn new(
        discover: DiscoverConfig,
        data_dir: PathBuf,
        node_name: String,
        loki_url: String,
    ) -> Self {
        let sinks = SinksConfig {
            loki: Some(LokiSinkConfig {
                http: HttpConfig::new(loki_url),
                format: Format::Protobuf,
            }),
            elasticsearch: None,
        };
        Self::with_sinks(discover, data_dir, node_name, sinks)
    }

    /// Shipping to `sinks`, every other setting at its default.
    pub fn with_sinks(
        discover: DiscoverConfig,
        data_dir: PathBuf,
        node_name: String,
        sinks: SinksConfig,
    ) -> Self {
        PipelineConfig {
            discover,
            data_dir,
            node_name,
            sinks,
            backoff: BackoffConfig::default(),
            tail: TailConfig::default(),
            rescan_every: Duration::from_secs(10),
            use_inotify: true,
            read_budget_bytes: 512 * 1024,
            idle: Duration::from_millis(100),
            channel_polls: 4,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            partial_flush_timeout: process::DEFAULT_PARTIAL_FLUSH_TIMEOUT,
            batch: BatchLimits::default(),
            buffer: BufferConfig::default(),
            persist_every: Duration::from_secs(1),
            checkpoint_retention: checkpoint::DEFAULT_RETENTION,
            drain_timeout: Duration::from_secs(5),
            redact: RedactConfig::default(),
            max_lift_bytes: DEFAULT_MAX_LIFT_BYTES,
            stages: Vec::new(),
            enricher: None,
        }
    }
}

/// Why the pipeline could not start. Each names what is at fault.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("log checkpoints: {0}")]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("log buffer: {0}")]
    Buffer(std::io::Error),
    #[error("{sink} sink: {source}")]
    Sink {
        sink: &'static str,
        source: crate::agent::sinks::http::HttpConfigError,
    },
    #[error("no log sink is configured")]
    NoSink,
    #[error("log sink backoff: {0}")]
    Backoff(String),
    #[error("log redaction: {0}")]
    Redact(#[from] crate::agent::logs::redact::RedactConfigError),
}

impl PipelineError {
    /// Maps a sink's HTTP settings error to this sink's error.
    fn sink(sink: &'static str) -> impl Fn(crate::agent::sinks::http::HttpConfigError) -> Self {
        move |source| PipelineError::Sink { sink, source }
    }
}

/// The running pipeline.
pub struct Pipeline {
    metrics: Arc<PipelineMetrics>,
    stop_reading: Arc<AtomicBool>,
    cancel_sink: CancellationToken,
    stop_checkpointer: CancellationToken,
    drain_timeout: Duration,
    buffer: Buffer<FileOffsets>,
    reader: JoinHandle<()>,
    processor: JoinHandle<()>,
    sender: JoinHandle<()>,
    checkpointer: JoinHandle<()>,
}

impl Pipeline {
    /// Opens the checkpoints and the buffer, builds the sink and starts the tasks. The
    /// opening reads files (checkpoints, the spool's segments): call it on a blocking
    /// thread of the runtime.
    pub fn start(config: PipelineConfig) -> Result<Pipeline, PipelineError> {
        let store = CheckpointStore::open(&config.data_dir, config.checkpoint_retention)?;
        let store = Arc::new(Mutex::new(store));
        let buffer: Buffer<FileOffsets> =
            Buffer::open(config.buffer.clone()).map_err(PipelineError::Buffer)?;
        let metrics = Arc::new(PipelineMetrics::default());
        let app_log = AppLogStage::new(
            Redactor::new(&config.redact)?,
            config.max_lift_bytes,
            metrics.app_log.clone(),
        );
        *metrics.buffer.lock().unwrap_or_else(|e| e.into_inner()) = Some(buffer.clone());
        let cancel_sink = CancellationToken::new();
        let sinks = send::SinkSet::new(&config.sinks, &config.backoff, &cancel_sink)?;
        let (tx, rx) = mpsc::channel(config.channel_polls.max(1));
        let stop_reading = Arc::new(AtomicBool::new(false));
        let reader = reader::Reader {
            provider: WatchedProvider::new(
                config.discover.clone(),
                config.rescan_every,
                config.use_inotify,
            ),
            tailer: Tailer::new(config.tail.clone()),
            store: store.clone(),
            lines: tx,
            metrics: metrics.clone(),
            budget_bytes: config.read_budget_bytes,
            idle: config.idle,
            stop: stop_reading.clone(),
        };
        let pool = RecordsPool::default();
        let processor = process::Processor::new(
            config.node_name.clone(),
            config.max_message_bytes,
            Some(app_log),
            config.stages,
            Batcher::with_pool(config.batch, pool.clone()),
            buffer.clone(),
            metrics.clone(),
        )
        .with_partial_flush_timeout(config.partial_flush_timeout)
        .with_enricher(config.enricher);
        tracing::info!(
            pods_dir = %config.discover.pods_dir.display(),
            data_dir = %config.data_dir.display(),
            sinks = ?sinks.names(),
            "Shipping container logs."
        );
        let durability = Arc::new(checkpointer::Durability::default());
        let sender = send::Sender {
            buffer: buffer.clone(),
            sinks,
            metrics: metrics.clone(),
            durability: durability.clone(),
            pool,
        };
        let stop_checkpointer = CancellationToken::new();
        let checkpointer = checkpointer::Checkpointer {
            buffer: buffer.clone(),
            store,
            behind: AtomicBool::new(true),
            quick_writes: tokio::sync::Mutex::new(0),
            persist_every: config.persist_every,
            durability,
            metrics: metrics.clone(),
            stop: stop_checkpointer.clone(),
        };
        Ok(Pipeline {
            metrics,
            stop_reading,
            cancel_sink,
            stop_checkpointer,
            drain_timeout: config.drain_timeout,
            buffer,
            reader: tokio::task::spawn_blocking(move || reader.run()),
            processor: tokio::spawn(processor.run(rx)),
            sender: tokio::spawn(sender.run()),
            checkpointer: tokio::spawn(checkpointer.run()),
        })
    }

    pub fn metrics(&self) -> Arc<PipelineMetrics> {
        self.metrics.clone()
    }

    /// Stops reading, delivers what is buffered within the drain timeout, and persists
    /// the checkpoints of what settled.
    pub async fn shutdown(self) {
        self.stop_reading.store(true, Ordering::Release);
        let _ = self.reader.await;
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        let mut processor = self.processor;
        if tokio::time::timeout_at(deadline, &mut processor)
            .await
            .is_err()
        {
            // Blocked on a full buffer: what it still holds is dropped (not acknowledged,
            // so read again at the next start).
            self.buffer.close();
            let _ = processor.await;
        }
        let mut sender = self.sender;
        if tokio::time::timeout_at(deadline, &mut sender)
            .await
            .is_err()
        {
            tracing::warn!("The log sink did not drain in time; what it holds will be read again at the next start.");
            self.cancel_sink.cancel();
            let _ = sender.await;
        }
        self.stop_checkpointer.cancel();
        let _ = self.checkpointer.await;
        tracing::info!("Log pipeline stopped.");
    }
}
