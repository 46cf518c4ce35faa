//! The log store's counters (every refusal and drop is one) and the `(name, help, type,
//! value)` rows it exposes, in the shape of the TSDB's storage metrics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Counters {
    pub entries_accepted: AtomicU64,
    pub entries_duplicate: AtomicU64,
    pub refused_too_far_behind: AtomicU64,
    pub refused_out_of_bounds: AtomicU64,
    pub refused_stream_limit: AtomicU64,
    pub refused_line_too_long: AtomicU64,
    pub chunks_flushed: AtomicU64,
    pub chunk_flush_failures: AtomicU64,
    pub chunks_corrupt: AtomicU64,
    pub chunks_deleted_age: AtomicU64,
    pub chunks_deleted_size: AtomicU64,
    pub wal_truncations: AtomicU64,
    pub wal_torn_bytes: AtomicU64,
    pub memory_pressure_flushes: AtomicU64,
    pub blocks_read: AtomicU64,
    pub blocks_skipped: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }
}

/// Gauges read from the store's state when the rows are made.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gauges {
    pub streams: u64,
    pub memory_bytes: u64,
    pub chunks_on_disk: u64,
    pub disk_bytes: u64,
}

pub type Row = (&'static str, &'static str, &'static str, u64);

pub fn rows(c: &Counters, g: Gauges) -> Vec<Row> {
    let v = |a: &AtomicU64| a.load(Relaxed);
    let counter = "counter";
    vec![
        (
            "nodepulse_logstore_entries_accepted_total",
            "Log entries stored.",
            counter,
            v(&c.entries_accepted),
        ),
        (
            "nodepulse_logstore_entries_duplicate_total",
            "Log entries dropped as duplicates of a stored one (same time and line).",
            counter,
            v(&c.entries_duplicate),
        ),
        (
            "nodepulse_logstore_refused_too_far_behind_total",
            "Log entries refused as older than the out-of-order window.",
            counter,
            v(&c.refused_too_far_behind),
        ),
        (
            "nodepulse_logstore_refused_out_of_bounds_total",
            "Log entries refused as older than retention or too far in the future.",
            counter,
            v(&c.refused_out_of_bounds),
        ),
        (
            "nodepulse_logstore_refused_stream_limit_total",
            "Log entries refused because their stream would pass the stream limit.",
            counter,
            v(&c.refused_stream_limit),
        ),
        (
            "nodepulse_logstore_refused_line_too_long_total",
            "Log entries refused as longer than the line limit.",
            counter,
            v(&c.refused_line_too_long),
        ),
        (
            "nodepulse_logstore_chunks_flushed_total",
            "Chunks written to disk.",
            counter,
            v(&c.chunks_flushed),
        ),
        (
            "nodepulse_logstore_chunk_flush_failures_total",
            "Chunk writes that failed (retried; the WAL keeps the entries).",
            counter,
            v(&c.chunk_flush_failures),
        ),
        (
            "nodepulse_logstore_chunks_corrupt_total",
            "Chunk files refused as corrupt and set aside.",
            counter,
            v(&c.chunks_corrupt),
        ),
        (
            "nodepulse_logstore_scan_blocks_read_total",
            "Compressed blocks decompressed by scans.",
            counter,
            v(&c.blocks_read),
        ),
        (
            "nodepulse_logstore_scan_blocks_skipped_total",
            "Compressed blocks a line filter skipped by the block's trigram filter.",
            counter,
            v(&c.blocks_skipped),
        ),
        (
            "nodepulse_logstore_chunks_deleted_age_total",
            "Chunks deleted by age retention.",
            counter,
            v(&c.chunks_deleted_age),
        ),
        (
            "nodepulse_logstore_chunks_deleted_size_total",
            "Chunks deleted by size retention.",
            counter,
            v(&c.chunks_deleted_size),
        ),
        (
            "nodepulse_logstore_wal_truncations_total",
            "WAL truncations behind flushed chunks.",
            counter,
            v(&c.wal_truncations),
        ),
        (
            "nodepulse_logstore_wal_torn_bytes_total",
            "Bytes of a torn WAL tail cut at start.",
            counter,
            v(&c.wal_torn_bytes),
        ),
        (
            "nodepulse_logstore_memory_pressure_flushes_total",
            "Chunks flushed early because the store held too much in memory.",
            counter,
            v(&c.memory_pressure_flushes),
        ),
        (
            "nodepulse_logstore_streams",
            "Streams held.",
            "gauge",
            g.streams,
        ),
        (
            "nodepulse_logstore_scan_buffers_kept_bytes",
            "Bytes of scan buffers kept between scans by the process's threads (capped).",
            "gauge",
            super::spare::kept_bytes() as u64,
        ),
        (
            "nodepulse_logstore_memory_bytes",
            "Bytes of chunks held in memory.",
            "gauge",
            g.memory_bytes,
        ),
        (
            "nodepulse_logstore_chunks",
            "Chunks on disk.",
            "gauge",
            g.chunks_on_disk,
        ),
        (
            "nodepulse_logstore_disk_bytes",
            "Bytes of chunk files on disk.",
            "gauge",
            g.disk_bytes,
        ),
    ]
}
