//! Tailing: owns the open log files and reads new complete lines from them, in order per
//! container stream, only when asked ([`Tailer::poll`] with a byte budget), so a slow sink
//! slows reading without loss and reading resumes as soon as it is asked again.
//!
//! A *stream* is one container instance's log: the live file `…/<container>/<N>.log` and
//! the files rotated away from it (`N.log.<timestamp>`). [`Tailer::sync`] reconciles the
//! open files with what discovery found; [`Tailer::poll`] reads. The rules:
//!
//! - **Identity** is the checkpoint store's ([`FileId`]: dev + inode + first bytes). While
//!   a file is open its inode cannot be reused, so open files are matched by dev/inode;
//!   files met again on disk are matched by full identity (Fluent Bit #4895).
//! - **Rename rotation** (kubelet: `0.log` ─▶ `0.log.<ts>`, then a new `0.log`): the live
//!   path now names another inode. The old file stays open (same fd) and is read to its
//!   end, then the new one from 0. A rotated sibling never seen before, in a stream already
//!   followed, was rotated before the reader caught up (double rotation while the sink is
//!   slow, Loki #14462): it is read from 0, oldest first (kubelet's by name, Docker's
//!   `.k` under cri-dockerd highest first), before the live file.
//! - **Copytruncate**: the file is shorter than what was read, or begins with other bytes.
//!   Counted, the checkpoint is `reset`, the file restarts at 0. If a rotated sibling begins
//!   with the file's old first bytes it is the copy: it is read from where the reader was,
//!   so lines not yet read before the truncation are read from it, exactly once.
//! - **Closing**: a file that is no longer live is closed once read to its end and either a
//!   newer file exists in its stream or it was deleted. One that cannot be drained is held
//!   at most `max_hold`, then let go and its unread bytes counted (Vector #18863).
//!   The close is told to the store first thing at the next sync, or at the stop
//!   ([`Tailer::finish`]): its inode may already be a new file's ([`report`]).
//! - **Stream end**: a stream discovery no longer lists (its files deleted: container
//!   removed, pod deleted) is dropped once every file of it is closed, or at once if
//!   it was parked; [`Tailer::take_ended`] tells which, so what is kept per stream
//!   downstream can go too ([`report`]).
//! - **Open-file budget** (`max_open_files`): streams beyond it wait parked, no file
//!   open, and take turns with the open ones; none is skipped ([`park`]).
//! - **Start offsets**: the checkpoint store's acknowledged offset (`resolve`, then `get`).
//!   Files met for the first time start at 0, except files already present at the first
//!   `sync` with no checkpoint, which follow [`StartAt`]; rotated files present then with
//!   no checkpoint are history and are not read.

mod file;
#[cfg(test)]
mod model_tests;
mod park;
mod report;
mod sync;
#[cfg(test)]
mod tests;

use crate::agent::logs::checkpoint::{FileId, Probe};
use bytes::Bytes;
use file::{LineCtx, TailFile};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a live file already present at the agent's first start, with no checkpoint,
/// is read from. Files created later are always read from their start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Beginning,
    End,
}

#[derive(Debug, Clone)]
pub struct TailConfig {
    pub start_at: StartAt,
    /// Raw line bound (bytes, without the '\n'): longer lines are truncated to it, the rest
    /// skipped, and counted. This is a safety bound on memory only; the message cap is
    /// applied after partial-line merge by the reassembler (PITFALLS 5, Vector #19767), so
    /// this one should be well above it (e.g. 4× the message cap): a CRI line is one
    /// runtime-split fragment (16 KiB in containerd) plus its prefix.
    pub max_line_bytes: usize,
    /// How long a rotated-away or deleted file that cannot be drained is kept open.
    pub max_hold: Duration,
    /// The most one read of a file asks for (each read fills a fresh buffer whose
    /// lines are handed on as slices of it).
    pub read_buf_bytes: usize,
    /// Most files held open at once; streams beyond it wait parked and take turns
    /// ([`park`]).
    pub max_open_files: usize,
}

impl Default for TailConfig {
    fn default() -> Self {
        TailConfig {
            start_at: StartAt::Beginning,
            max_line_bytes: 256 * 1024,
            max_hold: Duration::from_secs(60),
            read_buf_bytes: 64 * 1024,
            max_open_files: 1024,
        }
    }
}

/// One line as read from a file, before decoding; or, with no bytes, the mark that its
/// file ended for good ([`RawLine::end_of_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// The file the line was read from (acknowledge `offset_end` against it).
    pub file: FileId,
    /// The stream's live path (`<pods_dir>/<ns>_<pod>_<uid>/<container>/<N>.log`), also for
    /// lines read from a rotated file: it is what names the pod and container.
    pub path: Arc<Path>,
    /// The offset just after this line: the checkpoint once it is acknowledged.
    pub offset_end: u64,
    /// The line with its '\n' (absent only on the last line of a drained file), at most
    /// `max_line_bytes` bytes: usually a slice of the read that found it.
    pub bytes: Bytes,
    /// The line was longer than `max_line_bytes` and was cut.
    pub truncated: bool,
}

impl RawLine {
    /// The mark that `file` ended for good (drained after rotation, deleted, or let go)
    /// after its last line, at `offset_end`: no line of it follows, so a partial line
    /// its stream still holds will never be completed (the processor flushes it). A read
    /// line is never empty (it has at least its '\n' or one byte), so no bytes says it.
    pub fn end_of_file(file: FileId, path: Arc<Path>, offset_end: u64) -> Self {
        RawLine {
            file,
            path,
            offset_end,
            bytes: Bytes::new(),
            truncated: false,
        }
    }

    /// True for the mark made by [`RawLine::end_of_file`].
    pub fn is_end_of_file(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TailStats {
    /// Files open now (a gauge).
    pub files_open: u64,
    pub bytes_read: u64,
    pub lines_read: u64,
    /// Copytruncate (or rewrite) detected: the file restarted at 0.
    pub truncations: u64,
    /// Live files that were renamed or replaced (rename rotation).
    pub rotations: u64,
    pub lines_over_cap: u64,
    /// Rotated or deleted files closed before they were read to their end (`max_hold`).
    pub files_let_go: u64,
    /// The bytes those files still had unread.
    pub bytes_let_go: u64,
    /// Files that could not be opened, probed or read.
    pub io_errors: u64,
    /// Streams waiting for a file slot now, no file open (a gauge).
    pub streams_parked: u64,
    /// Times a stream was parked (`max_open_files` reached).
    pub parks: u64,
}

/// Where the tailer reads the time (a fake in tests).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// One container stream: its files in reading order, the live one (if any) last.
struct Stream {
    path: Arc<Path>,
    files: VecDeque<TailFile>,
    /// Rotated files still on disk that were read to their end or skipped as history.
    done: HashSet<FileId>,
}

pub struct Tailer {
    config: TailConfig,
    clock: Clock,
    streams: BTreeMap<Arc<Path>, Stream>,
    /// Streams waiting for a file slot (`max_open_files`).
    parked: park::ParkLot,
    synced_once: bool,
    /// The checkpoints were empty at the first sync: the agent's first start on this
    /// node. Only then are files met at the first sync, in streams never followed,
    /// `StartAt` files (rotated ones history); after a restart they are new.
    first_start: bool,
    /// Files closed since the last `sync`, to be marked gone in the checkpoint store,
    /// with their first bytes as they were at the close (see `report_closed`).
    closed: Vec<(FileId, Option<Probe>)>,
    /// Streams let go of for good since [`Tailer::take_ended`] was last asked: every
    /// line and end-of-file mark of them was handed out before ([`report`]).
    ended: Vec<Arc<Path>>,
    /// Round-robin start, so every stream gets read under a small budget.
    next: usize,
    stats: TailStats,
}

impl Tailer {
    pub fn new(config: TailConfig) -> Self {
        Self::with_clock(config, Arc::new(Instant::now))
    }

    pub fn with_clock(config: TailConfig, clock: Clock) -> Self {
        Tailer {
            config,
            clock,
            streams: BTreeMap::new(),
            parked: park::ParkLot::default(),
            synced_once: false,
            first_start: true,
            closed: Vec::new(),
            ended: Vec::new(),
            next: 0,
            stats: TailStats::default(),
        }
    }

    pub fn stats(&self) -> TailStats {
        TailStats {
            files_open: self.open_files() as u64,
            streams_parked: self.parked.len() as u64,
            ..self.stats.clone()
        }
    }

    /// Reads at most about `budget_bytes` (whole reads; lines may end past it) from the
    /// streams, round robin, appending complete lines to `out`. Returns the bytes read.
    pub fn poll(&mut self, budget_bytes: usize, out: &mut Vec<RawLine>) -> u64 {
        self.let_go_expired(out);
        let keys: Vec<Arc<Path>> = self.streams.keys().cloned().collect();
        if keys.is_empty() || budget_bytes == 0 {
            return 0;
        }
        let share = (budget_bytes / keys.len()).max(budget_bytes.min(4096));
        let start = self.next % keys.len();
        self.next = self.next.wrapping_add(1);
        let mut left = budget_bytes;
        for key in keys.iter().cycle().skip(start).take(keys.len()) {
            if left == 0 {
                break;
            }
            let read = self.read_stream(key, share.min(left), out);
            left -= (read as usize).min(left);
        }
        (budget_bytes - left) as u64
    }

    /// Reads one stream's files in order: a drained, closable file makes way for the next.
    fn read_stream(&mut self, key: &Arc<Path>, budget: usize, out: &mut Vec<RawLine>) -> u64 {
        let Some(stream) = self.streams.get_mut(key) else {
            return 0;
        };
        let ctx = LineCtx {
            path: &stream.path,
            max_line_bytes: self.config.max_line_bytes,
            read_size: self.config.read_buf_bytes,
        };
        let mut total = 0;
        loop {
            let more = stream.files.len() > 1;
            let Some(f) = stream.files.front_mut() else {
                break;
            };
            if f.suspect || total as usize >= budget {
                break;
            }
            if f.looks_truncated(false).unwrap_or(false) {
                f.suspect = true; // sync resets the checkpoint and restarts it
                break;
            }
            let read = match f.read(budget - total as usize, &ctx, out, &mut self.stats) {
                Ok(read) => read,
                Err(_) => {
                    self.stats.io_errors += 1;
                    break;
                }
            };
            total += read.bytes;
            let closable = !f.live && (more || f.is_unlinked());
            if !(read.eof && closable) {
                break;
            }
            let mut f = stream.files.pop_front().expect("front exists");
            f.emit(&ctx, out, &mut self.stats);
            out.push(RawLine::end_of_file(f.id, stream.path.clone(), f.read_pos));
            let probe = f.probe().ok();
            if let Some(p) = &probe {
                stream.done.insert(p.id());
            }
            self.closed.push((f.id, probe));
            tracing::debug!(path = %stream.path.display(), ino = f.id.ino, at = f.read_pos, "A drained log file was closed.");
        }
        total
    }

    /// Closes files that have not been live for longer than `max_hold`, counting what
    /// they still had unread, and marks their end in `out`.
    fn let_go_expired(&mut self, out: &mut Vec<RawLine>) {
        let now = (self.clock)();
        let max_hold = self.config.max_hold;
        for stream in self.streams.values_mut() {
            let (stats, closed) = (&mut self.stats, &mut self.closed);
            let Stream { files, done, path } = stream;
            files.retain(|f| {
                let expired = f
                    .gone_since
                    .is_some_and(|t| now.saturating_duration_since(t) >= max_hold);
                if expired {
                    let unread = f.size().unwrap_or(0).saturating_sub(f.committed());
                    if unread > 0 {
                        stats.files_let_go += 1;
                        stats.bytes_let_go += unread;
                    }
                }
                if expired {
                    let probe = f.probe().ok();
                    if let Some(p) = &probe {
                        done.insert(p.id());
                    }
                    out.push(RawLine::end_of_file(f.id, path.clone(), f.committed()));
                    closed.push((f.id, probe));
                }
                !expired
            });
        }
    }
}
