//! The checkpoint store's families: writes, late acknowledgements ignored after a
//! copytruncate, corrupt files set aside, inode reuse.

use crate::agent::logs::checkpoint::CheckpointStats;
use crate::exposition::MetricFamily;

pub(super) fn collect(s: &CheckpointStats, out: &mut Vec<MetricFamily>) {
    let families: [(&'static str, &'static str, u64); 4] = [
        (
            "nodepulse_log_checkpoint_writes_total",
            "Writes of the checkpoint file (tmp file, fsync, rename).",
            s.persisted,
        ),
        (
            "nodepulse_log_checkpoint_late_acks_total",
            "Acknowledgements for a file's content from before it was truncated, ignored.",
            s.late_acks,
        ),
        (
            "nodepulse_log_checkpoint_corrupt_files_total",
            "Unreadable checkpoint files set aside at start.",
            s.corrupt_files,
        ),
        (
            "nodepulse_log_checkpoint_inode_reuses_total",
            "Files whose device and inode came back with other first bytes.",
            s.inode_reuses,
        ),
    ];
    for (name, help, v) in families {
        out.push(MetricFamily::counter(name, help).value(v as f64));
    }
}
