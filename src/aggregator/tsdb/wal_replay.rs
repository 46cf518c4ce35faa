//! WAL replay: reading a segment's records back, and telling a torn tail (truncated
//! away) from corruption (refused).

use super::{ReplayStats, WalOptions, HEADER};
use crate::aggregator::model::StorageError;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

/// Why the record at an offset could not be read.
enum Bad {
    /// Cut short by the end of the file.
    Short,
    /// Wrong; the offset from which only zeros may follow for it to count as torn
    /// (the record's claimed end, or its start when the header itself is wrong).
    Wrong(String, usize),
}

/// Parses the record at `at`: `(kind, payload, end)`.
fn parse_at<'a>(b: &'a [u8], at: usize, opts: &WalOptions) -> Result<(u8, &'a [u8], usize), Bad> {
    let Some(h) = b.get(at..at + HEADER) else {
        return Err(Bad::Short);
    };
    let kind = h[0];
    let len = u32::from_le_bytes(h[1..5].try_into().expect("4 bytes"));
    let want = u32::from_le_bytes(h[5..9].try_into().expect("4 bytes"));
    if len > opts.max_record_bytes || !opts.kinds.contains(&kind) {
        return Err(Bad::Wrong(
            format!("bad header (kind {kind}, length {len})"),
            at,
        ));
    }
    let end = at + HEADER + len as usize;
    let payload = b.get(at + HEADER..end).ok_or(Bad::Short)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[kind]);
    crc.update(payload);
    if crc.finalize() != want {
        return Err(Bad::Wrong("CRC mismatch".into(), end));
    }
    Ok((kind, payload, end))
}

pub(super) fn replay_segment(
    path: &Path,
    last: bool,
    opts: &WalOptions,
    stats: &mut ReplayStats,
    each: &mut impl FnMut(u8, &[u8]) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut file = File::open(path)?;
    let mut window = Window::default();
    loop {
        if window.at == window.buf.len() {
            if window.eof {
                return Ok(());
            }
            window.refill(&mut file)?;
            continue;
        }
        match parse_at(&window.buf, window.at, opts) {
            Ok((kind, payload, end)) => {
                each(kind, payload).map_err(|e| match e {
                    StorageError::Corrupt(why) => corrupt(path, window.offset(), &why),
                    e => e,
                })?;
                stats.records += 1;
                window.at = end;
            }
            Err(Bad::Short) if !window.eof => window.refill(&mut file)?,
            Err(bad) => return torn_tail(path, &mut file, &window, bad, last, stats),
        }
    }
}

/// What replay reads a segment through: the bytes from file offset `base` on, read a
/// piece at a time (a segment is up to 128 MiB: read whole, it was the compactor's
/// biggest allocation), and the record being parsed at `at`.
#[derive(Default)]
struct Window {
    buf: Vec<u8>,
    base: usize,
    at: usize,
    eof: bool,
}

/// Bytes read at a time; a record longer than this is read in several.
const READ_BYTES: usize = 1 << 20;

impl Window {
    /// The file offset of the record being parsed.
    fn offset(&self) -> usize {
        self.base + self.at
    }

    /// Drops the records parsed and reads up to [`READ_BYTES`] more.
    fn refill(&mut self, file: &mut File) -> std::io::Result<()> {
        self.buf.drain(..self.at);
        self.base += self.at;
        self.at = 0;
        let have = self.buf.len();
        self.buf.resize(have + READ_BYTES, 0);
        let mut filled = have;
        while filled < self.buf.len() {
            match file.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }
}

/// Whether the rest of `file` (read on from where the window stopped) is all zeros.
fn rest_is_zeros(file: &mut File) -> std::io::Result<bool> {
    let mut piece = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut piece)?;
        if n == 0 {
            return Ok(true);
        }
        if piece[..n].iter().any(|&x| x != 0) {
            return Ok(false);
        }
    }
}

/// A bad record at the window's offset: a torn tail (truncated away) when it is the
/// last segment's and only zeros follow it; otherwise corruption.
fn torn_tail(
    path: &Path,
    file: &mut File,
    w: &Window,
    bad: Bad,
    last: bool,
    stats: &mut ReplayStats,
) -> Result<(), StorageError> {
    let at = w.offset();
    let torn = match &bad {
        Bad::Short => true,
        Bad::Wrong(_, end) => {
            w.buf[(*end).min(w.buf.len())..].iter().all(|&x| x == 0) && rest_is_zeros(file)?
        }
    };
    if !(last && torn) {
        let why = match bad {
            Bad::Short => "record cut short in a closed segment".to_string(),
            Bad::Wrong(why, _) => why,
        };
        return Err(corrupt(path, at, &why));
    }
    let size = file.metadata()?.len();
    stats.torn_bytes = size - at as u64;
    tracing::warn!(path = %path.display(), offset = at, bytes = stats.torn_bytes, "Truncated a torn record at the end of the WAL.");
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(at as u64)?;
    file.sync_all()?;
    Ok(())
}

fn corrupt(path: &Path, at: usize, why: &str) -> StorageError {
    StorageError::Corrupt(format!("WAL {} at byte {at}: {why}", path.display()))
}
