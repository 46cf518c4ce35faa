//! One spool segment as the spool tracks it: its file, its complete records, how far
//! reading and acknowledging have come, and its acks file.

use super::super::record::SEGMENT_MAGIC;
use super::files::acks_path;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

pub(super) struct Segment {
    pub id: u64,
    pub path: PathBuf,
    /// Bytes on disk.
    pub len: u64,
    /// Complete records, where the next one goes (or where reading stops), and how many
    /// have been read (or handed out at append, see [`super::Spool::append`]) and
    /// acknowledged.
    pub records: u64,
    pub end: u64,
    pub read: u64,
    pub read_offset: u64,
    pub acked: u64,
    /// Open for appends: only the newest segment written by this process.
    pub writer: Option<File>,
    /// Indexes acknowledged in an earlier run and not read yet: skipped when read.
    pub skip: HashSet<u64>,
    /// `segment-<id>.acks`, opened at the first acknowledgement.
    acks: Option<File>,
}

impl Segment {
    pub fn new(id: u64, path: PathBuf) -> Self {
        let start = SEGMENT_MAGIC.len() as u64;
        Segment {
            id,
            path,
            len: start,
            records: 0,
            end: start,
            read: 0,
            read_offset: start,
            acked: 0,
            writer: None,
            skip: HashSet::new(),
            acks: None,
        }
    }

    pub fn done(&self) -> bool {
        self.read == self.records && self.acked >= self.records
    }

    pub fn unread(&self) -> u64 {
        self.records - self.read - self.skip.len() as u64
    }

    /// Notes an acknowledgement on disk; failing that, the batch may come again.
    pub fn persist_ack(&mut self, index: u64) {
        if self.acks.is_none() {
            let opened = OpenOptions::new()
                .create(true)
                .append(true)
                .open(acks_path(&self.path));
            self.acks = opened.ok();
        }
        let written = self
            .acks
            .as_mut()
            .map(|f| f.write_all(&(index as u32).to_le_bytes()));
        if let Some(Err(error)) = written {
            tracing::warn!(path = %self.path.display(), %error, "Could not note a spool acknowledgement; the batch may be sent again after a restart.");
        }
    }

    /// Appends an encoded record and fsyncs it. On failure the segment is cut back to its
    /// last complete record and closed for appends (nothing is ever written after a
    /// torn tail).
    pub fn append(&mut self, encoded: &[u8]) -> io::Result<()> {
        let file = self.writer.as_mut().expect("an open segment");
        let written = file.write_all(encoded).and_then(|()| file.sync_data());
        match written {
            Ok(()) => {
                self.len += encoded.len() as u64;
                (self.end, self.records) = (self.len, self.records + 1);
            }
            Err(_) => {
                let _ = file.set_len(self.end);
                self.len = self.end;
                self.writer = None;
            }
        }
        written
    }
}
