//! Which file a checkpoint belongs to: device + inode + a fingerprint of the file's
//! first bytes. Device and inode alone are not enough: the kernel hands a deleted file's
//! inode to the next file created, which would then resume at the old file's offset and
//! lose its first lines (Fluent Bit #4895). The first bytes alone are not enough either:
//! many containers write the same first line.
//!
//! A file shorter than [`FINGERPRINT_LEN`] is fingerprinted over what it has so far
//! (an empty file over nothing). Log files only grow at the end, so that shorter
//! fingerprint stays a prefix of every later one: [`Fingerprint::is_prefix_of`] lets
//! the store recognise the grown file and upgrade its fingerprint.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::hash::Hasher;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// How many leading bytes identify a file (Vector's default fingerprint is 256 bytes too).
pub const FINGERPRINT_LEN: usize = 256;

/// A hash of a file's first `len` bytes (`len` ≤ [`FINGERPRINT_LEN`]), and which of
/// the file's contents it names: the `generation` goes up each time the file is found
/// truncated (copytruncate) or rewritten and read again from 0.
///
/// The generation is what keeps a late acknowledgement for the old content (a batch
/// still in flight when the file was truncated) from moving the new content's
/// checkpoint forward: the new content's lines carry another [`FileId`], so the old
/// one's acks find no entry (counted, ignored). First bytes alone cannot tell the two
/// apart when the new content begins like the old (or is shorter than a fingerprint).
/// Prefix checks ([`Fingerprint::is_prefix_of`]) ignore it.
///
/// FNV-1a is used because its output is fixed by its definition, so fingerprints written
/// by one build are still valid in the next (std's `DefaultHasher` makes no such promise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    len: u16,
    hash: u64,
    /// 0 until the file is first restarted; not written when 0 (older files read alike).
    #[serde(default, skip_serializing_if = "is_zero")]
    generation: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Fingerprint {
    /// The fingerprint of a file whose first bytes are `head` (only the first
    /// [`FINGERPRINT_LEN`] count).
    pub fn of(head: &[u8]) -> Self {
        let head = &head[..head.len().min(FINGERPRINT_LEN)];
        let mut h = fnv::FnvHasher::default();
        h.write(head);
        Fingerprint {
            len: head.len() as u16,
            hash: h.finish(),
            generation: 0,
        }
    }

    /// Which content of the file this is (0: the first one seen).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The same first bytes, of the content `generation`.
    pub fn with_generation(self, generation: u32) -> Self {
        Fingerprint { generation, ..self }
    }

    /// The lowest and highest fingerprints, to range over one dev/inode in a sorted map.
    pub(super) fn bounds() -> (Fingerprint, Fingerprint) {
        let lo = Fingerprint {
            len: 0,
            hash: 0,
            generation: 0,
        };
        let hi = Fingerprint {
            len: u16::MAX,
            hash: u64::MAX,
            generation: u32::MAX,
        };
        (lo, hi)
    }

    /// How many leading bytes this fingerprint covers.
    pub fn covered_len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when the file was shorter than [`FINGERPRINT_LEN`] when fingerprinted.
    pub fn is_partial(&self) -> bool {
        self.covered_len() < FINGERPRINT_LEN
    }

    /// True when a file whose first bytes are now `head` is (or grew from) the file this
    /// fingerprint was taken of. A head shorter than this fingerprint means the file
    /// shrank: truncated or replaced, so not the same content.
    pub fn is_prefix_of(&self, head: &[u8]) -> bool {
        if head.len() < self.covered_len() {
            return false;
        }
        let of = Fingerprint::of(&head[..self.covered_len()]);
        (of.len, of.hash) == (self.len, self.hash)
    }
}

/// A file's identity in the checkpoint store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub fingerprint: Fingerprint,
}

/// What the tailer sees of a file right now: where it lives and how it begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub dev: u64,
    pub ino: u64,
    /// The file's first bytes, at most [`FINGERPRINT_LEN`].
    pub head: Vec<u8>,
}

impl Probe {
    /// Probes the file at `path`.
    pub fn read(path: &Path) -> io::Result<Probe> {
        Probe::of_file(&File::open(path)?)
    }

    /// Probes an open file with positioned reads, so a tailer's read position is kept.
    pub fn of_file(file: &File) -> io::Result<Probe> {
        let meta = file.metadata()?;
        let mut head = vec![0; FINGERPRINT_LEN];
        let mut filled = 0;
        while filled < FINGERPRINT_LEN {
            match file.read_at(&mut head[filled..], filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(filled);
        Ok(Probe {
            dev: meta.dev(),
            ino: meta.ino(),
            head,
        })
    }

    /// The identity of the file as probed.
    pub fn id(&self) -> FileId {
        FileId {
            dev: self.dev,
            ino: self.ino,
            fingerprint: Fingerprint::of(&self.head),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_fingerprint_is_a_prefix_of_the_grown_file() {
        let line = b"2024-01-01T00:00:00.000000000Z stdout F hello\n";
        let empty = Fingerprint::of(b"");
        let short = Fingerprint::of(line);
        let grown: Vec<u8> = line.iter().copied().cycle().take(1000).collect();
        assert!(empty.is_partial() && short.is_partial());
        assert!(empty.is_prefix_of(line) && empty.is_prefix_of(&grown));
        assert!(short.is_prefix_of(&grown));
        assert!(!Fingerprint::of(&grown).is_partial());
        assert_eq!(Fingerprint::of(&grown).covered_len(), FINGERPRINT_LEN);
    }

    #[test]
    fn other_or_shorter_content_is_not_the_same_file() {
        let a = Fingerprint::of(b"first file's first line\n");
        assert!(!a.is_prefix_of(b"second file's first line\n"));
        assert!(!a.is_prefix_of(b"first file"));
        assert!(!a.is_prefix_of(b""));
    }

    #[test]
    fn fingerprints_are_stable_across_builds() {
        // FNV-1a 64 of "" and "a": the published test vectors.
        assert_eq!(Fingerprint::of(b"").hash, 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fingerprint::of(b"a").hash, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn probes_a_file_without_moving_its_position() {
        use std::io::{Read, Seek, SeekFrom, Write};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let mut f = File::create(&path).unwrap();
        f.write_all(&[b'x'; 300]).unwrap();
        let mut f = File::open(&path).unwrap();
        f.seek(SeekFrom::Start(10)).unwrap();
        let probe = Probe::of_file(&f).unwrap();
        assert_eq!(probe.head.len(), FINGERPRINT_LEN);
        assert_eq!(probe, Probe::read(&path).unwrap());
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap();
        assert_eq!(rest.len(), 290);
    }
}
