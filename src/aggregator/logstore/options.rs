//! The log store's settings, each a limit with a documented default (Loki's where Loki
//! has one), and the clock it reads.

use super::block::Layout;
use super::codec::Codec;
use crate::aggregator::tsdb::wal::WalOptions;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct LogStoreOptions {
    /// WAL segment size, record size limit and sync policy (records kinds are set by
    /// the store).
    pub wal: WalOptions,
    /// Once the WAL holds more than this, every open chunk is flushed and the WAL is
    /// truncated behind them (1 GiB).
    pub wal_max_bytes: u64,
    /// Block compression (zstd level -1, literals left raw: see BENCHMARKS.md).
    pub codec: Codec,
    /// How blocks are encoded before compression: [`Layout::Fields`] (chunk format 4,
    /// the default: templates and variable columns, 0.11 of raw) or [`Layout::Columns`]
    /// (format 2: lines as pushed, 0.18 of raw, ingest and scans faster; see
    /// BENCHMARKS.md). Files of every format are read whatever this is (the config
    /// file's `logs.chunk_format`).
    pub block_layout: Layout,
    /// A head block is compressed once it holds this many bytes, raw plus 64 a line of
    /// bookkeeping (1 MiB: 4× Loki's `chunk_block_size`, for a 4 % smaller store and
    /// faster compression; see BENCHMARKS.md).
    pub block_bytes: usize,
    /// A chunk is cut once its compressed blocks reach this (Loki's
    /// `chunk_target_size`, 1.5 MiB).
    pub chunk_target_bytes: usize,
    /// A chunk is cut once its entries span this (Loki's `max_chunk_age`, 2 h).
    pub max_chunk_age: Duration,
    /// A chunk with no append for this long is cut at the next maintenance (Loki's
    /// `chunk_idle_period`, 30 min).
    pub chunk_idle_period: Duration,
    /// An entry older than its stream's newest by more than this is refused (Loki:
    /// `max_chunk_age / 2`, 1 h).
    pub out_of_order_window: Duration,
    /// Chunks whose newest entry is older than this are deleted; entries older are
    /// refused. Zero keeps everything (Loki's `retention_period` default, 0s).
    pub retention: Duration,
    /// Oldest chunks are deleted while the chunks on disk exceed this. Zero: no limit.
    pub retention_bytes: u64,
    /// Entries newer than now plus this are refused (Loki's `creation_grace_period`,
    /// 10 min).
    pub creation_grace: Duration,
    /// Streams held at once; a push creating one more is refused (100,000).
    pub max_streams: usize,
    /// Bytes of chunks held in memory (raw head blocks and compressed blocks not yet
    /// on disk) over all streams; past it the biggest open chunks are flushed (128 MiB).
    pub max_memory_bytes: usize,
    /// A line longer than this is refused (Loki's `max_line_size`, 256 KiB).
    pub max_line_bytes: usize,
    /// The clock (ns since the epoch): for bounds, idle chunks and retention.
    pub now: fn() -> i64,
}

impl Default for LogStoreOptions {
    fn default() -> Self {
        LogStoreOptions {
            wal: WalOptions::default(),
            wal_max_bytes: 1 << 30,
            codec: Codec::Zstd(-1),
            block_layout: Layout::Fields,
            block_bytes: 1 << 20,
            chunk_target_bytes: 1536 << 10,
            max_chunk_age: Duration::from_secs(2 * 3600),
            chunk_idle_period: Duration::from_secs(30 * 60),
            out_of_order_window: Duration::from_secs(3600),
            retention: Duration::ZERO,
            retention_bytes: 0,
            creation_grace: Duration::from_secs(600),
            max_streams: 100_000,
            max_memory_bytes: 128 << 20,
            max_line_bytes: 256 << 10,
            now: wall_clock_ns,
        }
    }
}

impl LogStoreOptions {
    /// Checks the settings; the error names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("block_bytes", self.block_bytes),
            ("chunk_target_bytes", self.chunk_target_bytes),
            ("max_streams", self.max_streams),
            ("max_memory_bytes", self.max_memory_bytes),
            ("max_line_bytes", self.max_line_bytes),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("log store setting {name} must be positive"));
        }
        if self.max_chunk_age.is_zero() {
            return Err("log store setting max_chunk_age must be positive".into());
        }
        if self.block_layout == Layout::Rows {
            return Err(
                "log store setting block_layout: format 1 (rows) is read, not written".into(),
            );
        }
        self.codec.validate()
    }

    /// The codec and block layout chunks are cut with.
    pub(crate) fn coding(&self) -> (Codec, Layout) {
        (self.codec, self.block_layout)
    }
}

/// Nanoseconds since the epoch by the system clock.
pub fn wall_clock_ns() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A duration in ns, saturating.
pub(crate) fn ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}
