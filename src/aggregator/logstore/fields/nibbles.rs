//! Searching a hex value for a needle of digits where it lies packed, two characters a
//! byte, without printing it: a digit's character is the nibble of its value, so the
//! needle is found by comparing every nibble of the value at once (SWAR on a `u128`).
//! The scan of `"500"` checks every hex value of every line (request and trace ids).
//! A needle of three digits or more fixes a whole byte wherever it starts (its first
//! two digits, or its second and third), so a column is first searched for those two
//! bytes (`memchr2`) and only the values holding one are compared.

/// The longest hex value searched here: 32 characters fill a `u128`.
pub const MAX_CHARS: usize = 32;

/// Nibbles with all bits but the top one set.
const LOW3: u128 = 0x7777_7777_7777_7777_7777_7777_7777_7777;
const ONES: u128 = 0x1111_1111_1111_1111_1111_1111_1111_1111;

/// The `len` hex characters packed at `raw[at..]` as nibbles of a `u128`, the first
/// character highest (one 16-byte load when the block has the bytes).
#[inline]
pub fn load(raw: &[u8], at: usize, len: usize) -> u128 {
    load_kept(raw, at, len.div_ceil(2), keep(len.div_ceil(2)))
}

/// [`load`] of a value `n` bytes packed, `keep` being [`keep`] of `n`.
#[inline]
fn load_kept(raw: &[u8], at: usize, n: usize, keep: u128) -> u128 {
    match raw.get(at..at + 16) {
        Some(b) => u128::from_be_bytes(b.try_into().expect("16 bytes")) & keep,
        None => {
            let mut bytes = [0u8; 16];
            bytes[..n].copy_from_slice(&raw[at..at + n]);
            u128::from_be_bytes(bytes)
        }
    }
}

/// The mask of the first `n` bytes (0 to 16) of a 16-byte big-endian load.
fn keep(n: usize) -> u128 {
    !(u128::MAX.checked_shr(8 * n as u32).unwrap_or(0))
}

/// A needle of digits set out to compare with every nibble at once.
pub struct Needle {
    /// Each digit's value in every nibble.
    spread: Vec<u128>,
    /// The bytes a packed value holding the needle holds, one of them (three digits or
    /// more): its first two digits, or its second and third.
    fixed: Option<[u8; 2]>,
}

impl Needle {
    pub fn new(digits: &[u8]) -> Needle {
        Needle {
            spread: digits
                .iter()
                .map(|&d| ONES * u128::from(d - b'0'))
                .collect(),
            fixed: match digits {
                [a, b, c, ..] => {
                    let byte = |hi: u8, lo: u8| (hi - b'0') << 4 | (lo - b'0');
                    Some([byte(*a, *b), byte(*b, *c)])
                }
                _ => None,
            },
        }
    }

    /// Whether the `len` characters of `x` (as [`load`] gives them) hold the needle.
    #[inline]
    pub fn in_value(&self, x: u128, len: usize) -> bool {
        match self.starts(len) {
            Err(held) => held,
            Ok(starts) => self.at(x) & starts != 0,
        }
    }

    /// Sets `bit` in `out[i]` for each value of `len` characters that holds the needle,
    /// the values packed back to back from `raw[start..]`, `out.len()` of them (the
    /// masks made once for all).
    pub fn mark(&self, raw: &[u8], start: usize, len: usize, bit: u8, out: &mut [u8]) {
        let starts = match self.starts(len) {
            Err(held) => return out.iter_mut().for_each(|o| *o |= bit * u8::from(held)),
            Ok(starts) => starts,
        };
        let (n, keep) = (len.div_ceil(2), keep(len.div_ceil(2)));
        let count = out.len();
        let mut check = |i: usize| {
            let x = load_kept(raw, start + i * n, n, keep);
            out[i] |= bit * u8::from(self.at(x) & starts != 0);
        };
        let Some([a, b]) = self.fixed else {
            return (0..count).for_each(check);
        };
        // a value holding the needle holds one of its fixed bytes: only those are checked
        let mut next = 0;
        for p in memchr::memchr2_iter(a, b, &raw[start..start + n * count]) {
            let i = p / n;
            if i >= next {
                check(i);
                next = i + 1;
            }
        }
    }

    /// The top bits of the nibbles where the needle starts in `x` (or runs past it).
    #[inline]
    fn at(&self, x: u128) -> u128 {
        // character j is nibble 31 - j, so character j + i lies i nibbles below j
        let mut at = u128::MAX;
        for (i, &d) in self.spread.iter().enumerate() {
            at &= zero_nibbles(x ^ d) << (4 * i);
        }
        at
    }

    /// The top bits of the nibbles where the needle may start in a value of `len`
    /// characters: 0 to `len` - its length (Err: whether every value holds it).
    fn starts(&self, len: usize) -> Result<u128, bool> {
        let k = self.spread.len();
        if k == 0 || k > len {
            return Err(k == 0);
        }
        let starts = (len - k + 1) as u32;
        Ok(!LOW3 & (u128::MAX << (4 * (32 - starts))))
    }
}

/// The top bit of each nibble of `y` that is zero (exactly: no carry crosses nibbles).
fn zero_nibbles(y: u128) -> u128 {
    !(((y & LOW3) + LOW3) | y | LOW3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the `len` hex characters packed in `packed` (the first character in the
    /// high nibble of the first byte) hold `digits` (a needle of digits, ASCII). `len` is
    /// at most [`MAX_CHARS`] and `packed` holds at least `len.div_ceil(2)` bytes.
    fn holds(packed: &[u8], len: usize, digits: &[u8]) -> bool {
        debug_assert!(len <= MAX_CHARS && packed.len() >= len.div_ceil(2));
        Needle::new(digits).in_value(load(packed, 0, len), len)
    }

    /// `text` (lowercase hex) packed as a hex column packs it.
    fn pack(text: &str) -> Vec<u8> {
        let nibble = |c: u8| (c as char).to_digit(16).unwrap() as u8;
        let b = text.as_bytes();
        b.chunks(2)
            .map(|p| (nibble(p[0]) << 4) | p.get(1).map_or(0, |&c| nibble(c)))
            .collect()
    }

    #[test]
    fn needles_are_found_at_every_place_and_only_there() {
        let values = [
            "a500",
            "500a",
            "5a00",
            "f5000",
            "00000000000000000000000000000500",
            "50000000000000000000000000000000",
            "0000000000000000000000000000050",
            "abcdef",
            "c0ffee",
            "a5",
            "5",
            "0123456789abcdef0123456789abcdef",
        ];
        for text in values {
            for needle in [
                "500",
                "0",
                "5",
                "05",
                "00",
                "9",
                "89",
                "0123456789",
                "50000000000000000000000000000000",
            ] {
                let got = holds(&pack(text), text.len(), needle.as_bytes());
                assert_eq!(got, text.contains(needle), "{text} {needle}");
                // loaded 16 bytes at once, whatever lies after the value
                let mut after = pack(text);
                after.extend([0x55; 16]);
                let x = load(&after, 0, text.len());
                let got = Needle::new(needle.as_bytes()).in_value(x, text.len());
                assert_eq!(got, text.contains(needle), "{text} {needle} (16 bytes)");
                // marked in a column of three, the last at the block's end
                let mut raw = vec![0x55; 3];
                for _ in 0..3 {
                    raw.extend(pack(text));
                }
                let mut out = [4, 0, 0];
                Needle::new(needle.as_bytes()).mark(&raw, 3, text.len(), 1, &mut out);
                let bit = u8::from(text.contains(needle));
                assert_eq!(out, [4 | bit, bit, bit], "{text} {needle} (marked)");
            }
        }
        // the padding nibble of an odd length is never a character
        assert!(!holds(&[0x50], 1, b"50"));
        assert!(holds(&[0x50], 1, b"5"));
        assert!(!holds(&[0x50], 1, b"0"));
    }
}
