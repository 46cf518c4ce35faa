//! WAL truncation, as Prometheus's `wlog/checkpoint.go` does it: the records of the
//! segments being dropped (and of the previous checkpoint) that still matter — series
//! the head still holds, samples at or after the head's new min time — are rewritten
//! into `wal/checkpoint.NNNNNNNN` (NNNNNNNN: the last segment it covers), through a
//! `.tmp` file that is fsynced and renamed; only then are those segments and older
//! checkpoints deleted. Replay reads the newest checkpoint, then the segments after it.

use super::{decode, frame, list_segments, replay_segment, segment_path, sync_dir, WalOptions};
use crate::aggregator::model::{Labels, StorageError};
use crate::aggregator::tsdb::record::{self, Record, RefSample};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const PREFIX: &str = "checkpoint.";
/// Entries per rewritten record (well under the record size limit).
const PER_RECORD: usize = 4096;

/// What a checkpoint kept and dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointStats {
    pub segments_deleted: u64,
    pub series_kept: u64,
    pub samples_kept: u64,
}

pub(super) fn checkpoint_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{n:08}"))
}

/// The newest finished checkpoint's number; deletes unfinished (`.tmp`) ones.
pub(super) fn latest_checkpoint(dir: &Path) -> Result<Option<u64>, StorageError> {
    let mut newest = None;
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if rest.ends_with(".tmp") {
            fs::remove_file(dir.join(&*name))?;
        } else if let Ok(n) = rest.parse::<u64>() {
            newest = newest.max(Some(n));
        }
    }
    Ok(newest)
}

/// Rewrites the records of segments `..=upto` that `keep_series(ref)` holds for (and
/// their samples at or after `min_t`) into a checkpoint, then deletes those segments
/// and older checkpoints (a checkpoint of `upto` itself is rewritten in place). Safe to
/// run while appends go on: they write to later segments.
pub fn checkpoint(
    dir: &Path,
    opts: &WalOptions,
    upto: u64,
    keep_series: impl Fn(u64) -> bool,
    min_t: i64,
) -> Result<CheckpointStats, StorageError> {
    let prev = latest_checkpoint(dir)?;
    if prev.is_some_and(|p| p > upto) {
        return Ok(CheckpointStats::default());
    }
    let mut sources: Vec<PathBuf> = prev.map(|p| checkpoint_path(dir, p)).into_iter().collect();
    let segments: Vec<u64> = list_segments(dir)?
        .into_iter()
        .filter(|&s| s <= upto && prev.is_none_or(|p| s > p))
        .collect();
    sources.extend(segments.iter().map(|&s| segment_path(dir, s)));
    let tmp = dir.join(format!("{PREFIX}{upto:08}.tmp"));
    let mut out = Rewriter::new(File::create(&tmp)?);
    for path in &sources {
        let mut replay = Default::default();
        replay_segment(path, false, opts, &mut replay, &mut |kind, payload| {
            out.keep(decode(kind, payload)?, &keep_series, min_t)
        })?;
    }
    let stats = out.finish()?;
    fs::rename(&tmp, checkpoint_path(dir, upto))?;
    sync_dir(dir)?;
    for &s in &segments {
        fs::remove_file(segment_path(dir, s))?;
    }
    if let Some(p) = prev.filter(|&p| p != upto) {
        fs::remove_file(checkpoint_path(dir, p))?; // else it was replaced by the rename
    }
    sync_dir(dir)?;
    Ok(CheckpointStats {
        segments_deleted: segments.len() as u64,
        ..stats
    })
}

/// Writes the kept part of each record, framed as in a segment.
struct Rewriter {
    file: BufWriter<File>,
    buf: Vec<u8>,
    stats: CheckpointStats,
}

impl Rewriter {
    fn new(file: File) -> Self {
        Rewriter {
            file: BufWriter::new(file),
            buf: Vec::new(),
            stats: CheckpointStats::default(),
        }
    }

    fn keep(
        &mut self,
        rec: Record,
        keep: &impl Fn(u64) -> bool,
        min_t: i64,
    ) -> Result<(), StorageError> {
        match rec {
            Record::Series(list) => {
                let kept: Vec<(u64, &Labels)> = list
                    .iter()
                    .filter(|(r, _)| keep(*r))
                    .map(|(r, l)| (*r, l))
                    .collect();
                self.stats.series_kept += kept.len() as u64;
                for part in kept.chunks(PER_RECORD) {
                    self.buf.clear();
                    record::encode_series(part, &mut self.buf);
                    self.write(record::KIND_SERIES)?;
                }
            }
            Record::Samples(list) => {
                let kept: Vec<RefSample> = list
                    .into_iter()
                    .filter(|s| s.t >= min_t && keep(s.r))
                    .collect();
                self.stats.samples_kept += kept.len() as u64;
                for part in kept.chunks(PER_RECORD) {
                    self.buf.clear();
                    record::encode_samples(part, &mut self.buf);
                    self.write(record::KIND_SAMPLES)?;
                }
            }
        }
        Ok(())
    }

    fn write(&mut self, kind: u8) -> Result<(), StorageError> {
        let mut framed = Vec::with_capacity(self.buf.len() + 9);
        frame(kind, &self.buf, &mut framed);
        self.file.write_all(&framed)?;
        Ok(())
    }

    fn finish(self) -> Result<CheckpointStats, StorageError> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(self.stats)
    }
}
