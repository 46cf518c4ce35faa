//! Block formats 3 and 4: lines stored as templates and typed variable columns (as CLP
//! does), so the compressor sees each field's values side by side instead of interleaved
//! with text. Format 4 writes into a template the values the same in all its lines
//! ([`consts`]); format 3 has no digit outside variables. A block's raw (uncompressed)
//! bytes are, in order:
//!
//! 1. the entry count (varint);
//! 2. times: zig-zag deltas from the previous entry, as a width byte `w` then `w` byte
//!    planes of one byte per entry (low bytes first);
//! 3. metadata: every entry's pair count, then the pairs (as format 2);
//! 4. templates: a count, then each as a length and bytes (see [`tokens`] for the
//!    placeholders);
//! 5. every entry's template id (varint);
//! 6. the dictionary: a count, then each value as a length and bytes;
//! 7. columns: a count, then each as a delta flag, a byte length and its values —
//!    integers and dictionary ids as varints (zig-zag deltas from the previous value
//!    when flagged), hex as packed nibbles.
//!
//! A variable's column is named by its placeholder's *context*: the placeholder and
//! the [`CONTEXT`] template bytes before it (placeholders included). Columns are
//! numbered in order of first use, templates in id order, so the decoder derives the
//! same numbering from the templates alone. Lines of different templates share a
//! column when the text before the field is the same (`status=`, `" ` after
//! `HTTP/#.#`): keyed by template, columns fragment into many tiny ones; keyed by the
//! variable's place in its line, one field more early in a line (a number in a path)
//! shifts every later field into another field's column.
//! Line lengths are not stored: a line is as long as its template and variables make
//! it. The trigram filter is still built from the lines themselves.

mod compile;
mod consts;
mod decode;
mod encode;
mod intern;
mod nibbles;
mod rebuild;
pub mod search;
pub mod tokens;
mod values;
mod widths;

#[cfg(test)]
mod tests;

pub use decode::{decode, Decoder};
pub use encode::encode;
pub use search::{static_part, Want};

/// Template bytes before a placeholder that name its column.
pub const CONTEXT: usize = 8;

/// A column's name: its placeholder byte, how many context bytes there are and up to
/// [`CONTEXT`] bytes before it, packed in one integer (cheap to hash).
type Key = u128;

/// Numbers columns by their keys, in order of first use.
#[derive(Default)]
struct ColumnKeys {
    ids: std::collections::HashMap<Key, u32, foldhash::fast::FixedState>,
}

impl ColumnKeys {
    fn clear(&mut self) {
        self.ids.clear();
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The id of `key`: its column's number in order of first use.
    fn id(&mut self, key: Key) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(key).or_insert(next)
    }

    /// Appends to `out` the column of each of `tpl`'s placeholders, in order (it stops
    /// at a placeholder cut short: decoding that template fails anyway).
    fn of_template(&mut self, tpl: &[u8], out: &mut Vec<u32>) {
        for p in placeholders(tpl) {
            out.push(self.id(compile::key_of(tpl, p)));
        }
    }
}

/// Where each placeholder of `tpl` is, in order (the last may be cut short: its
/// parameter byte missing).
fn placeholders(tpl: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let p = next_placeholder(tpl, at)?;
        at = p + if tpl[p] == tokens::DICT { 1 } else { 2 };
        Some(p)
    })
}

/// How many digits `x` has printed.
fn digits(x: u64) -> usize {
    x.checked_ilog10().map_or(1, |l| l as usize + 1)
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The has-a-byte-below-`n` trick (`n` ≤ 128): 0x80 set in each byte of `x` below `n`.
/// The lowest flag is exact; later ones may be wrong (borrows), so a search takes the
/// lowest and starts again after it.
#[inline]
fn bytes_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & (ONES * 0x80)
}

/// Where the first placeholder of `tpl` at or after `from` is, eight bytes at a time:
/// a byte with its top five bits set (0xF8 and up: never in UTF-8, so rare) has
/// `b & 0xF8 == 0xF8`, i.e. is zero in `(x & 0xF8..) ^ 0xF8..` ([`bytes_below`] 1);
/// such a byte that is no placeholder (in a damaged block) is passed over. Gaps
/// between placeholders are short: `memchr3`'s set-up per call cost more than this
/// loop, and a byte loop more than either.
#[inline]
fn next_placeholder(tpl: &[u8], from: usize) -> Option<usize> {
    const TOP: u64 = ONES * 0xF8;
    let mut i = from;
    while let Some(chunk) = tpl.get(i..i + 8) {
        let x = (u64::from_le_bytes(chunk.try_into().expect("8 bytes")) & TOP) ^ TOP;
        let zero = bytes_below(x, 1);
        if zero == 0 {
            i += 8;
            continue;
        }
        let p = i + zero.trailing_zeros() as usize / 8;
        if is_placeholder(tpl[p]) {
            return Some(p);
        }
        i = p + 1;
    }
    let rest = tpl.get(i..)?;
    rest.iter().position(|&b| is_placeholder(b)).map(|p| i + p)
}

#[inline]
fn is_placeholder(b: u8) -> bool {
    matches!(b, tokens::INT | tokens::HEX | tokens::DICT)
}

/// Appends `raw[r]`; short runs as one 16-byte copy when `raw` has the bytes after.
#[inline]
pub(crate) fn put_text(out: &mut Vec<u8>, raw: &[u8], r: std::ops::Range<usize>) {
    let len = r.len();
    match raw.get(r.start..r.start + 16) {
        Some(chunk) if len <= 16 => {
            out.extend_from_slice(<&[u8; 16]>::try_from(chunk).expect("16 bytes"));
            out.truncate(out.len() - 16 + len);
        }
        _ => out.extend_from_slice(&raw[r]),
    }
}

/// Where each section of an encoded block ends (bytes from its start), to measure
/// where the bytes go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    pub times: usize,
    pub metadata: usize,
    pub templates: usize,
    pub ids: usize,
    pub dict: usize,
    pub columns: usize,
}

impl Sections {
    /// The sections' names and byte ranges, in order.
    pub fn ranges(&self) -> [(&'static str, std::ops::Range<usize>); 6] {
        [
            ("times", 0..self.times),
            ("metadata", self.times..self.metadata),
            ("templates", self.metadata..self.templates),
            ("template ids", self.templates..self.ids),
            ("dictionary", self.ids..self.dict),
            ("columns", self.dict..self.columns),
        ]
    }
}
