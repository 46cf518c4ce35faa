//! The pipeline's counters, shared by its tasks and read on each scrape of `/metrics`
//! (`nodepulse_log_*`). Each task publishes a plain snapshot of its own counters; the
//! buffer is asked directly.

mod checkpoint;
mod process;

pub use process::{decode_reason, ProcessStats};

use super::applog_stage::AppLogCounters;
use super::pending::Pending;
use super::send::{ELASTICSEARCH, LOKI};
use crate::agent::logs::buffer::{Buffer, BufferStats, FileOffsets, SpoolStats};
use crate::agent::logs::checkpoint::CheckpointStats;
use crate::agent::logs::tail::TailStats;
use crate::agent::sinks::elasticsearch::EsStats;
use crate::agent::sinks::loki::LokiStats;
use crate::exposition::MetricFamily;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the sender counted for one sink.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SinkCounts {
    /// Events the sink acknowledged.
    pub events_sent: u64,
    /// Events given up on, by reason ("rejected": refused for good; "encode": could not
    /// be made part of a request).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Requests sent, first attempts and retries (the sink's own count).
    pub requests: u64,
    pub retries: u64,
}

/// What the sender counted, per configured sink, and each sink's own stats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendStats {
    /// By `sink` label value (`loki`, `elasticsearch`): only the configured sinks.
    pub sinks: BTreeMap<&'static str, SinkCounts>,
    pub loki: Option<LokiStats>,
    pub elasticsearch: Option<EsStats>,
}

/// Everything `/metrics` shows of the pipeline.
#[derive(Default)]
pub struct PipelineMetrics {
    pub(super) tail: Mutex<TailStats>,
    pub(super) process: Mutex<ProcessStats>,
    pub(super) send: Mutex<SendStats>,
    pub(super) buffer: Mutex<Option<Buffer<FileOffsets>>>,
    pub(super) app_log: Arc<AppLogCounters>,
    /// Lines read and not yet acknowledged, for the age of the oldest.
    pub(super) pending: Mutex<Pending>,
    /// The checkpoint store's counters as of the checkpointer's last round.
    pub(super) checkpoint: Mutex<CheckpointStats>,
}

fn lock<T: Clone>(m: &Mutex<T>) -> T {
    m.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl PipelineMetrics {
    pub fn tail(&self) -> TailStats {
        lock(&self.tail)
    }

    pub fn process(&self) -> ProcessStats {
        lock(&self.process)
    }

    pub fn send(&self) -> SendStats {
        lock(&self.send)
    }

    /// Every sink settled a batch whose token is `token`: its lines are no longer pending.
    pub(super) fn delivered(&self, token: &FileOffsets) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (id, offset) in &token.0 {
            pending.acked(id, *offset);
        }
    }

    /// How long the oldest line read and not yet acknowledged has waited (zero if none).
    pub fn oldest_unacked_age(&self) -> std::time::Duration {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.oldest_age(std::time::Instant::now())
    }

    /// Appends the `nodepulse_log_*` families.
    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.push(gauge(
            "nodepulse_log_oldest_unacked_age_seconds",
            "Age of the oldest log line read and not yet acknowledged by the sinks (0 when none).",
            self.oldest_unacked_age().as_secs_f64(),
        ));
        self.collect_tail(out);
        checkpoint::collect(&lock(&self.checkpoint), out);
        process::collect(&self.process(), out);
        self.collect_send(out);
        self.app_log.collect(out);
        if let Some(buffer) = lock(&self.buffer) {
            collect_buffer(&buffer.stats(), out);
        }
    }

    fn collect_tail(&self, out: &mut Vec<MetricFamily>) {
        let t = self.tail();
        out.push(gauge(
            "nodepulse_log_files_watched",
            "Log files open for reading.",
            t.files_open as f64,
        ));
        out.push(counter(
            "nodepulse_log_read_lines_total",
            "Raw log lines read from files.",
            t.lines_read,
        ));
        out.push(counter(
            "nodepulse_log_read_bytes_total",
            "Bytes read from log files.",
            t.bytes_read,
        ));
        out.push(counter(
            "nodepulse_log_lines_over_cap_total",
            "Raw lines longer than the line cap, cut.",
            t.lines_over_cap,
        ));
        out.push(counter(
            "nodepulse_log_file_truncations_total",
            "Log files found truncated (copytruncate) and read again from 0.",
            t.truncations,
        ));
        out.push(counter(
            "nodepulse_log_file_rotations_total",
            "Live log files renamed or replaced.",
            t.rotations,
        ));
        out.push(counter(
            "nodepulse_log_files_let_go_total",
            "Rotated or deleted log files closed before their end.",
            t.files_let_go,
        ));
        out.push(counter(
            "nodepulse_log_bytes_let_go_total",
            "Bytes left unread in log files closed before their end.",
            t.bytes_let_go,
        ));
        out.push(counter(
            "nodepulse_log_file_errors_total",
            "Log files that could not be opened, probed or read.",
            t.io_errors,
        ));
        out.push(gauge(
            "nodepulse_log_streams_parked",
            "Container log streams waiting for a file slot (--logs.max-open-files), no file open.",
            t.streams_parked as f64,
        ));
        out.push(counter(
            "nodepulse_log_stream_parks_total",
            "Times a container log stream was parked to keep within --logs.max-open-files.",
            t.parks,
        ));
    }

    /// Per-sink families, each with a `sink` label (one series per configured sink).
    fn collect_send(&self, out: &mut Vec<MetricFamily>) {
        let s = self.send();
        let per_sink = |name: &'static str, help: &'static str, v: fn(&SinkCounts) -> u64| {
            let mut f = MetricFamily::counter(name, help);
            for (sink, c) in &s.sinks {
                f.push(&[("sink", sink)], v(c) as f64);
            }
            f
        };
        out.push(per_sink(
            "nodepulse_log_sent_events_total",
            "Log events the sink acknowledged.",
            |c| c.events_sent,
        ));
        out.push(per_sink(
            "nodepulse_log_sink_requests_total",
            "Requests sent to the sink, first attempts and retries.",
            |c| c.requests,
        ));
        out.push(per_sink(
            "nodepulse_log_sink_retries_total",
            "Requests sent again after a retryable failure.",
            |c| c.retries,
        ));
        let mut dropped = MetricFamily::counter(
            "nodepulse_log_dropped_events_total",
            "Log events given up on after reading, by reason and sink.",
        );
        for (sink, c) in &s.sinks {
            for reason in ["rejected", "encode"] {
                let n = c.dropped.get(reason).copied().unwrap_or(0);
                dropped.push(&[("reason", reason), ("sink", sink)], n as f64);
            }
        }
        out.push(dropped);
        collect_sink_specific(&s, out);
    }
}

/// What only one kind of sink has: Loki's batches refused whole, Elasticsearch's
/// documents refused by error type (bounded) and requests split after a 413.
fn collect_sink_specific(s: &SendStats, out: &mut Vec<MetricFamily>) {
    if let Some(loki) = &s.loki {
        let mut f = MetricFamily::counter(
            "nodepulse_log_sink_rejected_batches_total",
            "Batches the sink refused for good (4xx other than 429).",
        );
        f.push(&[("sink", LOKI)], loki.batches_rejected as f64);
        out.push(f);
    }
    if let Some(es) = &s.elasticsearch {
        let mut rejected = MetricFamily::counter(
            "nodepulse_log_sink_rejected_documents_total",
            "Documents Elasticsearch refused for good, by error type (at most 32 types, then other).",
        );
        for (reason, n) in es.rejected.iter() {
            rejected.push(&[("reason", reason), ("sink", ELASTICSEARCH)], n as f64);
        }
        out.push(rejected);
        let mut splits = MetricFamily::counter(
            "nodepulse_log_sink_split_requests_total",
            "Bulk requests split in two after a 413 (body too large).",
        );
        splits.push(&[("sink", ELASTICSEARCH)], es.splits as f64);
        out.push(splits);
    }
}

/// The buffer's families; the spool's too when there is one. `stats` never waits for
/// the disk (the spool's counters are as of its last operation).
fn collect_buffer(s: &BufferStats, out: &mut Vec<MetricFamily>) {
    out.push(gauge(
        "nodepulse_log_buffer_bytes",
        "Batch bytes held in memory by the log buffer.",
        s.memory_bytes as f64,
    ));
    out.push(gauge(
        "nodepulse_log_buffer_events",
        "Log events held in memory by the log buffer.",
        s.memory_events as f64,
    ));
    let mut dropped = MetricFamily::counter(
        "nodepulse_log_buffer_dropped_events_total",
        "Log events the buffer turned away, by reason.",
    );
    dropped.push(&[("reason", "full")], s.dropped_full.events as f64);
    dropped.push(&[("reason", "closed")], s.dropped_closed.events as f64);
    out.push(dropped);
    if s.spool_enabled {
        collect_spool(&s.spool, out);
    }
}

fn collect_spool(s: &SpoolStats, out: &mut Vec<MetricFamily>) {
    out.push(gauge(
        "nodepulse_log_spool_bytes",
        "Bytes of the disk spool's segment files.",
        s.bytes as f64,
    ));
    out.push(gauge(
        "nodepulse_log_spool_segments",
        "Segment files in the disk spool.",
        s.segments as f64,
    ));
    out.push(gauge(
        "nodepulse_log_spool_unread_batches",
        "Spooled batches waiting to be read back from disk.",
        s.unread_batches as f64,
    ));
    let counters: [(&'static str, &'static str, u64); 7] = [
        (
            "nodepulse_log_spool_batches_total",
            "Batches written and fsynced to the disk spool.",
            s.spooled_batches,
        ),
        (
            "nodepulse_log_spool_replayed_batches_total",
            "Unacknowledged batches found in the spool at start, sent again.",
            s.replayed_batches,
        ),
        (
            "nodepulse_log_spool_torn_records_total",
            "Spool records cut short or failing their checksum at start (a crash mid-append).",
            s.torn_records,
        ),
        (
            "nodepulse_log_spool_torn_bytes_total",
            "Bytes skipped from torn spool records to the end of their segment.",
            s.torn_bytes,
        ),
        (
            "nodepulse_log_spool_corrupt_segments_total",
            "Files in the spool directory that were not segments, set aside.",
            s.corrupt_segments,
        ),
        (
            "nodepulse_log_spool_undecodable_records_total",
            "Spool records that could not be read back as a batch, skipped.",
            s.undecodable_records,
        ),
        (
            "nodepulse_log_spool_write_errors_total",
            "Batches the disk spool failed to write (held in memory only, or retried).",
            s.write_errors,
        ),
    ];
    for (name, help, value) in counters {
        out.push(counter(name, help, value));
    }
}

fn gauge(name: &'static str, help: &'static str, v: f64) -> MetricFamily {
    MetricFamily::gauge(name, help).value(v)
}

fn counter(name: &'static str, help: &'static str, v: u64) -> MetricFamily {
    MetricFamily::counter(name, help).value(v as f64)
}
