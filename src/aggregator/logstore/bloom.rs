//! A block's trigram filter: a bitmap with one bit set for every 3-byte window of
//! every line in the block (one hash function), so a line filter can skip a block
//! whose bitmap lacks a trigram of the needle without decompressing it — the idea of
//! Loki 3's n-gram blooms, kept next to the block rather than in a separate store.
//!
//! It is built with twice as many bits as the block has line bytes (at most 2^17) and
//! folded in halves (a trigram's bit is the low bits of its hash, so folding keeps
//! every set bit findable) while the folded bitmap stays at most half full: a trigram
//! the block lacks then passes with probability about 1/2 or less, a needle with `k`
//! such trigrams with about 2^-k. An empty bitmap means "no filter": every needle
//! may be there (blocks written before filters existed; tiny blocks).
//!
//! The hash and the folding are part of chunk format 2: changing either needs a new
//! format version (old filters would refuse blocks that hold the needle).
//!
//! Only false positives: a trigram of a line always has its bit set, so a block holding
//! the needle is never skipped (tested, including against random lines and needles).

/// The largest bitmap: 2^17 bits (16 KiB), for blocks of many distinct trigrams.
const MAX_BITS: usize = 1 << 17;
/// The smallest bitmap kept: 512 bits (64 bytes); blocks with fewer lines than this
/// many bytes get no filter.
const MIN_BITS: usize = 512;

/// The bit (before masking to the bitmap's size) of trigram `t` (its three bytes, the
/// first lowest): the top 17 bits of a 32-bit multiplicative hash, well mixed in the
/// low bits the mask keeps.
#[inline]
fn bit(t: u32) -> u32 {
    t.wrapping_mul(0x9e37_79b1) >> 15
}

/// Builds a filter over `lines` (each searched on its own: no trigram spans two).
pub fn build<'a, I>(lines: I) -> Vec<u8>
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let bytes: usize = lines.clone().map(<[u8]>::len).sum();
    if bytes < MIN_BITS {
        return Vec::new();
    }
    // One byte a bit while building: a plain store per trigram, no read-modify-write
    // (twice as fast); at least twice as many bits as bytes, so at most half full.
    let mut seen = vec![0u8; (bytes * 2).next_power_of_two().clamp(MIN_BITS, MAX_BITS)];
    let mask = seen.len() - 1;
    match <&mut [u8; MAX_BITS]>::try_from(seen.as_mut_slice()) {
        // a full-size bitmap (every block cut at `block_bytes`): a trigram's bit needs
        // no mask and no bounds check
        Ok(full) => lines.for_each(|line| mark_full(line, full)),
        Err(_) => lines.for_each(|line| mark(line, &mut seen, mask)),
    }
    let mut words: Vec<u64> = seen.chunks_exact(64).map(pack).collect();
    while words.len() * 64 > MIN_BITS && folded_fill(&words) <= 0.5 {
        let half = words.len() / 2;
        let (lo, hi) = words.split_at_mut(half);
        lo.iter_mut().zip(hi.iter()).for_each(|(l, h)| *l |= *h);
        words.truncate(half);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Marks the trigrams of `line` in `seen`.
fn mark(line: &[u8], seen: &mut [u8], mask: usize) {
    trigram_bits(line, |b| seen[b & mask] = 1);
}

/// [`mark`] into a bitmap of [`MAX_BITS`]: [`bit`] is below it, so the compiler
/// drops the mask and the bounds checks.
fn mark_full(line: &[u8], seen: &mut [u8; MAX_BITS]) {
    trigram_bits(line, |b| seen[b] = 1);
}

/// Calls `set` with the bit of every trigram of `line`: six from each 8-byte load
/// (independent of each other, unlike a rolling window), the tail one by one.
#[inline(always)]
fn trigram_bits(line: &[u8], mut set: impl FnMut(usize)) {
    let mut i = 0;
    while let Some(c) = line.get(i..i + 8) {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        for k in 0..6 {
            set(bit((x >> (8 * k)) as u32 & 0xff_ffff) as usize);
        }
        i += 6;
    }
    for w in line[i..].windows(3) {
        set(bit(trigram(w)) as usize);
    }
}

/// The trigram at the start of `w`, first byte lowest.
#[inline]
fn trigram(w: &[u8]) -> u32 {
    u32::from(w[0]) | u32::from(w[1]) << 8 | u32::from(w[2]) << 16
}

/// 64 bytes of 0 or 1 as the bits of a word (byte `j` as bit `j`): each 8 gathered
/// into one byte by a multiply.
fn pack(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(8).enumerate().fold(0, |w, (k, c)| {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        w | (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k)
    })
}

/// The share of bits set once the bitmap is folded in half.
fn folded_fill(words: &[u64]) -> f64 {
    let (lo, hi) = words.split_at(words.len() / 2);
    let set: u32 = lo.iter().zip(hi).map(|(l, h)| (l | h).count_ones()).sum();
    f64::from(set) / (lo.len() * 64) as f64
}

/// Whether a block with filter `bloom` may hold a line containing `needle`: false only
/// when some trigram of the needle is surely in none of its lines.
pub fn may_contain(bloom: &[u8], needle: &[u8]) -> bool {
    let bits = bloom.len() * 8;
    if bits == 0 || !bits.is_power_of_two() || needle.len() < 3 {
        return true;
    }
    let mask = bits - 1;
    needle.windows(3).all(|w| {
        let i = bit(trigram(w)) as usize & mask;
        bloom[i / 8] & (1 << (i % 8)) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter(lines: &[&str]) -> Vec<u8> {
        build(lines.iter().map(|l| l.as_bytes()))
    }

    #[test]
    fn absent_needles_are_mostly_refused_and_present_ones_never() {
        let lines: Vec<String> = (0..2000)
            .map(|i| format!("GET /api/v1/orders/{i} 200 took {}ms", i % 97))
            .collect();
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let f = filter(&refs);
        assert!(
            f.len() >= MIN_BITS / 8 && f.len() < MAX_BITS / 8,
            "{}",
            f.len()
        );
        for needle in ["orders/1999 ", "took 96ms", "GET", " 200 "] {
            assert!(may_contain(&f, needle.as_bytes()), "{needle}");
        }
        for needle in ["payment declined", "kube-probe", "POST /login"] {
            assert!(!may_contain(&f, needle.as_bytes()), "{needle}");
        }
    }

    #[test]
    fn a_full_size_bitmap_marks_the_bits_a_masked_one_does() {
        let line: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut masked = vec![0u8; MAX_BITS];
        mark(&line, &mut masked, MAX_BITS - 1);
        let mut full = Box::new([0u8; MAX_BITS]);
        mark_full(&line, &mut full);
        assert!(masked.contains(&1));
        assert_eq!(masked.as_slice(), full.as_slice());
    }

    #[test]
    fn no_filter_and_short_needles_refuse_nothing() {
        assert!(filter(&["tiny"]).is_empty());
        assert!(may_contain(&[], b"anything"));
        let f = filter(&["x".repeat(4096).as_str()]);
        assert!(!f.is_empty() && may_contain(&f, b"ab") && may_contain(&f, b""));
        assert!(!may_contain(&f, b"xxy"));
        assert!(
            may_contain(&[0xff; 3], b"abc"),
            "a malformed size is no filter"
        );
    }

    #[test]
    fn trigrams_never_span_two_lines() {
        let (a, b) = ("abc ".repeat(200), "xyz ".repeat(200));
        let f = filter(&[&a, &b]);
        assert!(may_contain(&f, b"c a") && may_contain(&f, b"z x"));
        assert!(!may_contain(&f, b"c x"), "only across the two lines");
    }

    proptest! {
        #[test]
        fn a_block_holding_the_needle_is_never_refused(
            lines in prop::collection::vec("[a-d0-9 ]{0,40}|[ -~]{0,200}", 1..300),
            pick in any::<prop::sample::Index>(),
            from in any::<prop::sample::Index>(),
            len in 0usize..12,
        ) {
            let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
            let f = filter(&refs);
            let line = pick.get(&lines).as_bytes();
            let start = if line.is_empty() { 0 } else { from.index(line.len()) };
            let needle = &line[start..(start + len).min(line.len())];
            prop_assert!(may_contain(&f, needle));
        }
    }
}
