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
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut at = 0;
    while at < bytes.len() {
        match parse_at(&bytes, at, opts) {
            Ok((kind, payload, end)) => {
                each(kind, payload).map_err(|e| match e {
                    StorageError::Corrupt(why) => corrupt(path, at, &why),
                    e => e,
                })?;
                stats.records += 1;
                at = end;
            }
            Err(bad) => return torn_tail(path, &bytes, at, bad, last, stats),
        }
    }
    Ok(())
}

/// A bad record at `at`: a torn tail (truncated away) when it is the last segment's and
/// only zeros follow it; otherwise corruption.
fn torn_tail(
    path: &Path,
    b: &[u8],
    at: usize,
    bad: Bad,
    last: bool,
    stats: &mut ReplayStats,
) -> Result<(), StorageError> {
    let torn = match &bad {
        Bad::Short => true,
        Bad::Wrong(_, end) => b[(*end).min(b.len())..].iter().all(|&x| x == 0),
    };
    if !(last && torn) {
        let why = match bad {
            Bad::Short => "record cut short in a closed segment".to_string(),
            Bad::Wrong(why, _) => why,
        };
        return Err(corrupt(path, at, &why));
    }
    stats.torn_bytes = (b.len() - at) as u64;
    tracing::warn!(path = %path.display(), offset = at, bytes = stats.torn_bytes, "Truncated a torn record at the end of the WAL.");
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(at as u64)?;
    file.sync_all()?;
    Ok(())
}

fn corrupt(path: &Path, at: usize, why: &str) -> StorageError {
    StorageError::Corrupt(format!("WAL {} at byte {at}: {why}", path.display()))
}
