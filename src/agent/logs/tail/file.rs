//! One open log file: positioned reads from where the tailer left it, cut into complete
//! '\n'-terminated lines with a byte cap, and the checks that tell a truncated or
//! rewritten file (copytruncate) from one that only grew.
//!
//! Each read fills a fresh buffer that is then frozen: a line that lies whole inside
//! one read is handed on as a slice of it (`Bytes`, no copy); only a line split across
//! reads, or cut at the cap, is copied together. The buffer is read into uninitialised
//! (`rustix::buffer::spare_capacity`): zeroing it first was 1.6 % of the agent's CPU
//! at full speed.

use super::{RawLine, TailStats};
use crate::agent::logs::checkpoint::{FileId, Fingerprint, Probe};
use bytes::Bytes;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub(super) struct TailFile {
    file: File,
    pub id: FileId,
    /// The fingerprint of the first bytes as last read: kept up to date while reading
    /// (`id` is only re-keyed in the store at `sync`), so a truncation, or the copy made
    /// before it, is recognised even if no `sync` ran in between.
    pub head_fp: Fingerprint,
    /// Bytes of the file consumed so far (complete lines plus `pending`).
    pub read_pos: u64,
    /// The start of the line being read, capped at the line limit.
    pending: Vec<u8>,
    /// The true length of the line being read (more than `pending` once capped).
    pending_len: u64,
    /// True while the stream's live path (`N.log`) names this file.
    pub live: bool,
    /// When the file stopped being live (rotated away or deleted): the hold clock.
    pub gone_since: Option<Instant>,
    /// Set by `poll` when the file looks truncated; it is not read until `sync` has dealt
    /// with it (the checkpoint store must be told).
    pub suspect: bool,
}

/// What one read of a file found.
pub(super) struct Read {
    pub bytes: u64,
    pub eof: bool,
}

impl TailFile {
    pub fn new(file: File, id: FileId, start: u64) -> Self {
        TailFile {
            file,
            id,
            head_fp: id.fingerprint,
            read_pos: start,
            pending: Vec::new(),
            pending_len: 0,
            live: true,
            gone_since: None,
            suspect: false,
        }
    }

    /// The offset just after the last complete line handed out.
    pub fn committed(&self) -> u64 {
        self.read_pos - self.pending_len
    }

    /// True while a line has been read in part (no '\n' yet).
    pub fn mid_line(&self) -> bool {
        self.pending_len > 0
    }

    pub fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    pub fn probe(&self) -> io::Result<Probe> {
        Probe::of_file(&self.file)
    }

    /// True when the file is deleted (no name left on disk).
    pub fn is_unlinked(&self) -> bool {
        self.file.metadata().is_ok_and(|m| m.nlink() == 0)
    }

    pub fn same_inode(&self, probe: &Probe) -> bool {
        self.id.dev == probe.dev && self.id.ino == probe.ino
    }

    /// True when the file is shorter than what was read, or no longer begins with the
    /// bytes it was identified by: truncated and perhaps written again up to or past the
    /// old offset (copytruncate). An empty fingerprint proves nothing. The first-bytes
    /// check costs a read, so `poll` (`thorough` false) makes it only when there is new
    /// data to read, which is when reading it as a continuation would go wrong.
    pub fn looks_truncated(&self, thorough: bool) -> io::Result<bool> {
        let size = self.size()?;
        if size < self.read_pos {
            return Ok(true);
        }
        if (size == self.read_pos && !thorough) || self.head_fp.covered_len() == 0 {
            return Ok(false);
        }
        Ok(!self.head_fp.is_prefix_of(&self.probe()?.head))
    }

    /// True when `probe` begins with the bytes this file began with: a copy of it.
    pub fn is_copied_as(&self, probe: &Probe) -> bool {
        self.head_fp.covered_len() > 0 && self.head_fp.is_prefix_of(&probe.head)
    }

    /// True when `probe` is shorter than the first bytes this file is identified by and
    /// begins like this file: perhaps its copy still being written (logrotate, like
    /// `std::fs::copy`, creates the copy, then fills it), which [`TailFile::is_copied_as`]
    /// will recognise once whole.
    pub fn may_be_copying_to(&self, probe: &Probe) -> bool {
        let len = probe.head.len();
        if len >= self.head_fp.covered_len() {
            return false;
        }
        let mut head = vec![0; len];
        self.file.read_exact_at(&mut head, 0).is_ok() && head == probe.head
    }

    /// Extends a short `head_fp` over what has been read since.
    fn refresh_head(&mut self) {
        if self.head_fp.is_partial() && self.read_pos > self.head_fp.covered_len() as u64 {
            if let Ok(p) = self.probe() {
                if self.head_fp.is_prefix_of(&p.head) {
                    self.head_fp = Fingerprint::of(&p.head);
                }
            }
        }
    }

    /// Starts the file again at 0 (after a truncation); the partial line is dropped (its
    /// bytes are read again from the copy, if any).
    pub fn restart(&mut self, id: FileId) {
        self.id = id;
        self.head_fp = id.fingerprint;
        self.read_pos = 0;
        self.pending.clear();
        self.pending_len = 0;
        self.suspect = false;
    }

    /// Reads up to `budget` bytes (at most `ctx.read_size` per read) into complete
    /// lines appended to `out`.
    pub fn read(
        &mut self,
        budget: usize,
        ctx: &LineCtx<'_>,
        out: &mut Vec<RawLine>,
        stats: &mut TailStats,
    ) -> io::Result<Read> {
        let mut read = Read {
            bytes: 0,
            eof: false,
        };
        while (read.bytes as usize) < budget {
            let want = (budget - read.bytes as usize).min(ctx.read_size.max(1));
            let mut chunk = Vec::with_capacity(want);
            let room = rustix::buffer::spare_capacity(&mut chunk);
            let n = match rustix::io::pread(&self.file, room, self.read_pos) {
                Ok(0) => {
                    read.eof = true;
                    break;
                }
                Ok(n) => n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            };
            self.split_lines(Bytes::from(chunk), ctx, out, stats);
            read.bytes += n as u64;
        }
        stats.bytes_read += read.bytes;
        self.refresh_head();
        Ok(read)
    }

    fn split_lines(
        &mut self,
        chunk: Bytes,
        ctx: &LineCtx<'_>,
        out: &mut Vec<RawLine>,
        stats: &mut TailStats,
    ) {
        let mut start = 0;
        while start < chunk.len() {
            let (end, complete) = match memchr::memchr(b'\n', &chunk[start..]) {
                Some(i) => (start + i + 1, true),
                None => (chunk.len(), false),
            };
            self.read_pos += (end - start) as u64;
            if complete && self.pending_len == 0 && end - start <= ctx.max_line_bytes {
                self.hand_on(chunk.slice(start..end), false, ctx, out, stats);
            } else {
                self.push_pending(&chunk[start..end], ctx.max_line_bytes);
                if complete {
                    self.emit(ctx, out, stats);
                }
            }
            start = end;
        }
    }

    /// Keeps at most `cap` bytes of a line; the rest is skipped (and counted on emit).
    fn push_pending(&mut self, piece: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.pending.len());
        self.pending
            .extend_from_slice(&piece[..piece.len().min(room)]);
        self.pending_len += piece.len() as u64;
    }

    /// Hands out the line read so far (complete, or the last one of a drained file).
    pub fn emit(&mut self, ctx: &LineCtx<'_>, out: &mut Vec<RawLine>, stats: &mut TailStats) {
        if self.pending_len == 0 {
            return;
        }
        let truncated = self.pending_len > self.pending.len() as u64;
        let bytes = Bytes::from(std::mem::take(&mut self.pending));
        self.pending_len = 0;
        self.hand_on(bytes, truncated, ctx, out, stats);
    }

    /// Appends one line ending at `read_pos`.
    fn hand_on(
        &mut self,
        bytes: Bytes,
        truncated: bool,
        ctx: &LineCtx<'_>,
        out: &mut Vec<RawLine>,
        stats: &mut TailStats,
    ) {
        if truncated {
            stats.lines_over_cap += 1;
        }
        stats.lines_read += 1;
        out.push(RawLine {
            file: self.id,
            path: ctx.path.clone(),
            offset_end: self.read_pos,
            bytes,
            truncated,
        });
    }
}

/// What every line read from one stream carries.
pub(super) struct LineCtx<'a> {
    pub path: &'a Arc<Path>,
    pub max_line_bytes: usize,
    /// The most one read asks for.
    pub read_size: usize,
}
