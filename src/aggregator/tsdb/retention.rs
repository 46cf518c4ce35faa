//! Retention, as Prometheus's `db.go` (`beyondTimeRetention`, `beyondSizeRetention`):
//! whole blocks are deleted when their end is older than the newest sample minus the
//! retention time, and oldest first while blocks plus WAL exceed the retention size.
//! A block leaves the list before its directory is renamed to `<id>.tmp-deleted` and
//! removed (a crash in between leaves a `.tmp` directory that `open` deletes); queries
//! already reading it keep its open files.

use super::super::block::Block;
use super::super::Inner;
use crate::aggregator::model::StorageError;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Inner {
    /// Deletes the blocks beyond retention; returns how many.
    pub(super) fn apply_retention(&self) -> Result<u64, StorageError> {
        let blocks = self.blocks();
        let newest_block = blocks.iter().map(|b| b.meta.max_time - 1).max();
        let newest_head = self.read_head().time_range().map(|(_, hi)| hi);
        let Some(newest) = newest_block.max(newest_head) else {
            return Ok(0);
        };
        let cutoff = newest.saturating_sub(self.opts.retention_ms);
        let by_time: Vec<_> = blocks
            .iter()
            .filter(|b| b.meta.max_time <= cutoff)
            .cloned()
            .collect();
        let mut deleted = self.delete_blocks(&by_time)?;
        self.counters
            .retention_deletions_time
            .fetch_add(deleted, Ordering::Relaxed);
        if self.opts.retention_bytes > 0 {
            let by_size = self.beyond_size()?;
            let n = self.delete_blocks(&by_size)?;
            self.counters
                .retention_deletions_size
                .fetch_add(n, Ordering::Relaxed);
            deleted += n;
        }
        Ok(deleted)
    }

    /// The oldest blocks to delete for blocks and WAL to fit the retention size.
    fn beyond_size(&self) -> Result<Vec<Arc<Block>>, StorageError> {
        let blocks = self.blocks();
        let wal = self.lock_wal().disk_bytes()?;
        let mut total = wal + blocks.iter().map(|b| b.bytes).sum::<u64>();
        let mut out = Vec::new();
        for b in &blocks {
            if total <= self.opts.retention_bytes {
                break;
            }
            total -= b.bytes;
            out.push(b.clone());
        }
        Ok(out)
    }

    fn delete_blocks(&self, doomed: &[Arc<Block>]) -> Result<u64, StorageError> {
        if doomed.is_empty() {
            return Ok(0);
        }
        {
            let mut blocks = self.blocks.write().unwrap_or_else(|e| e.into_inner());
            blocks.retain(|b| !doomed.iter().any(|d| Arc::ptr_eq(b, d)));
        }
        for b in doomed {
            let gone = b.dir.with_extension("tmp-deleted");
            std::fs::rename(&b.dir, &gone)?;
            std::fs::remove_dir_all(&gone)?;
            tracing::info!(block = %b.meta.ulid, max_time = b.meta.max_time, "Deleted a block past the retention.");
        }
        Ok(doomed.len() as u64)
    }
}
