//! The bit stream under the XOR chunk: bits written most significant first into bytes,
//! byte for byte as Prometheus's `tsdb/chunkenc/bstream.go` lays them out, and read back with bounds
//! checks (a truncated chunk is an error, never a panic).

/// Why a chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk truncated: needed {needed} more bits at bit {at}")]
    Truncated { at: usize, needed: usize },
    #[error("chunk varint overflows 64 bits at bit {0}")]
    VarintOverflow(usize),
    #[error("chunk header too short ({0} bytes)")]
    ShortHeader(usize),
}

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Unused low bits in the last byte (0: the next bit starts a new byte).
    free: u32,
}

impl BitWriter {
    pub fn with_bytes(bytes: Vec<u8>) -> Self {
        BitWriter { bytes, free: 0 }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn write_bit(&mut self, bit: bool) {
        self.write_bits(bit as u64, 1);
    }

    /// Writes the `n` (≤ 64) low bits of `u`, most significant first: whole bytes as
    /// Prometheus's `writeByte`, the rest as its `writeBit`, so the bytes match its
    /// stream exactly (including the empty byte `writeByte` leaves after it).
    pub fn write_bits(&mut self, u: u64, n: u32) {
        if n == 0 {
            return;
        }
        let mut u = u << (64 - n);
        let mut n = n;
        while n >= 8 {
            self.write_byte((u >> 56) as u8);
            u <<= 8;
            n -= 8;
        }
        if n > 0 {
            self.write_tail_bits(u >> (64 - n), n);
        }
    }

    /// Prometheus's `writeByte`: always ends with a fresh byte holding what did not fit
    /// in the current one, or an empty byte (8 free bits) when it all did.
    fn write_byte(&mut self, byte: u8) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        let last = self.bytes.len() - 1;
        self.bytes[last] |= byte >> (8 - self.free);
        self.bytes.push(byte.checked_shl(self.free).unwrap_or(0));
    }

    /// Up to 7 bits, as Prometheus's `writeBit` writes them one by one.
    fn write_tail_bits(&mut self, u: u64, mut n: u32) {
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let k = n.min(self.free);
            let chunk = (u >> (n - k)) & low_mask(k);
            let last = self.bytes.len() - 1;
            self.bytes[last] |= (chunk << (self.free - k)) as u8;
            self.free -= k;
            n -= k;
        }
    }

    /// Go's `binary.PutUvarint`, bit-aligned like every other write.
    pub fn write_uvarint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.write_bits((x as u8 | 0x80) as u64, 8);
            x >>= 7;
        }
        self.write_bits(x, 8);
    }

    /// Go's `binary.PutVarint` (zig-zag, then uvarint).
    pub fn write_varint(&mut self, x: i64) {
        self.write_uvarint(((x << 1) ^ (x >> 63)) as u64);
    }

    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

fn low_mask(k: u32) -> u64 {
    if k >= 64 {
        u64::MAX
    } else {
        (1u64 << k) - 1
    }
}

/// Reads bits from a byte slice.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next bit's position from the start.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, pos: 0 }
    }

    pub fn read_bit(&mut self) -> Result<bool, ChunkError> {
        Ok(self.read_bits(1)? == 1)
    }

    /// Reads `n` (≤ 64) bits, most significant first.
    pub fn read_bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        let available = self.bytes.len() * 8 - self.pos;
        if (n as usize) > available {
            return Err(ChunkError::Truncated {
                at: self.pos,
                needed: n as usize - available,
            });
        }
        let mut out = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.bytes[self.pos / 8] as u64;
            let offset = (self.pos % 8) as u32;
            let k = left.min(8 - offset);
            let chunk = (byte >> (8 - offset - k)) & low_mask(k);
            out = if k == 64 { chunk } else { (out << k) | chunk };
            self.pos += k as usize;
            left -= k;
        }
        Ok(out)
    }

    pub fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let start = self.pos;
        let mut x = 0u64;
        for i in 0..10 {
            let b = self.read_bits(8)?;
            if i == 9 && b > 1 {
                return Err(ChunkError::VarintOverflow(start));
            }
            x |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(ChunkError::VarintOverflow(start))
    }

    pub fn read_varint(&mut self) -> Result<i64, ChunkError> {
        let ux = self.read_uvarint()?;
        Ok(((ux >> 1) as i64) ^ -((ux & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_varints_round_trip_and_truncation_is_an_error() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0b101, 3);
        w.write_bits(u64::MAX, 64);
        w.write_varint(i64::MIN);
        w.write_uvarint(u64::MAX);
        w.write_varint(-3);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        assert!(r.read_bit().unwrap());
        assert_eq!(r.read_bits(3).unwrap(), 0b101);
        assert_eq!(r.read_bits(64).unwrap(), u64::MAX);
        assert_eq!(r.read_varint().unwrap(), i64::MIN);
        assert_eq!(r.read_uvarint().unwrap(), u64::MAX);
        assert_eq!(r.read_varint().unwrap(), -3);
        assert!(matches!(r.read_bits(8), Err(ChunkError::Truncated { .. })));
    }

    #[test]
    fn bits_are_written_most_significant_first() {
        let mut w = BitWriter::default();
        w.write_bits(0b1, 1);
        w.write_bits(0b0_0000_0011, 9);
        assert_eq!(w.bytes(), &[0b1000_0000, 0b1100_0000]);
    }

    #[test]
    fn an_overlong_varint_is_refused() {
        let bytes = [0xffu8; 11];
        let mut r = BitReader::new(&bytes);
        assert!(matches!(
            r.read_uvarint(),
            Err(ChunkError::VarintOverflow(0))
        ));
    }
}
