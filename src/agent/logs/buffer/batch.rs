//! What the buffer carries: a [`Batch`] of opaque records (already encoded events) and
//! the [`AckToken`] that says which input the batch covers, so that the caller can move
//! its checkpoints once the batch is safe. The buffer never looks inside either.

use super::records::Records;
use crate::agent::logs::checkpoint::FileId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a batch covers, handed back to the caller once the batch is acknowledged or
/// durable. Tokens of consecutive batches are merged ([`AckToken::merge`]), so a later
/// token must dominate an earlier one for the same input (offsets only grow).
///
/// Serialized with serde (JSON) into the spool, so a spooled batch keeps its token.
pub trait AckToken: Clone + Default + Send + Serialize + DeserializeOwned + 'static {
    /// What one record covers (its input position): added to its batch's token without
    /// building a token per record.
    type Part: Copy;

    /// Folds the token of a later record or batch into this one.
    fn merge(&mut self, later: Self);

    /// Folds a later record's part into this token.
    fn add(&mut self, part: Self::Part);
}

/// The token the log pipeline uses: for each file a batch touches, the offset just past
/// the last byte it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffsets(pub Vec<(FileId, u64)>);

impl AckToken for FileOffsets {
    type Part = (FileId, u64);

    fn merge(&mut self, later: Self) {
        for part in later.0 {
            self.add(part);
        }
    }

    /// A batch touches few files, so a linear search beats a map here; the last file
    /// touched is the likeliest, so it is looked at first.
    fn add(&mut self, (id, end): (FileId, u64)) {
        let known = match self.0.last_mut() {
            Some(last) if last.0 == id => Some(last),
            _ => self.0.iter_mut().find(|(known, _)| *known == id),
        };
        match known {
            Some((_, offset)) => *offset = (*offset).max(end),
            None => self.0.push((id, end)),
        }
    }
}

/// A sequence number as token (tests, and callers with one totally ordered input).
impl AckToken for u64 {
    type Part = u64;

    fn merge(&mut self, later: Self) {
        *self = (*self).max(later);
    }

    fn add(&mut self, part: u64) {
        self.merge(part);
    }
}

/// Records cut together; never split (a record larger than a limit is a batch alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch<T> {
    pub records: Records,
    pub token: T,
}

impl<T> Batch<T> {
    pub fn new(records: impl Into<Records>, token: T) -> Self {
        Batch {
            records: records.into(),
            token,
        }
    }

    /// Payload bytes: what the memory and byte limits count.
    pub fn bytes(&self) -> usize {
        self.records.bytes()
    }

    pub fn events(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::checkpoint::Fingerprint;

    fn file(ino: u64) -> FileId {
        FileId {
            dev: 1,
            ino,
            fingerprint: Fingerprint::of(b"x"),
        }
    }

    #[test]
    fn file_offsets_keep_the_furthest_offset_per_file() {
        let mut token = FileOffsets(vec![(file(1), 10), (file(2), 5)]);
        token.merge(FileOffsets(vec![(file(2), 9), (file(3), 1), (file(1), 4)]));
        let expected = vec![(file(1), 10), (file(2), 9), (file(3), 1)];
        assert_eq!(token, FileOffsets(expected));
    }

    #[test]
    fn counts_payload_bytes_and_events() {
        let batch = Batch::new(vec![b"ab".to_vec(), b"cde".to_vec()], 0u64);
        assert_eq!((batch.bytes(), batch.events()), (5, 2));
    }
}
