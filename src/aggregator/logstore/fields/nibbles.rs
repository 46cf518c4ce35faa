//! Searching a hex value for a needle of digits where it lies packed, two characters a
//! byte, without printing it: a digit's character is the nibble of its value, so the
//! needle is found by comparing every nibble of the value at once (SWAR on a `u128`).
//! The scan of `"500"` checks every hex value of every line (request and trace ids).

/// The longest hex value searched here: 32 characters fill a `u128`.
pub const MAX_CHARS: usize = 32;

/// Nibbles with all bits but the top one set.
const LOW3: u128 = 0x7777_7777_7777_7777_7777_7777_7777_7777;
const ONES: u128 = 0x1111_1111_1111_1111_1111_1111_1111_1111;

/// Whether the `len` hex characters packed in `packed` (the first character in the
/// high nibble of the first byte) hold `digits` (a needle of digits, ASCII). `len` is
/// at most [`MAX_CHARS`] and `packed` holds at least `len.div_ceil(2)` bytes.
pub fn holds(packed: &[u8], len: usize, digits: &[u8]) -> bool {
    debug_assert!(len <= MAX_CHARS && packed.len() >= len.div_ceil(2));
    if digits.is_empty() || digits.len() > len {
        return digits.is_empty();
    }
    let mut bytes = [0u8; 16];
    bytes[..len.div_ceil(2)].copy_from_slice(&packed[..len.div_ceil(2)]);
    // character j is nibble 31 - j, so character j + k lies k nibbles below j
    let x = u128::from_be_bytes(bytes);
    let mut at = u128::MAX;
    for (k, &d) in digits.iter().enumerate() {
        at &= zero_nibbles(x ^ (ONES * u128::from(d - b'0'))) << (4 * k);
    }
    // where the needle may start: characters 0 to len - digits.len()
    let starts = (len - digits.len() + 1) as u32;
    at & !LOW3 & (u128::MAX << (4 * (32 - starts))) != 0
}

/// The top bit of each nibble of `y` that is zero (exactly: no carry crosses nibbles).
fn zero_nibbles(y: u128) -> u128 {
    !(((y & LOW3) + LOW3) | y | LOW3)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            }
        }
        // the padding nibble of an odd length is never a character
        assert!(!holds(&[0x50], 1, b"50"));
        assert!(holds(&[0x50], 1, b"5"));
        assert!(!holds(&[0x50], 1, b"0"));
    }
}
