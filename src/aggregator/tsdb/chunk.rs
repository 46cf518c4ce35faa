//! Prometheus's XOR chunk (the Gorilla scheme), bit for bit as `tsdb/chunkenc/xor.go`
//! lays it out: the sample count (u16, big-endian), the first timestamp as a varint and
//! the first value as 64 raw bits, the second timestamp's delta as a uvarint, then
//! delta-of-delta timestamps in buckets (0 / 14 / 17 / 20 / 64 bits) and XOR'd values
//! that reuse the previous leading/trailing-zero window when it fits. Values are kept as
//! bits, so NaNs (the stale marker included), ±Inf and -0.0 round-trip exactly;
//! timestamp arithmetic wraps as Go's does, so any deltas round-trip.

use super::bstream::{BitReader, BitWriter, ChunkError};
use crate::aggregator::model::Sample;

/// Prometheus cuts a head chunk at this many samples.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// "No leading-zero window yet" (Prometheus's `0xff`).
const NO_WINDOW: u8 = 0xff;

/// Appends samples to one chunk; the bytes are a valid chunk after every append.
#[derive(Debug, Clone)]
pub struct XorEncoder {
    w: BitWriter,
    num: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
}

impl Default for XorEncoder {
    fn default() -> Self {
        XorEncoder {
            w: BitWriter::with_bytes(vec![0, 0]),
            num: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }
}

impl XorEncoder {
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// The newest sample, if any.
    pub fn last(&self) -> Option<Sample> {
        (self.num > 0).then(|| Sample {
            t: self.t,
            v: f64::from_bits(self.v),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    pub fn into_bytes(mut self) -> Vec<u8> {
        self.w.shrink_to_fit();
        self.w.into_bytes()
    }

    /// Appends a sample; false (nothing written) when the u16 count is exhausted.
    pub fn append(&mut self, t: i64, v: f64) -> bool {
        if self.num == u16::MAX {
            return false;
        }
        let bits = v.to_bits();
        match self.num {
            0 => {
                self.w.write_varint(t);
                self.w.write_bits(bits, 64);
            }
            1 => {
                let delta = t.wrapping_sub(self.t);
                self.w.write_uvarint(delta as u64);
                self.write_value(bits);
                self.t_delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.t);
                self.write_dod(delta.wrapping_sub(self.t_delta));
                self.write_value(bits);
                self.t_delta = delta;
            }
        }
        self.t = t;
        self.v = bits;
        self.num += 1;
        self.w.bytes_mut()[..2].copy_from_slice(&self.num.to_be_bytes());
        true
    }

    fn write_dod(&mut self, dod: i64) {
        match dod {
            0 => self.w.write_bit(false),
            _ if in_bucket(dod, 14) => self.write_bucket(0b10, 2, dod, 14),
            _ if in_bucket(dod, 17) => self.write_bucket(0b110, 3, dod, 17),
            _ if in_bucket(dod, 20) => self.write_bucket(0b1110, 4, dod, 20),
            _ => self.write_bucket(0b1111, 4, dod, 64),
        }
    }

    fn write_bucket(&mut self, prefix: u64, prefix_bits: u32, dod: i64, bits: u32) {
        self.w.write_bits(prefix, prefix_bits);
        self.w.write_bits(dod as u64, bits);
    }

    fn write_value(&mut self, bits: u64) {
        let delta = bits ^ self.v;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let leading = (delta.leading_zeros() as u8).min(31);
        let trailing = delta.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            self.w.write_bit(false);
            let sig = 64 - self.leading as u32 - self.trailing as u32;
            self.w.write_bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        self.w.write_bit(true);
        self.w.write_bits(leading as u64, 5);
        let sig = 64 - leading as u32 - trailing as u32;
        self.w.write_bits(sig as u64, 6); // 64 is written as 0
        self.w.write_bits(delta >> trailing, sig);
    }
}

/// Whether `dod` fits Prometheus's `bitRange(dod, bits)` (asymmetric, as in Go).
fn in_bucket(dod: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    -(half - 1) <= dod && dod <= half
}

/// Decodes a chunk's samples in order.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
    failed: bool,
}

impl<'a> XorIter<'a> {
    pub fn new(chunk: &'a [u8]) -> Result<Self, ChunkError> {
        if chunk.len() < 2 {
            return Err(ChunkError::ShortHeader(chunk.len()));
        }
        Ok(XorIter {
            r: BitReader::new(&chunk[2..]),
            total: u16::from_be_bytes([chunk[0], chunk[1]]),
            read: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        })
    }

    /// The sample count from the header.
    pub fn len(&self) -> u16 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The next sample, `None` after the last.
    pub fn next_sample(&mut self) -> Result<Option<Sample>, ChunkError> {
        if self.read == self.total {
            return Ok(None);
        }
        match self.read {
            0 => {
                self.t = self.r.read_varint()?;
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.t_delta = self.r.read_uvarint()? as i64;
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
            _ => {
                self.t_delta = self.t_delta.wrapping_add(self.read_dod()?);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
        }
        self.read += 1;
        Ok(Some(Sample {
            t: self.t,
            v: f64::from_bits(self.v),
        }))
    }

    /// Advances to the first sample at or after `t` and returns it.
    pub fn seek(&mut self, t: i64) -> Result<Option<Sample>, ChunkError> {
        while let Some(s) = self.next_sample()? {
            if s.t >= t {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    fn read_dod(&mut self) -> Result<i64, ChunkError> {
        let mut prefix = 0u8;
        for _ in 0..4 {
            prefix <<= 1;
            if !self.r.read_bit()? {
                break;
            }
            prefix |= 1;
        }
        let bits = match prefix {
            0b0 => return Ok(0),
            0b10 => 14,
            0b110 => 17,
            0b1110 => 20,
            _ => return Ok(self.r.read_bits(64)? as i64),
        };
        let mut dod = self.r.read_bits(bits)? as i64;
        if dod > 1 << (bits - 1) {
            dod -= 1 << bits;
        }
        Ok(dod)
    }

    fn read_value(&mut self) -> Result<(), ChunkError> {
        if !self.r.read_bit()? {
            return Ok(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u8;
            let sig = match self.r.read_bits(6)? as u8 {
                0 => 64,
                n => n,
            };
            // A corrupt window (leading + sig > 64) must not underflow.
            self.trailing = 64u8.saturating_sub(self.leading + sig);
        }
        let sig = 64u32.saturating_sub(self.leading as u32 + self.trailing as u32);
        let delta = self.r.read_bits(sig)?;
        self.v ^= delta.checked_shl(self.trailing as u32).unwrap_or(0);
        Ok(())
    }
}

impl Iterator for XorIter<'_> {
    type Item = Result<Sample, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_sample();
        self.failed = next.is_err();
        next.transpose()
    }
}

#[cfg(test)]
#[path = "chunk_tests.rs"]
mod tests;
