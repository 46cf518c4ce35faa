//! The log store's WAL record, as pure functions over bytes: one per push, holding the
//! entries the store accepted. It carries a sequence number (the order pushes were
//! applied in) so replay can skip what chunks on disk already hold, then each stream's
//! labels and entries (time as a zig-zag delta from the previous, line, metadata),
//! streams until the payload ends.

use crate::aggregator::model::logs::{LogEntry, PushStream};
use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::record::{
    put_str, put_uvarint, unzigzag, zigzag, Cursor, RecordError,
};

/// The WAL record kind of a push.
pub const KIND_PUSH: u8 = 16;

/// A push as logged: its sequence number and accepted entries by stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecord {
    pub seq: u64,
    pub streams: Vec<PushStream>,
}

/// About the bytes of `push`'s record were every entry accepted: its lines and
/// metadata plus a few bytes an entry, and its labels.
pub fn size_hint(push: &[PushStream]) -> usize {
    let pair = |n: &str, v: &str| n.len() + v.len() + 2;
    push.iter()
        .map(|ps| {
            let entries: usize = ps
                .entries
                .iter()
                .map(|e| {
                    e.line.len() + 16 + e.metadata.iter().map(|(n, v)| pair(n, v)).sum::<usize>()
                })
                .sum();
            entries + ps.labels.iter().map(|(n, v)| pair(n, v)).sum::<usize>() + 2 + COUNT_BYTES
        })
        .sum::<usize>()
        + 10
}

/// Bytes of a stream's entry count in a record written by [`RecordWriter`]: a varint
/// padded to five bytes (0x80 continuation bytes, as LEB128 allows), so the count can
/// be written in place once the stream's entries follow it, and entries are not copied
/// after their header. Any varint reader reads it. Five bytes count up to 2^35 entries;
/// a push holds far fewer (each entry takes three bytes or more of the record).
const COUNT_BYTES: usize = 5;

/// Builds a push record entry by entry, as the store accepts them.
pub struct RecordWriter {
    out: Vec<u8>,
    /// Where the current stream starts, and where its entry count goes.
    stream_at: usize,
    count_at: usize,
    n: u64,
    prev: i64,
    streams: usize,
}

impl RecordWriter {
    pub fn new(seq: u64) -> Self {
        Self::with_capacity(seq, 0)
    }

    /// A writer whose buffer holds `bytes` before it grows (see [`size_hint`]), so a
    /// big push is not copied over and over as its record grows.
    pub fn with_capacity(seq: u64, bytes: usize) -> Self {
        let mut out = Vec::with_capacity(bytes);
        put_uvarint(&mut out, seq);
        RecordWriter {
            out,
            stream_at: 0,
            count_at: 0,
            n: 0,
            prev: 0,
            streams: 0,
        }
    }

    /// Starts a stream: its labels, and room for its entry count.
    pub fn begin_stream(&mut self, labels: &Labels) {
        self.stream_at = self.out.len();
        put_uvarint(&mut self.out, labels.len() as u64);
        for (n, v) in labels.iter() {
            put_str(&mut self.out, n);
            put_str(&mut self.out, v);
        }
        self.count_at = self.out.len();
        self.out.extend_from_slice(&[0; COUNT_BYTES]);
        (self.n, self.prev) = (0, 0);
    }

    /// Adds an entry of the current stream.
    pub fn entry(&mut self, e: &LogEntry) {
        put_uvarint(&mut self.out, zigzag(e.ts.wrapping_sub(self.prev)));
        self.prev = e.ts;
        put_str(&mut self.out, &e.line);
        put_uvarint(&mut self.out, e.metadata.len() as u64);
        for (n, v) in &e.metadata {
            put_str(&mut self.out, n);
            put_str(&mut self.out, v);
        }
        self.n += 1;
    }

    /// Ends the current stream: its count written in, or the stream taken out again
    /// when it got no entry.
    pub fn end_stream(&mut self) {
        if self.n == 0 {
            self.out.truncate(self.stream_at);
            return;
        }
        debug_assert!(self.n < 1 << (7 * COUNT_BYTES), "{} entries", self.n);
        let count = &mut self.out[self.count_at..self.count_at + COUNT_BYTES];
        for (i, b) in count.iter_mut().enumerate() {
            let more = if i + 1 < COUNT_BYTES { 0x80 } else { 0 };
            *b = (self.n >> (7 * i)) as u8 & 0x7f | more;
        }
        self.streams += 1;
    }

    /// The record's payload, or `None` when no stream got an entry.
    pub fn finish(self) -> Option<Vec<u8>> {
        (self.streams > 0).then_some(self.out)
    }
}

/// Encodes a whole push at once (replay tests, tools).
pub fn encode(seq: u64, streams: &[(&Labels, &[LogEntry])]) -> Option<Vec<u8>> {
    let mut w = RecordWriter::new(seq);
    for (labels, entries) in streams {
        w.begin_stream(labels);
        entries.iter().for_each(|e| w.entry(e));
        w.end_stream();
    }
    w.finish()
}

pub fn decode(payload: &[u8]) -> Result<PushRecord, RecordError> {
    let mut c = Cursor::new(payload);
    let seq = c.uvarint()?;
    let mut streams = Vec::new();
    while c.left() > 0 {
        let labels = Labels::new(pairs(&mut c)?);
        let count = c.count()?;
        let mut entries = Vec::with_capacity(count);
        let mut prev = 0i64;
        for _ in 0..count {
            let ts = prev.wrapping_add(unzigzag(c.uvarint()?));
            prev = ts;
            let line = c.string()?;
            entries.push(LogEntry {
                ts,
                line,
                metadata: pairs(&mut c)?,
            });
        }
        streams.push(PushStream { labels, entries });
    }
    Ok(PushRecord { seq, streams })
}

fn pairs(c: &mut Cursor) -> Result<Vec<(String, String)>, RecordError> {
    let n = c.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push((c.string()?, c.string()?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Labels, Vec<LogEntry>) {
        let labels = Labels::from_pairs(&[("app", "x"), ("ns", "ü")]);
        let entries = vec![
            LogEntry {
                ts: 10,
                line: "a".into(),
                metadata: vec![("t".into(), "1".into())],
            },
            LogEntry {
                ts: -5,
                line: "".into(),
                metadata: vec![],
            },
        ];
        (labels, entries)
    }

    #[test]
    fn round_trips() {
        let (labels, entries) = sample();
        let buf = encode(7, &[(&labels, &entries), (&Labels::default(), &[])]).unwrap();
        let got = decode(&buf).unwrap();
        assert_eq!(got.seq, 7);
        assert_eq!(got.streams, vec![PushStream { labels, entries }]);
        assert_eq!(encode(8, &[(&Labels::default(), &[])]), None);
    }

    #[test]
    fn counts_of_every_size_and_empty_streams_between_round_trip() {
        let (labels, entries) = sample();
        let many: Vec<LogEntry> = (0..20_000)
            .map(|i| LogEntry {
                ts: i,
                line: format!("{i}"),
                metadata: vec![],
            })
            .collect();
        for n in [1, 127, 128, 16_383, 16_384, 20_000] {
            let streams = [
                (&labels, &entries[..]),
                (&Labels::default(), &[][..]),
                (&labels, &many[..n]),
            ];
            let got = decode(&encode(3, &streams).unwrap()).unwrap();
            let want: Vec<PushStream> = [&streams[0], &streams[2]]
                .iter()
                .map(|(l, e)| PushStream {
                    labels: (*l).clone(),
                    entries: e.to_vec(),
                })
                .collect();
            assert_eq!(got.streams, want, "{n}");
        }
    }

    #[test]
    fn the_size_hint_covers_the_record() {
        let (labels, mut entries) = sample();
        entries[1].ts = i64::MIN; // the widest time delta
        entries[1].line = "x".repeat(300); // a two-byte length
        let buf = encode(u64::MAX, &[(&labels, &entries)]).unwrap();
        let push = [PushStream { labels, entries }];
        assert!(
            size_hint(&push) >= buf.len(),
            "{} < {}",
            size_hint(&push),
            buf.len()
        );
    }

    #[test]
    fn truncations_and_garbage_are_errors() {
        let (labels, entries) = sample();
        let buf = encode(1, &[(&labels, &entries)]).unwrap();
        for cut in 0..buf.len() {
            // Cut at the boundary after the sequence number: a record of no streams.
            assert!(cut == 1 || decode(&buf[..cut]).is_err(), "cut {cut}");
        }
        assert!(decode(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
