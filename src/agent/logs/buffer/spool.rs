//! The disk spool: while one is configured, every batch the buffer takes, in segment
//! files under `<data_dir>/spool/`, so reading goes on while the sink is down and a
//! crash loses nothing that was read (the buffer's design is in [`super::queue`]).
//!
//! Segments are named `segment-<20-digit id>.spool` (ids only grow, so name order is
//! write order) and hold framed, checksummed records ([`super::record`]). A record is
//! appended and the file fsynced before [`Spool::append`] returns: only then is the
//! batch durable, and only then may the caller's checkpoints move past it. A segment is
//! size-capped (it rolls to a new one when the next record would pass the cap; a record
//! larger than the cap gets a segment alone) and the whole spool is capped: an append
//! that would pass the total cap is refused and the buffer's full policy applies.
//!
//! Records are read back in write order ([`Spool::read_next`]), except those appended
//! `held`: the caller kept that batch in memory and delivers it itself, so it counts as
//! read at once (it is still replayed after a crash until acknowledged).
//!
//! A segment is deleted once every record in it has been read and acknowledged (the
//! open segment once it is also full). Until then each acknowledgement appends the record's index (u32 LE) to `segment-<id>.acks`
//! beside it, so a restart does not deliver an acknowledged batch again. That file is
//! not fsynced: an acknowledgement lost in a power cut means a duplicate, never a loss;
//! a torn last index is ignored. On start every segment is scanned in order: complete
//! records are replayed, except acknowledged ones; the first
//! record that is torn (a crash mid-append) or fails its checksum ends that segment's
//! records and is counted, never a crash. A file that is not a segment at all (wrong
//! magic) is set aside as `<name>.corrupt-<unix time>` as the checkpoint store does
//! (PITFALLS 2). Old segments are never appended to, so nothing is written after a torn
//! tail.
//!
//! The I/O is blocking (an fsync per append, reads, acks-file appends and deletions): the
//! buffer runs it on tokio's blocking pool under the spool's own lock ([`super::handle`]).

use super::batch::{AckToken, Batch};
use super::record::{self, RecordError, SEGMENT_MAGIC};
use crate::agent::logs::checkpoint::durable::{aside_path, sync_dir};
use files::{acks_path, read_acks, read_record, scan_segment, segment_files, segment_name};
use segment::Segment;
use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where and how much to spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The spool directory itself, normally `<data_dir>/spool`.
    pub dir: PathBuf,
    pub max_segment_bytes: u64,
    pub max_total_bytes: u64,
}

impl SpoolConfig {
    /// Segments of this size unless the whole spool is small.
    pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

    /// `<data_dir>/spool`, capped at `max_total_bytes`, in segments of 64 MiB or a
    /// quarter of the cap if that is smaller: space comes back a whole segment at a time
    /// (once every batch in it is acknowledged), so one segment must not be the spool.
    pub fn under(data_dir: &Path, max_total_bytes: u64) -> Self {
        SpoolConfig {
            dir: data_dir.join("spool"),
            max_segment_bytes: Self::DEFAULT_SEGMENT_BYTES.min(max_total_bytes / 4).max(1),
            max_total_bytes,
        }
    }
}

/// What the spool holds and has had to deal with, for `/metrics`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SpoolStats {
    pub segments: u64,
    /// Bytes of all segment files (what the total cap counts).
    pub bytes: u64,
    pub max_bytes_seen: u64,
    /// Batches written and not yet read back.
    pub unread_batches: u64,
    pub spooled_batches: u64,
    /// Batches found in segments at start.
    pub replayed_batches: u64,
    /// Records cut short or failing their checksum (a crash mid-append), and the bytes
    /// from there to the end of their segment, which were skipped.
    pub torn_records: u64,
    pub torn_bytes: u64,
    /// Files in the spool directory that were not segments, set aside.
    pub corrupt_segments: u64,
    /// Records whose checksum matched but which did not decode as a batch.
    pub undecodable_records: u64,
    pub write_errors: u64,
}

/// Where a spooled batch is: what the sink's acknowledgement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolPos {
    pub segment: u64,
    /// The record's index in its segment.
    pub index: u64,
}

/// Why an append did not happen.
#[derive(Debug)]
pub enum AppendError {
    /// The total cap would be passed.
    Full,
    Io(io::Error),
}

pub struct Spool {
    config: SpoolConfig,
    segments: VecDeque<Segment>,
    next_id: u64,
    stats: SpoolStats,
    encoded: Vec<u8>,
}

impl Spool {
    /// Opens the spool directory (creating it) and scans the segments left by an earlier
    /// run; only a directory that cannot be created or listed is an error.
    pub fn open(config: SpoolConfig) -> io::Result<Spool> {
        fs::create_dir_all(&config.dir)?;
        let mut spool = Spool {
            config,
            segments: VecDeque::new(),
            next_id: 0,
            stats: SpoolStats::default(),
            encoded: Vec::new(),
        };
        for (id, path) in segment_files(&spool.config.dir)? {
            spool.next_id = id + 1;
            spool.recover(id, path);
        }
        spool.account();
        Ok(spool)
    }

    pub fn stats(&self) -> &SpoolStats {
        &self.stats
    }

    /// Whether a batch read back is waiting.
    pub fn has_unread(&self) -> bool {
        self.stats.unread_batches > 0
    }

    /// Writes `batch` and fsyncs it; returns where it is. With `held`, the caller keeps
    /// the batch in memory and will deliver it itself: the record counts as read at once
    /// (it is still replayed after a crash until acknowledged). `held` needs nothing
    /// unread before it, or reading would skip older records; it is ignored otherwise.
    pub fn append<T: AckToken>(
        &mut self,
        batch: &Batch<T>,
        held: bool,
    ) -> Result<SpoolPos, AppendError> {
        debug_assert!(
            !held || !self.has_unread(),
            "held append behind unread records"
        );
        let held = held && !self.has_unread();
        self.encoded.clear();
        record::encode(batch, &mut self.encoded);
        let len = self.encoded.len() as u64;
        let roll = !self.writable_for(len);
        if roll {
            self.close_writer();
        }
        let needed = len + if roll { SEGMENT_MAGIC.len() as u64 } else { 0 };
        if self.stats.bytes + needed > self.config.max_total_bytes {
            return Err(AppendError::Full);
        }
        let written = if roll { self.roll() } else { Ok(()) }.and_then(|()| {
            let seg = self.segments.back_mut().expect("a segment to write to");
            seg.append(&self.encoded)
        });
        if let Err(error) = written {
            self.stats.write_errors += 1;
            tracing::warn!(dir = %self.config.dir.display(), %error, "Could not write a batch to the spool.");
            self.remove_done();
            return Err(AppendError::Io(error));
        }
        let seg = self.segments.back_mut().expect("just written");
        let pos = SpoolPos {
            segment: seg.id,
            index: seg.records - 1,
        };
        if held {
            (seg.read, seg.read_offset) = (seg.records, seg.end);
        }
        self.stats.spooled_batches += 1;
        self.account();
        Ok(pos)
    }

    /// The oldest unread batch and where it is. Records acknowledged in an earlier run
    /// are passed over; records that cannot be read back are counted and skipped.
    pub fn read_next<T: AckToken>(&mut self) -> Option<(Batch<T>, SpoolPos)> {
        while self.has_unread() {
            let seg = self.segments.iter_mut().find(|s| s.read < s.records)?;
            let read = read_record(&seg.path, seg.read_offset, seg.end);
            let decoded = read.and_then(|(body, used)| Ok((record::decode_body(&body)?, used)));
            let pos = SpoolPos {
                segment: seg.id,
                index: seg.read,
            };
            match decoded {
                Ok((batch, used)) => {
                    seg.read += 1;
                    seg.read_offset += used;
                    if seg.skip.remove(&pos.index) {
                        seg.acked += 1;
                        self.remove_done();
                        continue;
                    }
                    self.account();
                    return Some((batch, pos));
                }
                Err(error) => self.skip_unreadable(pos.segment, error),
            }
        }
        None
    }

    /// Records that the batch at `pos` was acknowledged; deletes its segment when all
    /// of it is. Returns whether space was freed.
    pub fn ack(&mut self, pos: SpoolPos) -> bool {
        let Some(seg) = self.segments.iter_mut().find(|s| s.id == pos.segment) else {
            return false;
        };
        seg.acked += 1;
        // Also when this completes the segment: the open one is not deleted yet.
        seg.persist_ack(pos.index);
        self.remove_done()
    }

    /// Is the newest segment open and does a record of `len` bytes belong in it?
    fn writable_for(&self, len: u64) -> bool {
        self.segments.back().is_some_and(|s| {
            s.writer.is_some() && (s.records == 0 || s.len + len <= self.config.max_segment_bytes)
        })
    }

    /// Starts a new segment: magic, fsync, and the directory entry made durable.
    fn roll(&mut self) -> io::Result<()> {
        let id = self.next_id;
        let path = self.config.dir.join(segment_name(id));
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        self.next_id += 1;
        // Tracked before the magic is written, so that a failed start is cleaned up.
        self.segments.push_back(Segment::new(id, path));
        file.write_all(SEGMENT_MAGIC)?;
        file.sync_all()?;
        sync_dir(&self.config.dir)?;
        self.segments.back_mut().expect("just pushed").writer = Some(file);
        Ok(())
    }

    fn skip_unreadable(&mut self, id: u64, error: RecordError) {
        let seg = self
            .segments
            .iter_mut()
            .find(|s| s.id == id)
            .expect("segment");
        tracing::warn!(path = %seg.path.display(), %error, "Skipped the rest of a spool segment that no longer reads back.");
        self.stats.undecodable_records += seg.unread();
        seg.records = seg.read;
        seg.skip.clear();
        self.remove_done();
        self.account();
    }

    /// Closes the newest segment for appends (it is full); deletes it if it is done.
    fn close_writer(&mut self) {
        if let Some(last) = self.segments.back_mut() {
            last.writer = None;
        }
        self.remove_done();
    }

    /// Deletes every finished segment except the open one: it stays until it is full, or
    /// a sink that keeps up would cost a new segment (two more fsyncs) per batch. The
    /// acks file goes first: a crash in between replays the segment (duplicates) rather
    /// than leaving an acks file for ever.
    fn remove_done(&mut self) -> bool {
        let before = self.segments.len();
        self.segments.retain(|s| {
            let keep = !s.done() || s.writer.is_some();
            if !keep {
                let _ = fs::remove_file(acks_path(&s.path));
                if let Err(error) = fs::remove_file(&s.path) {
                    tracing::warn!(path = %s.path.display(), %error, "Could not delete an acknowledged spool segment.");
                }
            }
            keep
        });
        self.account();
        self.segments.len() < before
    }

    /// Scans a segment left by an earlier run and keeps it if it has records.
    fn recover(&mut self, id: u64, path: PathBuf) {
        let scan = match scan_segment(&path) {
            Ok(scan) => scan,
            Err(error) => return self.set_aside(&path, &error),
        };
        if let Some((error, torn_bytes)) = &scan.torn {
            tracing::warn!(path = %path.display(), %error, torn_bytes, "Spool segment ends in a torn record; replaying the records before it.");
            self.stats.torn_records += 1;
            self.stats.torn_bytes += torn_bytes;
        }
        let skip = read_acks(&path, scan.records);
        if scan.records == skip.len() as u64 {
            let _ = fs::remove_file(acks_path(&path));
            let _ = fs::remove_file(&path);
            return;
        }
        self.stats.replayed_batches += scan.records - skip.len() as u64;
        let mut seg = Segment::new(id, path);
        (seg.len, seg.records, seg.end, seg.skip) = (scan.len, scan.records, scan.end, skip);
        self.segments.push_back(seg);
    }

    fn set_aside(&mut self, path: &Path, error: &str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = aside_path(path, now);
        self.stats.corrupt_segments += 1;
        match fs::rename(path, &aside) {
            Ok(()) => tracing::error!(path = %path.display(), kept = %aside.display(), %error,
                "Spool file is not a segment; kept it aside."),
            Err(rename_error) => tracing::error!(path = %path.display(), %error, %rename_error,
                "Spool file is not a segment and could not be moved aside; ignoring it."),
        }
    }

    /// Recomputes the gauges from the segments.
    fn account(&mut self) {
        let s = &mut self.stats;
        s.segments = self.segments.len() as u64;
        s.bytes = self.segments.iter().map(|g| g.len).sum();
        s.max_bytes_seen = s.max_bytes_seen.max(s.bytes);
        s.unread_batches = self.segments.iter().map(Segment::unread).sum();
    }
}

mod files;
mod segment;
#[cfg(test)]
mod tests;
