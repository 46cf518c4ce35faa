//! The payloads of WAL records, as pure functions over bytes: a series record (ref →
//! labels, for series first seen in a batch) and a samples record (ref, t, v). Integers
//! are LEB128 varints; a sample's timestamp is a zig-zag delta from the record's first;
//! values are 8 raw little-endian bytes (NaN payloads, the stale marker, -0.0 exact).

use crate::aggregator::model::Labels;

pub const KIND_SERIES: u8 = 1;
pub const KIND_SAMPLES: u8 = 2;

/// A sample of the series with numeric ref `r`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    pub r: u64,
    pub t: i64,
    pub v: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<RefSample>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record ends early at byte {0}")]
    Short(usize),
    #[error("record varint too long at byte {0}")]
    Varint(usize),
    #[error("record label is not UTF-8 at byte {0}")]
    Utf8(usize),
    #[error("unknown record kind {0}")]
    Kind(u8),
    #[error("{0} trailing bytes after the record")]
    Trailing(usize),
}

pub fn encode_series(series: &[(u64, &Labels)], out: &mut Vec<u8>) {
    put_uvarint(out, series.len() as u64);
    for (r, labels) in series {
        put_uvarint(out, *r);
        put_uvarint(out, labels.len() as u64);
        for (n, v) in labels.iter() {
            put_str(out, n);
            put_str(out, v);
        }
    }
}

pub fn encode_samples(samples: &[RefSample], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    let base = samples.first().map_or(0, |s| s.t);
    put_uvarint(out, zigzag(base));
    for s in samples {
        put_uvarint(out, s.r);
        put_uvarint(out, zigzag(s.t.wrapping_sub(base)));
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

pub fn decode(kind: u8, payload: &[u8]) -> Result<Record, RecordError> {
    let mut c = Cursor { b: payload, at: 0 };
    let rec = match kind {
        KIND_SERIES => Record::Series(decode_series(&mut c)?),
        KIND_SAMPLES => Record::Samples(decode_samples(&mut c)?),
        k => return Err(RecordError::Kind(k)),
    };
    match payload.len() - c.at {
        0 => Ok(rec),
        n => Err(RecordError::Trailing(n)),
    }
}

fn decode_series(c: &mut Cursor) -> Result<Vec<(u64, Labels)>, RecordError> {
    let n = c.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = c.uvarint()?;
        let pairs = c.count()?;
        let mut labels = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            labels.push((c.string()?, c.string()?));
        }
        out.push((r, Labels::new(labels)));
    }
    Ok(out)
}

fn decode_samples(c: &mut Cursor) -> Result<Vec<RefSample>, RecordError> {
    let n = c.count()?;
    let base = unzigzag(c.uvarint()?);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = c.uvarint()?;
        let t = base.wrapping_add(unzigzag(c.uvarint()?));
        let v = f64::from_bits(u64::from_le_bytes(c.take(8)?.try_into().expect("8 bytes")));
        out.push(RefSample { r, t, v });
    }
    Ok(out)
}

pub(crate) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// The bytes [`put_uvarint`] writes for `x`: seven bits a byte, 0 in one byte
/// (`(bits * 9 + 64) / 64` is `bits` divided by 7 rounded up, for 1 to 64 bits,
/// without a division).
#[inline]
pub(crate) fn uvarint_len(x: u64) -> usize {
    let bits = 64 - (x | 1).leading_zeros() as usize;
    (bits * 9 + 64) / 64
}

pub fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A reader of the varint encoding (the log store's records and chunks use it too).
pub(crate) struct Cursor<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor { b, at: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn left(&self) -> usize {
        self.b.len() - self.at
    }

    /// A varint; one of one or two bytes (most are) is read inline.
    #[inline]
    pub(crate) fn uvarint(&mut self) -> Result<u64, RecordError> {
        match self.b.get(self.at..self.at + 2) {
            Some(&[b, _]) if b < 0x80 => {
                self.at += 1;
                Ok(u64::from(b))
            }
            Some(&[b, c]) if c < 0x80 => {
                self.at += 2;
                Ok(u64::from(b & 0x7f) | u64::from(c) << 7)
            }
            _ => self.uvarint_long(),
        }
    }

    fn uvarint_long(&mut self) -> Result<u64, RecordError> {
        let start = self.at;
        let mut x = 0u64;
        for i in 0..10 {
            let b = *self.b.get(self.at).ok_or(RecordError::Short(self.at))?;
            self.at += 1;
            if i == 9 && b > 1 {
                break;
            }
            x |= ((b & 0x7f) as u64) << (7 * i);
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(RecordError::Varint(start))
    }

    /// A count of items that follow: each takes at least one byte, so a count beyond
    /// the bytes left is corrupt (and never sizes an allocation).
    pub(crate) fn count(&mut self) -> Result<usize, RecordError> {
        let n = self.uvarint()?;
        let left = (self.b.len() - self.at) as u64;
        if n > left {
            return Err(RecordError::Short(self.at));
        }
        Ok(n as usize)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or(RecordError::Short(self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub(crate) fn string(&mut self) -> Result<String, RecordError> {
        let at = self.at;
        let n = self.uvarint()?;
        let bytes = self.take(usize::try_from(n).map_err(|_| RecordError::Short(at))?)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| RecordError::Utf8(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::model::STALE_NAN_BITS;

    #[test]
    fn uvarint_len_is_what_put_uvarint_writes() {
        let mut xs: Vec<u64> = (0..64).flat_map(|b| [1u64 << b, (1u64 << b) - 1]).collect();
        xs.extend([0, u64::MAX, 127, 128, 16_383, 16_384]);
        for x in xs {
            let mut out = Vec::new();
            put_uvarint(&mut out, x);
            assert_eq!(uvarint_len(x), out.len(), "{x}");
        }
    }

    #[test]
    fn records_round_trip() {
        let a = Labels::from_pairs(&[("__name__", "up"), ("job", "ö")]);
        let mut buf = Vec::new();
        encode_series(&[(7, &a), (1 << 40, &Labels::default())], &mut buf);
        let want = Record::Series(vec![(7, a), (1 << 40, Labels::default())]);
        assert_eq!(decode(KIND_SERIES, &buf).unwrap(), want);
        let samples = vec![
            RefSample {
                r: 7,
                t: i64::MAX,
                v: f64::from_bits(STALE_NAN_BITS),
            },
            RefSample {
                r: 0,
                t: i64::MIN,
                v: -0.0,
            },
        ];
        let mut buf = Vec::new();
        encode_samples(&samples, &mut buf);
        let Record::Samples(got) = decode(KIND_SAMPLES, &buf).unwrap() else {
            panic!()
        };
        let bits = |s: &[RefSample]| {
            s.iter()
                .map(|s| (s.r, s.t, s.v.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&got), bits(&samples));
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        encode_series(&[(1, &Labels::from_pairs(&[("a", "b")]))], &mut buf);
        for cut in 0..buf.len() {
            assert!(decode(KIND_SERIES, &buf[..cut]).is_err(), "cut {cut}");
        }
        assert_eq!(decode(9, &buf), Err(RecordError::Kind(9)));
        assert!(decode(KIND_SAMPLES, &[0xff; 20]).is_err());
        assert!(decode(KIND_SERIES, &[1, 1, 1, 1, 0xff, 0]).is_err());
    }
}
