//! The spool's files: segment and acks file names, the start-up scan of a segment, and
//! reading one checked record at an offset.

use super::super::record::{self, RecordError, FRAME_HEADER, SEGMENT_MAGIC};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// `segment-<id>.acks` beside `segment-<id>.spool`.
pub(super) fn acks_path(segment: &Path) -> PathBuf {
    segment.with_extension("acks")
}

/// Indexes listed in a segment's acks file (a torn last index is ignored).
pub(super) fn read_acks(segment: &Path, records: u64) -> HashSet<u64> {
    let bytes = fs::read(acks_path(segment)).unwrap_or_default();
    let index = |c: &[u8]| u64::from(u32::from_le_bytes(c.try_into().expect("4 bytes")));
    bytes
        .chunks_exact(4)
        .map(index)
        .filter(|i| *i < records)
        .collect()
}

/// `segment-00000000000000000042.spool`.
pub(super) fn segment_name(id: u64) -> String {
    format!("segment-{id:020}.spool")
}

pub(super) fn segment_id(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("segment-")?.strip_suffix(".spool")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segment files in `dir`, oldest first.
pub(super) fn segment_files(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(id) = entry.file_name().to_str().and_then(segment_id) {
            found.push((id, entry.path()));
        }
    }
    found.sort_unstable();
    Ok(found)
}

pub(super) struct Scan {
    pub len: u64,
    pub records: u64,
    pub end: u64,
    /// The bad record and how many bytes from it to the end are skipped.
    pub torn: Option<(RecordError, u64)>,
}

/// Walks a segment's records. `Err` when the file is not a segment at all.
pub(super) fn scan_segment(path: &Path) -> Result<Scan, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut magic = [0u8; SEGMENT_MAGIC.len()];
    let have = (len as usize).min(magic.len());
    file.read_exact_at(&mut magic[..have], 0)
        .map_err(|e| e.to_string())?;
    if magic[..have] != SEGMENT_MAGIC[..have] {
        return Err("the file does not start with the spool segment magic".into());
    }
    let mut scan = Scan {
        len,
        records: 0,
        end: have as u64,
        torn: None,
    };
    while scan.end < len {
        match read_record_from(&file, scan.end, len) {
            Ok((_, used)) => (scan.records, scan.end) = (scan.records + 1, scan.end + used),
            Err(error) => {
                scan.torn = Some((error, len - scan.end));
                break;
            }
        }
    }
    Ok(scan)
}

/// The checked body of the record at `offset` and its framed length.
pub(super) fn read_record(
    path: &Path,
    offset: u64,
    end: u64,
) -> Result<(Vec<u8>, u64), RecordError> {
    let file = File::open(path).map_err(|e| RecordError::Body(e.to_string()))?;
    read_record_from(&file, offset, end)
}

pub(super) fn read_record_from(
    file: &File,
    offset: u64,
    end: u64,
) -> Result<(Vec<u8>, u64), RecordError> {
    let have = (end - offset) as usize;
    let mut head = [0u8; FRAME_HEADER];
    if have < FRAME_HEADER {
        return Err(RecordError::Torn {
            have,
            need: FRAME_HEADER,
        });
    }
    file.read_exact_at(&mut head, offset)
        .map_err(|e| RecordError::Body(e.to_string()))?;
    let (len, crc) = record::header(&head)?;
    if have < FRAME_HEADER + len {
        return Err(RecordError::Torn {
            have,
            need: FRAME_HEADER + len,
        });
    }
    let mut body = vec![0u8; len];
    let at = offset + FRAME_HEADER as u64;
    file.read_exact_at(&mut body, at)
        .map_err(|e| RecordError::Body(e.to_string()))?;
    record::check(&body, crc)?;
    Ok((body, (FRAME_HEADER + len) as u64))
}
