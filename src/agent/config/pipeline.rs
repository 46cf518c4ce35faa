//! The validated settings carried into the log pipeline's [`PipelineConfig`]: the one
//! place where a log setting meets the field that uses it.

use super::AgentConfig;
use crate::agent::logs::buffer::{BufferConfig, SpoolConfig};
use crate::agent::logs::discover::DiscoverConfig;
use crate::agent::logs::pipeline::PipelineConfig;

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl AgentConfig {
    /// The pipeline's settings, or `None` when no sink is set (log shipping is off).
    pub fn pipeline_config(&self) -> Result<Option<PipelineConfig>, globset::Error> {
        if self.sinks.is_empty() {
            return Ok(None);
        }
        let logs = &self.logs;
        let discover =
            DiscoverConfig::new(self.pods_dir.clone(), Some(self.containers_dir.clone()))
                .with_globs(&strs(&logs.include), &strs(&logs.exclude))?;
        let mut p = PipelineConfig::with_sinks(
            discover,
            self.data_dir.clone(),
            self.node_name.clone(),
            self.sinks.clone(),
        );
        p.tail.start_at = logs.start_at;
        p.tail.max_open_files = logs.max_open_files;
        p.max_message_bytes = logs.max_line_bytes;
        p.tail.max_line_bytes = raw_line_cap(logs.max_line_bytes);
        p.partial_flush_timeout = logs.partial_flush_timeout;
        p.checkpoint_retention = logs.checkpoint_retention;
        p.batch = logs.batch;
        p.buffer = self.buffer_config();
        p.redact = logs.redact.clone();
        Ok(Some(p))
    }

    /// The memory buffer, and the spool under `<data-dir>/spool` when it has a size.
    fn buffer_config(&self) -> BufferConfig {
        let logs = &self.logs;
        BufferConfig {
            max_memory_bytes: logs.buffer_max_bytes,
            when_full: logs.when_full,
            spool: (logs.spool_max_bytes > 0).then(|| SpoolConfig {
                dir: self.data_dir.join("spool"),
                max_total_bytes: logs.spool_max_bytes,
                // At least four segments: a segment is deleted only once all of it is
                // acknowledged, so a spool of one segment could not free room while full.
                max_segment_bytes: logs
                    .spool_segment_bytes
                    .min(logs.spool_max_bytes / 4)
                    .max(1),
            }),
        }
    }
}

/// The tailer's bound on one physical line: a memory safety bound, kept above the
/// message cap (applied after partial lines are merged) so that a runtime that does not
/// split long lines (docker's json-file splits at 16 KiB, containerd's CRI too) still
/// gets whole messages up to the cap: the cap, plus room for the CRI prefix or the JSON
/// escaping of a docker line, and never below the tailer's default.
fn raw_line_cap(max_message_bytes: usize) -> usize {
    let default = crate::agent::logs::tail::TailConfig::default().max_line_bytes;
    max_message_bytes
        .saturating_add(max_message_bytes / 4)
        .max(default)
}
