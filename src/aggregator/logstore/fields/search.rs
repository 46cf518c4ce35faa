//! Which part of a needle a line's template must hold. Tokenizing ([`super::tokens`])
//! only ever turns digits, lowercase hex words and dots between numbers into
//! variables, so some bytes of a needle are static text wherever the needle occurs: a
//! line holding the needle holds their longest run in its template, placeholder-free.
//! A scan then rebuilds only the lines of templates holding it
//! ([`super::Decoder::decode_where`]).
//!
//! A needle of digits only has no static part, but every digit of a line is in one of
//! its variables or in a constant written into its template apart from other digits
//! ([`super::consts`]), and a needle of digits lies within one run of digits: one
//! integer (its zero padding included), several integer pieces back to back (a run
//! longer than a piece), a hex value, a dictionary value or a constant. So a line holds
//! it only if one of its values does, its template's text does, or it has pieces back to
//! back: the values are checked before any line is rebuilt ([`Want`]): integers
//! arithmetically (a loop per needle length, so that dividing by its power of 10 is a
//! multiplication), hex values packed (`nibbles.rs`), dictionary values and templates
//! once per block.

use memchr::memmem::Finder;

/// What a scan wants of a block's lines: the needles' static parts (a wanted line's
/// template holds each) and its needles of digits only (each held by some value of a
/// wanted line, or spanning integer pieces). Lines it lets through are searched again.
#[derive(Default)]
pub struct Want<'n> {
    pub parts: Vec<&'n [u8]>,
    digits: Vec<Digits<'n>>,
    /// No integer below this holds a needle of digits (0 when one has a leading zero).
    least: u64,
}

/// A needle of digits, and when it has no leading zero and fits a `u64`, its value
/// and the checks of its length (to check integers without printing them); set out
/// to search packed hex.
struct Digits<'n> {
    finder: Finder<'n>,
    value: Option<(u64, HoldsNumber, FlagNumbers)>,
    /// For a value of at most [`MAX_WINDOWED`] digits, [`windows`] of it.
    windows: Vec<u64>,
    nibbles: super::nibbles::Needle,
}

/// Whether the digits of an integer (first) hold those of a number (second) of one
/// length ([`holds_pow`] of its power of 10).
type HoldsNumber = fn(u64, u64) -> bool;

/// Appends to the last argument, for each integer of the first, 1 if its digits hold
/// those of a number (second) of one length, else 0 ([`flag_pow`], or [`flag_windows`]
/// with the number's [`windows`], the third).
type FlagNumbers = fn(&[u64], u64, &[u64], &mut Vec<u8>);

/// Needles of digits up to this long have their [`windows`] (10^4 bits at most).
const MAX_WINDOWED: usize = 3;

/// At most this many needles of digits are checked in values (the others, rarer than
/// rare, are left to the search of the rebuilt lines).
const MAX_DIGIT_NEEDLES: usize = 64;

impl<'n> Want<'n> {
    /// Every line of a block holding every one of `needles`.
    pub fn new(needles: &[&'n [u8]]) -> Want<'n> {
        let digits: Vec<Digits> = needles
            .iter()
            .filter(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
            .take(MAX_DIGIT_NEEDLES)
            .map(|&n| {
                let value = (n[0] != b'0' && n.len() <= 19).then(|| {
                    let v = n.iter().fold(0, |v, d| v * 10 + u64::from(d - b'0'));
                    let (holds, flag) = number_checks(n.len() as u32);
                    (v, holds, flag)
                });
                Digits {
                    finder: Finder::new(n),
                    windows: match value {
                        Some((v, ..)) if n.len() <= MAX_WINDOWED => windows(v, n.len()),
                        _ => Vec::new(),
                    },
                    value,
                    nibbles: super::nibbles::Needle::new(n),
                }
            })
            .collect();
        let least = digits
            .iter()
            .map(|d| d.value.map_or(0, |(n, _, _)| n))
            .min()
            .unwrap_or(0);
        Want {
            // an empty part (a number's) is held by every template: not searched
            parts: needles
                .iter()
                .map(|&n| static_part(n))
                .filter(|p| !p.is_empty())
                .collect(),
            digits,
            least,
        }
    }

    /// The mask [`Want::int_holds`] and the others return when a value holds every
    /// needle of digits (0: there are none).
    pub(super) fn all_digits(&self) -> u64 {
        match self.digits.len() {
            64 => u64::MAX,
            n => (1 << n) - 1,
        }
    }

    /// Whether [`Want::int_holds`] answers the same whatever the width (no needle of
    /// digits has a leading zero or more digits than a `u64`).
    pub(super) fn ints_exact(&self) -> bool {
        self.digits.iter().all(|d| d.value.is_some())
    }

    /// Which needles of digits (bit by bit) integer `v`, zero-padded to `width`, holds.
    #[inline]
    pub(super) fn int_holds(&self, v: u64, width: u8) -> u64 {
        // most integers of a line are short: smaller than any needle, they hold none
        match v < self.least {
            true => 0,
            false => self.int_holds_each(v, width),
        }
    }

    fn int_holds_each(&self, v: u64, width: u8) -> u64 {
        let mut mask = 0;
        for (i, d) in self.digits.iter().enumerate() {
            let held = match d.value {
                Some((n, holds, _)) => v >= n && holds(v, n),
                None => {
                    let mut out = Vec::with_capacity(24);
                    let _ = super::rebuild::put_int(v, width, &mut out);
                    d.finder.find(&out).is_some()
                }
            };
            mask |= u64::from(held) << i;
        }
        mask
    }

    /// Which needles of digits (bit by bit) the hex value of `len` characters packed at
    /// `raw[at..]` holds; `text` is scratch space for values too long to search packed.
    pub(super) fn hex_holds(&self, raw: &[u8], at: usize, len: usize, text: &mut Vec<u8>) -> u64 {
        if len > super::nibbles::MAX_CHARS {
            text.clear();
            super::rebuild::put_hex(raw, at, len, text);
            return self.text_holds(text);
        }
        let x = super::nibbles::load(raw, at, len);
        let mut mask = 0;
        for (i, d) in self.digits.iter().enumerate() {
            mask |= u64::from(d.nibbles.in_value(x, len)) << i;
        }
        mask
    }

    /// Appends [`Want::hex_holds`] of each hex value of `len` characters packed at
    /// `raw[at[i]..]` to `out`, needle by needle (a byte each: at most 8 needles); the
    /// values lie back to back (a column of one length).
    pub(super) fn flag_hex(&self, raw: &[u8], at: &[u64], len: usize, out: &mut Vec<u8>) {
        let first = out.len();
        if len > super::nibbles::MAX_CHARS {
            let mut text = Vec::new();
            let holds = |&a: &u64| self.hex_holds(raw, a as usize, len, &mut text) as u8;
            out.extend(at.iter().map(holds));
            return;
        }
        out.resize(first + at.len(), 0);
        let Some(&start) = at.first() else { return };
        debug_assert!(at
            .iter()
            .enumerate()
            .all(|(i, &a)| a == start + (i * len.div_ceil(2)) as u64));
        for (i, d) in self.digits.iter().enumerate() {
            d.nibbles
                .mark(raw, start as usize, len, 1 << i, &mut out[first..]);
        }
    }

    /// Appends [`Want::int_holds`] (of no width; a byte each: at most 8 needles) of each
    /// of `values` to `out`: for one needle with a value, in a loop of its own length,
    /// reusing the last answer when a value repeats (a column's values often do).
    pub(super) fn flag_ints(&self, values: &[u64], out: &mut Vec<u8>) {
        match &self.digits[..] {
            [Digits {
                value: Some((n, _, flag)),
                windows,
                ..
            }] => flag(values, *n, windows, out),
            _ => out.extend(values.iter().map(|&v| self.int_holds(v, 0) as u8)),
        }
    }

    /// Which needles of digits (bit by bit) `text` (a hex or dictionary value, or a
    /// template) holds.
    pub(super) fn text_holds(&self, text: &[u8]) -> u64 {
        let mut mask = 0;
        for (i, d) in self.digits.iter().enumerate() {
            // values and templates are short: looking for the first digit beats setting
            // up a search
            let held = holds_at_first(text, d.finder.needle());
            mask |= u64::from(held) << i;
        }
        mask
    }
}

/// Whether `text` holds `needle` (not empty): each place of its first byte is compared
/// on.
#[inline]
fn holds_at_first(text: &[u8], needle: &[u8]) -> bool {
    let (&first, rest) = needle
        .split_first()
        .expect("a needle of digits is not empty");
    let last = text.len().saturating_sub(rest.len());
    memchr::memchr_iter(first, &text[..last]).any(|i| text[i + 1..].starts_with(rest))
}

/// The checks of numbers `len` digits long (1 to 19; `n` without a leading zero): an
/// integer holds `n` if some `v / 10^k` ends in it (zero padding never matters, as `n`
/// starts with another digit). Each length has its own loops, chosen once per needle,
/// so that dividing by its power of 10 is a multiplication, not a division: the scan
/// of `"500"` checks every integer of every line.
fn number_checks(len: u32) -> (HoldsNumber, FlagNumbers) {
    macro_rules! by_len {
        ($($len:literal)*) => {
            match len {
                1 => (holds_pow::<10>, flag_windows::<100>),
                2 => (holds_pow::<100>, flag_windows::<1_000>),
                3 => (holds_pow::<1_000>, flag_windows::<10_000>),
                $($len => (holds_pow::<{ 10u64.pow($len) }>, flag_pow::<{ 10u64.pow($len) }>),)*
                // never asked: `Want::new` gives longer needles no value
                _ => (|_, _| false, |v, _, _, out| out.extend(v.iter().map(|_| 0))),
            }
        };
    }
    const _: () = assert!(MAX_WINDOWED == 3);
    by_len!(4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19)
}

/// Which numbers of `len + 1` digits (zero-padded: below `10^(len + 1)`) hold needle
/// `n` of `len` digits (no leading zero): a bit each. They are the 20 that end in it or
/// begin with it, so this is quick to build.
fn windows(n: u64, len: usize) -> Vec<u64> {
    let pow = 10u64.pow(len as u32);
    let mut bits = vec![0u64; (pow * 10).div_ceil(64) as usize];
    for x in (0..10)
        .map(|k| n + k * pow)
        .chain((0..10).map(|k| n * 10 + k))
    {
        bits[(x / 64) as usize] |= 1 << (x % 64);
    }
    bits
}

/// [`flag_pow`] for a needle `n` of `len` digits, `WPOW` 10^(len + 1), with its
/// [`windows`] `bits`: an integer's digits are looked at `len + 1` at a time, two
/// digits further each step (so every place of the needle is in some window): half
/// the steps of [`holds_pow`]. Zero padding of the top window never matters: `n`
/// starts with another digit.
fn flag_windows<const WPOW: u64>(values: &[u64], n: u64, bits: &[u64], out: &mut Vec<u8>) {
    let held = |x: u64| {
        bits.get((x / 64) as usize)
            .is_some_and(|w| w >> (x % 64) & 1 != 0)
    };
    flag_each(values, n, out, |mut v| loop {
        if held(v % WPOW) {
            return true;
        }
        if v < WPOW {
            return false;
        }
        v /= 100;
    });
}

/// [`holds_pow`] of each of `values` as 1 or 0, appended to `out`.
fn flag_pow<const POW: u64>(values: &[u64], n: u64, _: &[u64], out: &mut Vec<u8>) {
    flag_each(values, n, out, |v| holds_pow::<POW>(v, n));
}

/// `holds(v)` of each of `values` as 1 or 0, appended to `out` (grown first, so that
/// most values, below `n`, cost a compare); a value equal to the one before has its
/// answer.
#[inline(always)]
fn flag_each(values: &[u64], n: u64, out: &mut Vec<u8>, holds: impl Fn(u64) -> bool) {
    let first = out.len();
    out.resize(first + values.len(), 0);
    let mut last = (u64::MAX, u8::from(holds(u64::MAX)));
    for (flag, &v) in out[first..].iter_mut().zip(values) {
        if v < n {
            continue;
        }
        if v != last.0 {
            last = (v, u8::from(holds(v)));
        }
        *flag = last.1;
    }
}

/// Whether the digits of `v` hold those of `n`, `POW` 10 to the power of `n`'s length.
#[inline]
fn holds_pow<const POW: u64>(mut v: u64, n: u64) -> bool {
    while v >= n {
        if v % POW == n {
            return true;
        }
        v /= 10;
    }
    false
}

/// The longest run of `needle`'s bytes that are surely static text in any line
/// holding it (empty when none is, e.g. a number: every template may then match).
pub fn static_part(needle: &[u8]) -> &[u8] {
    let (mut best, mut at) = (0..0, 0);
    // a false after the last byte closes the last run
    for (i, sure) in sure_static(needle).into_iter().chain([false]).enumerate() {
        if !sure {
            if i - at > best.len() {
                best = at..i;
            }
            at = i + 1;
        }
    }
    &needle[best]
}

/// Whether each byte of `needle` is static text in every line holding it.
fn sure_static(needle: &[u8]) -> Vec<bool> {
    let mut sure = vec![false; needle.len()];
    let mut i = 0;
    while i < needle.len() {
        let b = needle[i];
        if !b.is_ascii_alphanumeric() {
            // a dot is part of a dotted number only between two digits
            let digit = |j: Option<usize>| j.and_then(|j| needle.get(j)).map(u8::is_ascii_digit);
            sure[i] = b != b'.'
                || digit(i.checked_sub(1)) == Some(false)
                || digit(Some(i + 1)) == Some(false);
            i += 1;
            continue;
        }
        let end = i + needle[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let word = &needle[i..end];
        // letters stay static unless the word may be hex: a word with a letter outside
        // a-f never is; one wholly inside the needle without a digit is not either
        let inside = i > 0 && end < needle.len();
        let not_hex = word
            .iter()
            .any(|b| b.is_ascii_alphabetic() && !(b'a'..=b'f').contains(b))
            || (inside && !word.iter().any(u8::is_ascii_digit));
        for (k, b) in word.iter().enumerate() {
            sure[i + k] = not_hex && b.is_ascii_alphabetic();
        }
        i = end;
    }
    sure
}

#[cfg(test)]
mod tests {
    use super::static_part;

    #[test]
    fn numbers_hold_digit_needles_as_printed() {
        for (v, width, needle, held) in [
            (500, 0, "500", true),
            (15003, 0, "500", true),
            (50, 0, "500", false),
            (5000, 0, "500", true),
            (4500, 0, "500", true),
            (450, 0, "500", false),
            (7, 3, "007", true),
            (7, 0, "007", false),
            (1007, 0, "007", true),
            (0, 0, "0", true),
            (10, 0, "0", true),
            (u64::MAX, 0, "18446744073709551615", true),
            (1, 5, "0", true),
        ] {
            let want = super::Want::new(&[needle.as_bytes()]);
            assert_eq!(
                want.int_holds(v, width),
                u64::from(held),
                "{v} {width} {needle}"
            );
        }
        let want = super::Want::new(&[b"12", b"x", b"34"]);
        assert_eq!(want.all_digits(), 0b11);
        assert_eq!(want.int_holds(1234, 0), 0b11);
        assert_eq!(want.int_holds(3412, 0), 0b11);
        assert_eq!(want.int_holds(120, 0), 0b01);
        assert_eq!(want.text_holds(b"a34f"), 0b10);
    }

    #[test]
    fn integers_are_flagged_as_checked_one_by_one() {
        let values = [
            500, 500, 7, 1500, 1500, 1499, 5000, 5000, 0, 500, 49, 15003, 15003,
        ];
        for needles in [&[&b"500"[..]][..], &[b"5"], &[b"15003"], &[b"500", b"1"]] {
            let want = super::Want::new(needles);
            let mut got = Vec::new();
            want.flag_ints(&values, &mut got);
            let each: Vec<u8> = values.iter().map(|&v| want.int_holds(v, 0) as u8).collect();
            assert_eq!(got, each, "{needles:?}");
            assert!(
                each.iter().any(|&m| m != 0) && each.contains(&0),
                "{needles:?}"
            );
        }
    }

    #[test]
    fn integers_are_flagged_as_printed() {
        let mut values: Vec<u64> = (0..30_000).collect();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 60)); // every length of number
        }
        values.extend([u64::MAX, u64::MAX - 1, 10u64.pow(19), 5_005_005_005]);
        for needle in [
            "5", "9", "50", "10", "99", "500", "100", "999", "909", "1500", "30000",
        ] {
            let want = super::Want::new(&[needle.as_bytes()]);
            let mut got = Vec::new();
            want.flag_ints(&values, &mut got);
            for (&v, &flag) in values.iter().zip(&got) {
                let held = v.to_string().contains(needle);
                assert_eq!(flag, u8::from(held), "{v} {needle}");
            }
        }
    }

    #[test]
    fn static_parts_of_needles() {
        let table: &[(&str, &str)] = &[
            ("kube-probe/1.29", "kube-probe/"),
            ("500", ""),
            ("payment declined", "payment declined"),
            (" declined ", " declined "),
            ("orderId=999999 ", "orderId="),
            ("abc1 x", " x"),
            ("a.1.2", "."),
            ("1.2.x", ".x"),
            ("", ""),
        ];
        for (needle, part) in table {
            assert_eq!(
                static_part(needle.as_bytes()),
                part.as_bytes(),
                "{needle:?}"
            );
        }
    }
}
