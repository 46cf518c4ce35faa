//! Reassembly of partial lines into whole messages, one file at a time.
//!
//! Runtimes split long lines (containerd at 16 KiB by default, docker at 16 KiB) into
//! partial pieces (CRI `P`, docker `log` without `'\n'`) ended by a final piece. Pieces
//! are joined per stream: stdout and stderr each have their own held buffer and are
//! never mixed (Fluent Bit #4387 mixed them).
//!
//! The size cap (`max_bytes`, default 1 MiB) applies to the merged message, after the
//! pieces are joined (Vector #19767 applied it per piece, before the merge, so long
//! lines vanished or grew without bound). A message longer than the cap keeps its first
//! `max_bytes` bytes, cut back to a character boundary when it is UTF-8, and ends with
//! the marker ` [truncated N bytes]`, where N counts every byte cut off; it is counted
//! and never dropped. Pieces after the cut are discarded (and counted) until the final
//! piece ends the message, so a held buffer never exceeds `max_bytes`. (Vector's marker
//! is `..TRUNCATED` inside the cap; ours says how much was lost, and sits after it.)
//!
//! A message takes the timestamp of its first piece, as Vector's partial merger does
//! (it keeps the first event and appends the later messages to it): the time the
//! application began writing the line.
//!
//! A partial with no final piece yet is held; the caller asks [`Reassembler::pending`]
//! and calls [`Reassembler::flush`] when its file ends for good, or
//! [`Reassembler::flush_held_before`] once a stream has held a partial longer than the
//! partial-flush timeout ([`Reassembler::oldest_held`] says when the oldest began); both
//! emit it marked incomplete and counted, each stream on its own. Messages are text: invalid UTF-8 is replaced
//! (`String::from_utf8_lossy`) and counted, so the cap counts raw bytes and a message of
//! garbage may grow by replacement characters.

use super::decode::{Decoded, Stream};
use std::borrow::Cow;
use std::time::Instant;

/// The default cap on a merged message's bytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The longest truncation marker: ` [truncated N bytes]` with a 20-digit N.
pub const MARKER_MAX_LEN: usize = " [truncated  bytes]".len() + 20;

/// Counters a `/metrics` exporter reads (a snapshot: rates are the reader's business).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReassembleStats {
    /// Decoded lines pushed (every piece, partial or final).
    pub lines: u64,
    /// Of those, partial pieces.
    pub partial_pieces: u64,
    /// Messages emitted (whole, truncated or flushed incomplete).
    pub messages: u64,
    /// Messages cut at the cap.
    pub truncated_messages: u64,
    /// Bytes cut off those messages.
    pub truncated_bytes: u64,
    /// Messages whose bytes were not UTF-8 and were converted lossily.
    pub invalid_utf8: u64,
    /// Messages emitted by `flush` before their final piece arrived.
    pub flushed_incomplete: u64,
}

/// One whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Nanoseconds since the epoch of the message's first piece.
    pub timestamp_nanos: i64,
    pub stream: Stream,
    /// Borrowed from the line when it was one valid UTF-8 piece under the cap.
    pub text: Cow<'a, str>,
    /// Bytes cut off at the cap (0 when whole); the text then ends with the marker.
    pub truncated_bytes: u64,
    /// False when `flush` emitted it before its final piece.
    pub complete: bool,
}

/// A message being joined on one stream.
#[derive(Debug, Default)]
struct Held {
    active: bool,
    /// When the first piece was pushed (monotonic): the partial-flush timeout's start.
    since: Option<Instant>,
    first_nanos: i64,
    buf: Vec<u8>,
    /// The cap was hit: later pieces are discarded and `dropped` counts them.
    truncated: bool,
    dropped: u64,
}

/// Joins one file's partial lines; see the module header for the policy.
#[derive(Debug)]
pub struct Reassembler {
    max_bytes: usize,
    stdout: Held,
    stderr: Held,
    stats: ReassembleStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(DEFAULT_MAX_MESSAGE_BYTES)
    }
}

impl Reassembler {
    pub fn new(max_bytes: usize) -> Self {
        Reassembler {
            max_bytes,
            stdout: Held::default(),
            stderr: Held::default(),
            stats: ReassembleStats::default(),
        }
    }

    /// Takes the next decoded line of the file; returns a message when one is complete.
    pub fn push<'a>(&mut self, line: Decoded<'a>) -> Option<Message<'a>> {
        self.stats.lines += 1;
        self.stats.partial_pieces += u64::from(line.partial);
        let max = self.max_bytes;
        let held = self.held_mut(line.stream);
        if !held.active && !line.partial && line.message.len() <= max {
            // The usual line: whole and small. Borrowed through, no copy.
            self.stats.messages += 1;
            return Some(Message {
                timestamp_nanos: line.timestamp.nanos,
                stream: line.stream,
                text: to_text(line.message, &mut self.stats.invalid_utf8),
                truncated_bytes: 0,
                complete: true,
            });
        }
        held.append(line.timestamp.nanos, &line.message, max);
        if line.partial {
            return None;
        }
        Some(self.finish(line.stream, true))
    }

    /// Whether a partial message is held, waiting for its final piece.
    pub fn pending(&self) -> bool {
        self.stdout.active || self.stderr.active
    }

    /// Emits the held partial messages as they are (incomplete, counted), oldest first.
    pub fn flush(&mut self) -> Vec<Message<'static>> {
        self.flush_held_before(None)
    }

    /// When the oldest partial still held began (pushed), if one is held.
    pub fn oldest_held(&self) -> Option<Instant> {
        [&self.stdout, &self.stderr]
            .iter()
            .filter(|h| h.active)
            .filter_map(|h| h.since)
            .min()
    }

    /// Emits, incomplete and counted, the partials held since before `cutoff` (every
    /// held one when `None`), oldest first; a stream held since later keeps its pieces.
    pub fn flush_held_before(&mut self, cutoff: Option<Instant>) -> Vec<Message<'static>> {
        let mut out = Vec::new();
        for stream in [Stream::Stdout, Stream::Stderr] {
            let held = self.held_mut(stream);
            let due = match (cutoff, held.since) {
                (Some(cutoff), Some(since)) => since < cutoff,
                _ => true,
            };
            if held.active && due {
                out.push(self.finish(stream, false));
            }
        }
        out.sort_by_key(|m| m.timestamp_nanos);
        out
    }

    pub fn stats(&self) -> ReassembleStats {
        self.stats
    }

    /// Bytes allocated for held messages, both streams: at most `max_bytes` each.
    pub fn held_capacity(&self) -> usize {
        self.stdout.buf.capacity() + self.stderr.buf.capacity()
    }

    fn held_mut(&mut self, stream: Stream) -> &mut Held {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    /// Turns the stream's held bytes into a message and resets the stream.
    fn finish(&mut self, stream: Stream, complete: bool) -> Message<'static> {
        let held = std::mem::take(self.held_mut(stream));
        let stats = &mut self.stats;
        let mut text = to_text(Cow::Owned(held.buf), &mut stats.invalid_utf8).into_owned();
        if held.truncated {
            let marker = format!(" [truncated {} bytes]", held.dropped);
            text.reserve_exact(marker.len());
            text.push_str(&marker);
            stats.truncated_messages += 1;
            stats.truncated_bytes += held.dropped;
        }
        stats.messages += 1;
        stats.flushed_incomplete += u64::from(!complete);
        Message {
            timestamp_nanos: held.first_nanos,
            stream,
            text: Cow::Owned(text),
            truncated_bytes: held.dropped,
            complete,
        }
    }
}

impl Held {
    /// Adds a piece, keeping at most `max` bytes and counting the rest.
    fn append(&mut self, nanos: i64, piece: &[u8], max: usize) {
        if !self.active {
            self.active = true;
            self.since = Some(Instant::now());
            self.first_nanos = nanos;
        }
        if self.truncated {
            self.dropped += piece.len() as u64;
            return;
        }
        let room = max - self.buf.len();
        let keep = piece.len().min(room);
        grow_within(&mut self.buf, keep, max);
        self.buf.extend_from_slice(&piece[..keep]);
        if keep < piece.len() {
            let cut = char_boundary(&self.buf, piece[keep]);
            self.dropped = (self.buf.len() - cut + piece.len() - keep) as u64;
            self.buf.truncate(cut);
            self.truncated = true;
        }
    }
}

/// Reserves room for `n` more bytes, doubling as `Vec` does but never past `max`, so a
/// held buffer's allocation stays within the cap.
fn grow_within(buf: &mut Vec<u8>, n: usize, max: usize) {
    let need = buf.len() + n;
    if need > buf.capacity() {
        let want = (buf.capacity() * 2).clamp(need, max.max(need));
        buf.reserve_exact(want - buf.len());
    }
}

/// Where to cut `buf` (whose next byte would have been `next`) so that a UTF-8
/// character is not split: back over at most 3 continuation bytes. Bytes that are not
/// UTF-8 are cut where they are.
fn char_boundary(buf: &[u8], next: u8) -> usize {
    let is_continuation = |b: u8| b & 0xC0 == 0x80;
    let byte_at = |i: usize| if i < buf.len() { buf[i] } else { next };
    let mut cut = buf.len();
    while cut > 0 && buf.len() - cut < 3 && is_continuation(byte_at(cut)) {
        cut -= 1;
    }
    if is_continuation(byte_at(cut)) {
        buf.len()
    } else {
        cut
    }
}

/// Message bytes as text, borrowed when they are UTF-8; invalid UTF-8 is replaced and
/// counted. Valid text (the usual case) takes one SIMD validation pass (`simdutf8`: std's
/// `from_utf8` here was 3.5 % of the agent's CPU at full speed, simdutf8 is 1 %), much
/// faster than `from_utf8_lossy`'s chunk walk on long lines.
fn to_text<'a>(bytes: Cow<'a, [u8]>, invalid: &mut u64) -> Cow<'a, str> {
    let text = match bytes {
        Cow::Borrowed(b) => match simdutf8::basic::from_utf8(b) {
            Ok(s) => return Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        },
        Cow::Owned(v) => match simdutf8::basic::from_utf8(&v) {
            // SAFETY: `v` was just checked to be UTF-8 (simdutf8); std's check again
            // here was 2.7 % of the agent's CPU, joined P pieces being long messages.
            Ok(_) => return Cow::Owned(unsafe { String::from_utf8_unchecked(v) }),
            Err(_) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        },
    };
    // from_utf8_lossy borrows exactly when the bytes were valid.
    *invalid += u64::from(matches!(text, Cow::Owned(_)));
    text
}

#[cfg(test)]
mod tests;
