//! Reading a format-3 block's column values and writing lines from them. Lines not
//! wanted only count what they would read ([`Col::pending`]); a column catches up when a
//! wanted line reads it, or at the block's end, skipping varints eight bytes at a time.
//! Writing copies short static text and digits as fixed 16- or 20-byte stores (the
//! buffer's length is set back after), not as a `memcpy` call each.

use super::put_text;
use super::tokens::{DICT, HEX, INT};
use crate::aggregator::tsdb::record::unzigzag;
use std::ops::Range;

pub const RAN_OUT: &str = "a column runs out of values";

/// One column being read: its bytes left, whether it holds deltas and the last value
/// then, and what lines not rebuilt left unread (values; bytes for hex).
#[derive(Debug, Clone, Default)]
pub struct Col {
    pub bytes: Range<usize>,
    pub delta: bool,
    pub hex: bool,
    pub prev: u64,
    pub pending: usize,
}

impl Col {
    /// Moves past what lines not rebuilt left unread.
    #[inline]
    pub fn settle(&mut self, raw: &[u8]) -> Result<(), &'static str> {
        match self.pending {
            0 => Ok(()),
            _ => self.catch_up(raw),
        }
    }

    #[cold]
    fn catch_up(&mut self, raw: &[u8]) -> Result<(), &'static str> {
        let n = std::mem::take(&mut self.pending);
        if self.hex {
            if self.bytes.len() < n {
                return Err(RAN_OUT);
            }
            self.bytes.start += n;
        } else if self.delta {
            for _ in 0..n {
                self.next(raw)?;
            }
        } else {
            self.bytes.start += skip_varints(&raw[self.bytes.clone()], n).ok_or(RAN_OUT)?;
        }
        Ok(())
    }

    /// The next value of an integer or dictionary column.
    #[inline]
    pub fn next(&mut self, raw: &[u8]) -> Result<u64, &'static str> {
        let bytes = &raw[self.bytes.clone()];
        let mut v = 0u64;
        for (i, &b) in bytes.iter().take(10).enumerate() {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.bytes.start += i + 1;
                if self.delta {
                    self.prev = self.prev.wrapping_add(unzigzag(v) as u64);
                    return Ok(self.prev);
                }
                return Ok(v);
            }
        }
        Err(RAN_OUT)
    }

    /// Where the next `bytes` of a hex column start (moving past them).
    pub fn take(&mut self, bytes: usize) -> Result<u64, &'static str> {
        if self.bytes.len() < bytes {
            return Err(RAN_OUT);
        }
        self.bytes.start += bytes;
        Ok((self.bytes.start - bytes) as u64)
    }
}

/// The bytes `n` varints take at the start of `bytes` (None: fewer are there). A
/// varint ends at a byte below 0x80: those are counted a word at a time.
fn skip_varints(bytes: &[u8], mut n: usize) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let ends = !u64::from_le_bytes(chunk.try_into().expect("8 bytes")) & HIGH;
        let k = ends.count_ones() as usize;
        if k >= n {
            let mut ends = ends;
            for _ in 1..n {
                ends &= ends - 1; // drop the lowest end: the n-th is then lowest
            }
            return Some(at + ends.trailing_zeros() as usize / 8 + 1);
        }
        (n, at) = (n - k, at + 8);
    }
    for (i, &b) in bytes[at..].iter().enumerate() {
        n -= usize::from(b < 0x80);
        if n == 0 {
            return Some(at + i + 1);
        }
    }
    None
}

/// "00" to "99", back to back.
static PAIRS: [u8; 200] = pairs();

const fn pairs() -> [u8; 200] {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
}

/// Appends `v` in decimal, zero-padded to `width` digits (0: as is). Up to 16 digits
/// are gathered in a register, pair by pair (the most significant lowest), and stored
/// at once: gathered in memory, the 16-byte load after small stores stalls.
#[inline]
pub fn put_int(v: u64, width: u8, out: &mut Vec<u8>) -> Result<(), String> {
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    match (width as usize).checked_sub(n) {
        Some(pad) => out.resize(out.len() + pad, b'0'),
        None if width == 0 => {}
        None => return Err(format!("{v} wider than {width} digits")),
    }
    if n > 16 {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        return Ok(());
    }
    let (mut x, mut acc) = (v, 0u128);
    while x >= 100 {
        let pair = (x % 100) as usize * 2;
        acc = acc << 16 | u128::from(u16::from_le_bytes([PAIRS[pair], PAIRS[pair + 1]]));
        x /= 100;
    }
    acc = match x {
        10.. => {
            acc << 16
                | u128::from(u16::from_le_bytes([
                    PAIRS[x as usize * 2],
                    PAIRS[x as usize * 2 + 1],
                ]))
        }
        _ => acc << 8 | u128::from(b'0' + x as u8),
    };
    out.extend_from_slice(&acc.to_le_bytes());
    out.truncate(out.len() - 16 + n);
    Ok(())
}

/// Appends `len` hex characters from the packed nibbles at `raw[at..]` (the caller
/// took those bytes from their column).
#[inline]
pub fn put_hex(raw: &[u8], at: usize, len: usize, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in &raw[at..at + len.div_ceil(2)] {
        out.extend_from_slice(&[DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]);
    }
    out.truncate(out.len() - (len.div_ceil(2) * 2 - len));
}

/// One value of a line: an integer, a dictionary id, or where a hex value's packed
/// bytes start.
pub type Value = u64;

/// Reads the value of a placeholder of `kind` (hex: `param` characters) from `col`.
#[inline]
pub fn read(col: &mut Col, raw: &[u8], kind: u8, param: u8) -> Result<Value, &'static str> {
    col.settle(raw)?;
    match kind {
        HEX => col.take((param as usize).div_ceil(2)),
        _ => col.next(raw),
    }
}

/// Counts a placeholder of a line not rebuilt against its column.
#[inline]
pub fn pass(col: &mut Col, kind: u8, param: u8) {
    col.pending += match kind {
        HEX => (param as usize).div_ceil(2),
        _ => 1,
    };
}

/// Writes a value read by [`read`].
#[inline]
pub fn put_value(
    v: Value,
    kind: u8,
    param: u8,
    raw: &[u8],
    dict: &[Range<usize>],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    match kind {
        INT => put_int(v, param, out),
        HEX => {
            put_hex(raw, v as usize, param as usize, out);
            Ok(())
        }
        DICT => {
            let r = usize::try_from(v).ok().and_then(|i| dict.get(i));
            let r = r.ok_or_else(|| format!("dictionary entry {v} missing"))?;
            put_text(out, raw, r.clone());
            Ok(())
        }
        _ => Err(format!("placeholder {kind:#x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_skipped_across_words() {
        let mut bytes = Vec::new();
        let values: Vec<u64> = (0..40).map(|i| (i * 7919) << (i % 5 * 5)).collect();
        let mut ends = Vec::new();
        for &v in &values {
            crate::aggregator::tsdb::record::put_uvarint(&mut bytes, v);
            ends.push(bytes.len());
        }
        for n in 1..=values.len() {
            assert_eq!(skip_varints(&bytes, n), Some(ends[n - 1]), "{n}");
        }
        assert_eq!(skip_varints(&bytes, values.len() + 1), None);
        assert_eq!(skip_varints(&[0x80; 20], 1), None);
    }

    #[test]
    fn ints_and_text_are_written_exactly() {
        let mut out = b"x".to_vec();
        for (v, w, want) in [
            (0, 0, "0"),
            (7, 3, "007"),
            (10, 0, "10"),
            (99, 2, "99"),
            (100, 0, "100"),
            (123_456_789, 0, "123456789"),
            (u64::MAX, 0, "18446744073709551615"),
            (5, 18, "000000000000000005"),
        ] {
            out.truncate(1);
            put_int(v, w, &mut out).unwrap();
            assert_eq!(out, [b"x", want.as_bytes()].concat(), "{v}");
        }
        assert!(put_int(1234, 3, &mut out).is_err());
        let raw = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for r in [0..0, 0..3, 5..21, 20..36, 30..36, 0..36] {
            out.clear();
            put_text(&mut out, raw, r.clone());
            assert_eq!(out, &raw[r]);
        }
    }
}
