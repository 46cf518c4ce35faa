//! The write-ahead log: numbered segment files (`wal/00000000`, 128 MiB by default) of
//! records framed as kind (u8), payload length (u32 LE), CRC32 of kind and payload (u32
//! LE), payload. A batch is framed whole and written with one `write_all`.
//!
//! [`Wal::log`] writes and syncs as the policy says; [`Wal::write`] only writes, and the
//! store's group commit syncs [`Wal::sync_target`] for many writers at once.
//!
//! Sync policy ([`SyncPolicy`]): by default every batch is `fdatasync`ed before `log`
//! returns, so an acknowledged sample survives `kill -9` and power loss. With
//! `Interval(d)` a batch is only in the page cache when `log` returns: it survives
//! `kill -9` of the process, and power loss once a sync ran (at the latest `d` after
//! the batch, see [`Wal::sync_if_due`]). Segments are synced before the next is started.
//!
//! The framing is generic over record bytes: [`Wal::open_raw`] hands back `(kind,
//! payload)` and takes the record kinds it accepts from [`WalOptions::kinds`] (the log
//! store frames its push records with it); [`Wal::open`] decodes the TSDB's records.
//!
//! Replay tolerates one thing: a torn tail in the last segment (a record cut short by a
//! crash, or followed only by zeros). It is truncated away, counted and logged once. Any
//! other bad record is refused with [`StorageError::Corrupt`].

pub use super::group_commit::SyncTarget;
use super::record::{self, Record};
use crate::aggregator::model::StorageError;
use std::fs::{self, File, OpenOptions};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HEADER: usize = 9;

#[path = "wal_replay.rs"]
mod replay;
use replay::replay_segment;
#[path = "wal_checkpoint.rs"]
mod checkpoint;
pub use checkpoint::{checkpoint, CheckpointStats};

/// When appended records reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    EveryBatch,
    Interval(Duration),
}

#[derive(Debug, Clone)]
pub struct WalOptions {
    /// A segment is closed once it would grow past this (128 MiB).
    pub segment_bytes: u64,
    /// A larger record is refused at append and corrupt at replay (64 MiB).
    pub max_record_bytes: u32,
    pub sync: SyncPolicy,
    /// The record kinds replay accepts (another kind in a header is corruption).
    pub kinds: &'static [u8],
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: 128 << 20,
            max_record_bytes: 64 << 20,
            sync: SyncPolicy::EveryBatch,
            kinds: &[record::KIND_SERIES, record::KIND_SAMPLES],
        }
    }
}

/// What replay found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayStats {
    pub segments: u64,
    pub records: u64,
    /// Bytes of a torn tail truncated away (0: none).
    pub torn_bytes: u64,
}

pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    /// Shared with a group-commit leader syncing it outside the lock.
    file: Arc<File>,
    segment: u64,
    size: u64,
    /// Batches written so far: the sequence number group commit waits for.
    written: u64,
    /// The frame headers of the batch being written (reused).
    buf: Vec<u8>,
    fsyncs: u64,
    dirty: bool,
    last_sync: Instant,
    /// A failed write could not be undone: refuse further appends.
    poisoned: bool,
}

impl Wal {
    /// Opens `dir` (created if missing), handing every TSDB record to `each` in order.
    pub fn open(
        dir: &Path,
        opts: WalOptions,
        mut each: impl FnMut(Record) -> Result<(), StorageError>,
    ) -> Result<(Wal, ReplayStats), StorageError> {
        Self::open_raw(dir, opts, |kind, payload| each(decode(kind, payload)?))
    }

    /// Opens `dir` (created if missing), handing every record's `(kind, payload)` to
    /// `each` in order (a `Corrupt` error from `each` is refused with its location).
    pub fn open_raw(
        dir: &Path,
        opts: WalOptions,
        mut each: impl FnMut(u8, &[u8]) -> Result<(), StorageError>,
    ) -> Result<(Wal, ReplayStats), StorageError> {
        fs::create_dir_all(dir)?;
        let mut stats = ReplayStats::default();
        let done = checkpoint::latest_checkpoint(dir)?;
        if let Some(n) = done {
            let path = checkpoint::checkpoint_path(dir, n);
            replay_segment(&path, false, &opts, &mut stats, &mut each)?;
        }
        // Segments a checkpoint covers may be left by a crash before their deletion.
        let mut segments = list_segments(dir)?;
        segments.retain(|&s| done.is_none_or(|n| s > n));
        for (i, &seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            replay_segment(&segment_path(dir, seg), last, &opts, &mut stats, &mut each)?;
            stats.segments += 1;
        }
        let after_checkpoint = done.map_or(0, |n| n + 1);
        let segment = segments.last().copied().unwrap_or(after_checkpoint);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, segment))?;
        let size = file.metadata()?.len();
        if segments.is_empty() {
            sync_dir(dir)?;
        }
        let wal = Wal {
            dir: dir.to_owned(),
            opts,
            file: Arc::new(file),
            segment,
            size,
            written: 0,
            buf: Vec::new(),
            fsyncs: 0,
            dirty: false,
            last_sync: Instant::now(),
            poisoned: false,
        };
        Ok((wal, stats))
    }

    /// Appends records `(kind, payload)` as one write; durable as the policy says.
    pub fn log(&mut self, records: &[(u8, &[u8])]) -> Result<(), StorageError> {
        let (segment, before) = (self.segment, self.size);
        self.write(records)?;
        let synced = match self.opts.sync {
            SyncPolicy::EveryBatch => self.sync(),
            SyncPolicy::Interval(_) => self.sync_if_due(),
        };
        if synced.is_err() {
            let start = if self.segment == segment { before } else { 0 };
            self.poison((self.segment, start));
        }
        synced
    }

    /// Appends records `(kind, payload)` as one write, not synced (see
    /// [`Self::sync_target`]); returns the write's sequence number.
    pub fn write(&mut self, records: &[(u8, &[u8])]) -> Result<u64, StorageError> {
        if self.poisoned {
            return Err(StorageError::Corrupt(
                "WAL poisoned by an earlier failed write".into(),
            ));
        }
        let max = self.opts.max_record_bytes as usize;
        if let Some((_, big)) = records.iter().find(|r| r.1.len() > max) {
            return Err(StorageError::Limit(format!(
                "WAL record of {} bytes over the {max}-byte limit",
                big.len()
            )));
        }
        // the headers are framed into `buf`; the payloads are written from where they
        // are (one `writev`), not copied after them
        let mut headers = std::mem::take(&mut self.buf);
        headers.clear();
        for &(kind, payload) in records {
            headers.extend_from_slice(&header(kind, payload));
        }
        let mut slices = Vec::with_capacity(records.len() * 2);
        for (h, r) in headers.chunks_exact(HEADER).zip(records) {
            slices.extend([IoSlice::new(h), IoSlice::new(r.1)]);
        }
        let written = self.write_slices(&mut slices);
        drop(slices);
        self.buf = headers;
        written
    }

    fn write_slices(&mut self, slices: &mut [IoSlice<'_>]) -> Result<u64, StorageError> {
        let len: usize = slices.iter().map(|s| s.len()).sum();
        if self.size > 0 && self.size + len as u64 > self.opts.segment_bytes {
            self.roll()?;
        }
        if let Err(e) = write_all_vectored(&self.file, slices) {
            self.poisoned = self.file.set_len(self.size).is_err();
            return Err(e.into());
        }
        self.size += len as u64;
        self.dirty = true;
        self.written += 1;
        Ok(self.written)
    }

    /// What a group-commit leader syncs to make every write so far durable (earlier
    /// segments were synced when the next was started).
    pub fn sync_target(&self) -> SyncTarget {
        SyncTarget {
            file: self.file.clone(),
            upto: self.written,
            segment: self.segment,
            size: self.size,
        }
    }

    /// After a failed sync, what reached the disk is unknown (Linux may drop the dirty
    /// pages): refuse every later write and cut the open segment back to `durable`
    /// (`(segment, size)`), so refused batches do not replay either.
    pub fn poison(&mut self, durable: (u64, u64)) {
        self.poisoned = true;
        let keep = if durable.0 == self.segment {
            durable.1
        } else {
            0
        };
        if keep < self.size && self.file.set_len(keep).is_ok() {
            self.size = keep;
        }
    }

    /// Fsyncs this WAL ran itself (not those of group-commit leaders).
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs
    }

    /// Syncs unsynced appends.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        if self.dirty {
            self.fsyncs += 1;
            self.file.sync_data()?;
            self.dirty = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Under `Interval(d)`, syncs when the last sync is `d` old (the store calls this
    /// from a timer as well as on append).
    pub fn sync_if_due(&mut self) -> Result<(), StorageError> {
        let d = match self.opts.sync {
            SyncPolicy::Interval(d) => d,
            SyncPolicy::EveryBatch => Duration::ZERO,
        };
        if self.last_sync.elapsed() >= d {
            self.sync()?;
        }
        Ok(())
    }

    /// Bytes in all segments and checkpoints (a file deleted meanwhile counts 0).
    pub fn disk_bytes(&self) -> Result<u64, StorageError> {
        let mut total = 0;
        for entry in fs::read_dir(&self.dir)? {
            match entry?.metadata() {
                Ok(m) => total += m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(total)
    }

    /// The directory of the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings the WAL runs with.
    pub fn options(&self) -> &WalOptions {
        &self.opts
    }

    /// Starts a new segment unless the current one is empty; returns the current
    /// segment's number: every segment before it is closed and may be checkpointed.
    pub fn cut(&mut self) -> Result<u64, StorageError> {
        if self.size > 0 {
            self.roll()?;
        }
        Ok(self.segment)
    }

    /// Deletes every segment numbered below `n` (their records are no longer needed);
    /// returns how many.
    pub fn remove_segments_before(&self, n: u64) -> Result<u64, StorageError> {
        let old: Vec<u64> = list_segments(&self.dir)?
            .into_iter()
            .filter(|&s| s < n.min(self.segment))
            .collect();
        for &s in &old {
            fs::remove_file(segment_path(&self.dir, s))?;
        }
        if !old.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(old.len() as u64)
    }

    fn roll(&mut self) -> Result<(), StorageError> {
        self.fsyncs += 1;
        self.file.sync_data()?;
        self.segment += 1;
        let path = segment_path(&self.dir, self.segment);
        self.file = Arc::new(OpenOptions::new().create(true).append(true).open(path)?);
        sync_dir(&self.dir)?;
        self.size = 0;
        self.dirty = false;
        Ok(())
    }
}

/// A TSDB record from its frame (a bad one is corruption).
fn decode(kind: u8, payload: &[u8]) -> Result<Record, StorageError> {
    record::decode(kind, payload).map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&header(kind, payload));
    out.extend_from_slice(payload);
}

/// A frame's header: the kind, the payload's length, the CRC-32 of both.
fn header(kind: u8, payload: &[u8]) -> [u8; HEADER] {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[kind]);
    crc.update(payload);
    let mut h = [0; HEADER];
    h[0] = kind;
    h[1..5].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    h[5..].copy_from_slice(&crc.finalize().to_le_bytes());
    h
}

/// Writes every byte of `slices` (`Write::write_all_vectored` is not stable yet).
fn write_all_vectored(mut file: &File, mut slices: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// The segment numbers in `dir`, ascending; other files are ignored.
fn list_segments(dir: &Path) -> Result<Vec<u64>, StorageError> {
    let mut segs = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.len() == 8 && name.bytes().all(|c| c.is_ascii_digit()) {
            segs.push(name.parse().expect("eight digits"));
        }
    }
    segs.sort_unstable();
    Ok(segs)
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
#[path = "wal_tests.rs"]
mod tests;
