//! The records of one batch, back to back in one buffer: one allocation per batch
//! instead of one `Vec` per record (per log line), which malloc and free made a tenth of
//! the agent's CPU when shipping at full speed (BENCHMARKS.md). The processor writes
//! each record straight into the open batch's buffer ([`Records::write`]).

use serde::{Deserialize, Serialize};

/// Records in order; record `i` is `data[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Records {
    pub fn new() -> Self {
        Records::default()
    }

    /// Empty, with room for `bytes` of records (grown by doubling instead, a batch's
    /// records were copied again and again).
    pub fn with_capacity(bytes: usize) -> Self {
        Records {
            data: Vec::with_capacity(bytes),
            ends: Vec::new(),
        }
    }

    /// Gives back the room not used (a cut batch waits in the buffer, whose limit
    /// counts bytes, not capacity). Shrinking in place does not copy.
    pub fn shrink_to_fit(&mut self) {
        self.data.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Appends one record.
    pub fn push(&mut self, record: &[u8]) {
        self.write(|out| out.extend_from_slice(record));
    }

    /// Appends one record written by `write` (it only appends to the buffer it gets).
    pub fn write(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.data);
        self.ends.push(self.data.len());
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Payload bytes of all records.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.data[start..end])
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("an index below len"))
    }

    /// Takes the last record out into a records of its own with room for `capacity`
    /// bytes (a record that did not fit in its batch starts the next one, which then
    /// grows without copying itself again and again).
    pub fn split_off_last(&mut self, capacity: usize) -> Records {
        let mut last = Records::with_capacity(capacity);
        if let Some(end) = self.ends.pop() {
            let start = self.ends.last().copied().unwrap_or(0);
            debug_assert_eq!(end, self.data.len());
            last.push(&self.data[start..end]);
            self.data.truncate(start);
        }
        last
    }
}

impl<R: AsRef<[u8]>> FromIterator<R> for Records {
    fn from_iter<I: IntoIterator<Item = R>>(iter: I) -> Self {
        let mut records = Records::new();
        for r in iter {
            records.push(r.as_ref());
        }
        records
    }
}

impl From<Vec<Vec<u8>>> for Records {
    fn from(records: Vec<Vec<u8>>) -> Self {
        records.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_records_in_order_with_empty_ones() {
        let r: Records = [&b"ab"[..], b"", b"cde"].into_iter().collect();
        assert_eq!((r.len(), r.bytes()), (3, 5));
        assert_eq!(r.iter().collect::<Vec<_>>(), [&b"ab"[..], b"", b"cde"]);
        assert_eq!(r.get(3), None);
    }

    #[test]
    fn the_last_record_splits_off_whole() {
        let mut r: Records = [&b"ab"[..], b"cde"].into_iter().collect();
        let last = r.split_off_last(4096);
        assert!(last.data.capacity() >= 4096, "room for the next batch");
        assert_eq!(last.iter().collect::<Vec<_>>(), [&b"cde"[..]]);
        assert_eq!(r.iter().collect::<Vec<_>>(), [&b"ab"[..]]);
        r.write(|out| out.extend_from_slice(b"x"));
        assert_eq!(r.iter().collect::<Vec<_>>(), [&b"ab"[..], b"x"]);
        assert!(Records::new().split_off_last(0).is_empty());
    }
}
