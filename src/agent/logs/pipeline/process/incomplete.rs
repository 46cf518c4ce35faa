//! How a partial message never completed is written and counted, whoever flushes it
//! (the timeout, `flush.rs`; a file's or a stream's end, `ends.rs`): each message of the
//! stream's as a record marked `incomplete="true"` (structured metadata), with the
//! token part its flusher chose, counted by reason; one cut at the cap counted as
//! truncated, as whole ones are.

use super::flush::Partials;
use super::streams::Streams;
use super::{stream_index, Emitted, Out, Processor, RecordWriter, StreamState};
use crate::agent::logs::checkpoint::FileId;
use crate::agent::logs::pipeline::record;
use crate::agent::logs::pipeline::PipelineMetrics;
use crate::agent::logs::reassemble::Message;
use std::time::Instant;

/// The processor split into what flushing held partials uses.
pub(super) struct Parts<'a> {
    pub streams: &'a mut Streams,
    pub partials: &'a mut Partials,
    pub metrics: &'a PipelineMetrics,
    pub writer: RecordWriter<'a>,
    pub out: Out<'a>,
}

impl Processor {
    pub(super) fn parts<'a>(&'a mut self, now: Instant, emitted: &'a mut Emitted) -> Parts<'a> {
        let Processor {
            streams,
            partials,
            metrics,
            app_log,
            stages,
            lifted,
            batcher,
            ..
        } = self;
        Parts {
            streams,
            partials,
            metrics,
            writer: RecordWriter {
                app_log,
                stages,
                lifted,
            },
            out: Out {
                batcher,
                now,
                emitted,
            },
        }
    }

    /// Counts `events` incomplete messages flushed for `reason` (one of
    /// [`super::flush::REASONS`]).
    pub(super) fn count_incomplete(&self, reason: &'static str, events: u64) {
        if events == 0 {
            return;
        }
        let mut p = self
            .metrics
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *p.incomplete.entry(reason).or_default() += events;
    }
}

/// The flushed `messages` of one stream as incomplete records, each with the token
/// part `part`, to `out`; those cut at the cap counted as truncated (as whole ones are).
pub(super) fn push_incomplete(
    writer: &mut RecordWriter<'_>,
    state: &StreamState,
    metrics: &PipelineMetrics,
    messages: Vec<Message<'static>>,
    part: (FileId, u64),
    out: &mut Out<'_>,
) {
    count_truncated(metrics, &messages);
    for m in messages {
        out.record(&state.origin, part, |buf| incomplete(writer, buf, state, m));
    }
}

fn count_truncated(metrics: &PipelineMetrics, messages: &[Message<'static>]) {
    let n = messages.iter().filter(|m| m.truncated_bytes > 0).count() as u64;
    if n > 0 {
        metrics
            .process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .truncated += n;
    }
}

/// The record of a flushed message: its stream's, marked `incomplete="true"`.
fn incomplete(
    writer: &mut RecordWriter<'_>,
    out: &mut Vec<u8>,
    state: &StreamState,
    m: Message<'static>,
) {
    let mut mark = Vec::new();
    record::put_pair(&mut mark, "incomplete", "true");
    let stream = stream_index(m.stream);
    writer.write_marked(
        out,
        &state.origin,
        stream,
        m.timestamp_nanos,
        &mark,
        &m.text,
    );
}
