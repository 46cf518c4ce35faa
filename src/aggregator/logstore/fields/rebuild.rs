//! Writing a format-3 or 4 block's lines from their values (read by [`super::values`]):
//! short static text and digits are copied as fixed 16-byte stores (the buffer's
//! length is set back after), not as a `memcpy` call each.

use super::put_text;
use super::tokens::{DICT, HEX, INT};
use std::ops::Range;

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
    let n = super::digits(v);
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

/// Writes a line's value: an integer, where a hex value's packed bytes start, or a
/// dictionary id.
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
