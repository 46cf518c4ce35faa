//! A format-3 or 4 block's column values, made ready before any line is read: each column's
//! size is checked against what its lines take (so reading a line never runs out), the
//! integer and dictionary columns the wanted lines read are decoded whole into one table
//! (a tight loop per column, deltas summed), and the others only counted. A line then
//! finds each value at its column's cursor ([`Values::at`]), moved on by every line of
//! the column, rebuilt or not.

use super::search::Want;
use super::tokens::{DICT, HEX, INT};
use crate::aggregator::tsdb::record::{unzigzag, Cursor};
use std::ops::Range;

pub const RAN_OUT: &str = "a column runs out of values";
pub const LEFT_OVER: &str = "a column holds more values than the lines use";

/// One column of the block: its bytes, its placeholder kind, whether it holds deltas,
/// and what its lines take from it.
#[derive(Debug, Clone, Default)]
pub struct Column {
    pub bytes: Range<usize>,
    pub kind: u8,
    pub delta: bool,
    pub stock: Stock,
}

/// What the lines of a block take from a column, learnt from their templates: values
/// and packed bytes (hex), the length of every hex value when they agree on one, and
/// whether a wanted line reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stock {
    pub values: usize,
    pub bytes: usize,
    pub hex_len: HexLen,
    pub needed: bool,
}

/// The length of a hex column's values, learnt from its lines' placeholders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HexLen {
    #[default]
    Unknown,
    Fixed(u8),
    Mixed,
}

impl Stock {
    /// Counts a placeholder (of `kind` and `param`) of a template with `lines` lines;
    /// `wanted` whether those lines may be rebuilt.
    #[inline]
    pub fn add(&mut self, kind: u8, param: u8, lines: usize, wanted: bool) {
        self.values += lines;
        self.needed |= wanted && lines > 0;
        if kind != HEX || lines == 0 {
            return;
        }
        self.bytes += lines * usize::from(param.div_ceil(2));
        self.hex_len = match self.hex_len {
            HexLen::Unknown => HexLen::Fixed(param),
            HexLen::Fixed(len) if len == param => return,
            _ => HexLen::Mixed,
        };
    }
}

impl Column {
    /// Whether the column's cursor is an index into [`Values::table`] (not a hex
    /// column whose values' lengths vary or are unknown: its cursor is a byte offset).
    pub fn indexed(&self) -> bool {
        self.kind != HEX || matches!(self.stock.hex_len, HexLen::Fixed(_))
    }

    /// What the lines take: values, or bytes when not indexed.
    fn takes(&self) -> usize {
        match self.indexed() {
            true => self.stock.values,
            false => self.stock.bytes,
        }
    }
}

/// At most this many needles of digits are flagged in values (a scan with more
/// checks each line's values as it reads them).
pub const MAX_FLAGGED: usize = 8;

/// The needles of digits a scan checks values for: which each value holds is learnt
/// with the values ([`Values::flags`]).
pub struct Check<'w, 'n> {
    pub want: &'w Want<'n>,
    /// Which needles each dictionary value holds.
    pub dict_holds: &'w [u64],
    /// Whether integers are checked too (not when some needle's zero padding matters:
    /// their lines check them with each placeholder's width).
    pub ints: bool,
}

/// A column's cursor: the index in [`Values::table`] of its next value (not indexed:
/// where its next packed bytes start in the block), and whether its values are flagged.
#[derive(Debug, Clone, Copy)]
pub struct Cur {
    pub at: usize,
    pub indexed: bool,
    pub flagged: bool,
}

impl Cur {
    /// Moves past a value (`bytes` long when not indexed), returning where it was.
    #[inline]
    pub fn take(&mut self, bytes: u8) -> usize {
        let i = self.at;
        self.at += if self.indexed { 1 } else { usize::from(bytes) };
        i
    }

    /// Moves back before a value [`Cur::take`] moved past.
    #[inline]
    pub fn back(&mut self, bytes: u8) {
        self.at -= if self.indexed { 1 } else { usize::from(bytes) };
    }
}

/// The columns' values and cursors.
#[derive(Default)]
pub struct Values {
    /// Every needed indexed column's values (hex: where each starts in the block),
    /// column after column.
    pub table: Vec<u64>,
    /// Which needles of digits (at most [`MAX_FLAGGED`]) each value of
    /// [`Values::table`] holds, when checked: a byte each, so a block's flags stay in
    /// the nearest cache.
    pub flags: Vec<u8>,
    pub curs: Vec<Cur>,
}

impl Values {
    /// Readies `cols` of `raw`, checking each holds what its lines take; `check` what
    /// to flag values for.
    pub fn ready(
        &mut self,
        raw: &[u8],
        cols: &[Column],
        check: Option<&Check<'_, '_>>,
    ) -> Result<(), &'static str> {
        self.table.clear();
        self.flags.clear();
        self.curs.clear();
        for col in cols {
            let (bytes, take) = (&raw[col.bytes.clone()], col.takes());
            let first = self.table.len();
            let held = match (col.stock.hex_len, col.stock.needed) {
                (HexLen::Fixed(len), needed) => {
                    let per = usize::from(len).div_ceil(2);
                    match bytes.len().cmp(&(take * per)) {
                        std::cmp::Ordering::Less => return Err(RAN_OUT),
                        std::cmp::Ordering::Greater => return Err(LEFT_OVER),
                        std::cmp::Ordering::Equal => {}
                    }
                    if needed {
                        let at = (0..take).map(|k| (col.bytes.start + k * per) as u64);
                        self.table.extend(at);
                    }
                    take
                }
                _ if col.kind == HEX => bytes.len(),
                (_, true) => unpack(bytes, col.delta, &mut self.table)?,
                (_, false) => count(bytes)?,
            };
            match held.cmp(&take) {
                std::cmp::Ordering::Less => return Err(RAN_OUT),
                std::cmp::Ordering::Greater => return Err(LEFT_OVER),
                std::cmp::Ordering::Equal => {}
            }
            let indexed = col.indexed();
            // an unneeded column's cursor is moved on by lines not rebuilt, never read
            self.curs.push(Cur {
                at: match (indexed, col.stock.needed) {
                    (true, true) => first,
                    (true, false) => 0,
                    (false, _) => col.bytes.start,
                },
                indexed,
                flagged: check.is_some_and(|c| indexed && (c.ints || col.kind != INT)),
            });
            if let Some(check) = check {
                self.flag(raw, col, check);
            }
        }
        Ok(())
    }

    /// Learns which needles each value of `col` just added to the table holds (a value
    /// not checked here is flagged as holding them all: its line checks it).
    fn flag(&mut self, raw: &[u8], col: &Column, check: &Check<'_, '_>) {
        let values = &self.table[self.flags.len()..];
        let (want, all) = (check.want, u8::MAX);
        match col.stock.hex_len {
            _ if values.is_empty() => {}
            HexLen::Fixed(len) => want.flag_hex(raw, values, len.into(), &mut self.flags),
            _ if col.kind == HEX => {}
            _ if col.kind == DICT => {
                let f = values.iter().map(|&v| dict_mask(check.dict_holds, v) as u8);
                self.flags.extend(f);
            }
            _ if check.ints => want.flag_ints(values, &mut self.flags),
            _ => self.flags.extend(values.iter().map(|_| all)),
        }
    }
}

/// Which needles of digits dictionary value `v` holds (bit by bit), `dict_holds` saying
/// it of each; all of them when `v` is missing (rebuilding its line fails on it).
#[inline]
pub fn dict_mask(dict_holds: &[u64], v: u64) -> u64 {
    let m = usize::try_from(v).ok().and_then(|i| dict_holds.get(i));
    m.map_or(u64::MAX, |&m| m)
}

/// Appends the varints of `bytes` to `out` (summing zig-zag deltas when `delta`);
/// returns how many there were.
fn unpack(bytes: &[u8], delta: bool, out: &mut Vec<u64>) -> Result<usize, &'static str> {
    match delta {
        true => unpack_as::<true>(bytes, out),
        // a column of values below 128 (many are: a byte each) is widened at once
        false if count(bytes)? == bytes.len() => {
            out.extend(bytes.iter().map(|&b| u64::from(b)));
            Ok(bytes.len())
        }
        false => unpack_as::<false>(bytes, out),
    }
}

/// [`unpack`], `DELTA` a constant so that the loop has no branch on it; a varint of
/// one or two bytes (most are) is read at once.
fn unpack_as<const DELTA: bool>(bytes: &[u8], out: &mut Vec<u64>) -> Result<usize, &'static str> {
    let first = out.len();
    let (mut i, mut prev) = (0, 0u64);
    while let Some(&b) = bytes.get(i) {
        let mut v = u64::from(b);
        i += 1;
        if b >= 0x80 {
            match bytes.get(i) {
                Some(&c) if c < 0x80 => {
                    v = (v & 0x7f) | u64::from(c) << 7;
                    i += 1;
                }
                _ => {
                    let mut c = Cursor {
                        b: bytes,
                        at: i - 1,
                    };
                    v = c.uvarint().map_err(|_| RAN_OUT)?;
                    i = c.at;
                }
            }
        }
        if DELTA {
            prev = prev.wrapping_add(unzigzag(v) as u64);
            v = prev;
        }
        out.push(v);
    }
    Ok(out.len() - first)
}

/// How many varints `bytes` holds (each ends at a byte below 0x80; counted a word at a
/// time), refusing one cut short at the end.
fn count(bytes: &[u8]) -> Result<usize, &'static str> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if bytes.last().is_some_and(|&b| b >= 0x80) {
        return Err(RAN_OUT);
    }
    let words = bytes.chunks_exact(8);
    let rest = words.remainder().iter().filter(|&&b| b < 0x80).count();
    let full: u32 = words
        .map(|w| (!u64::from_le_bytes(w.try_into().expect("8 bytes")) & HIGH).count_ones())
        .sum();
    Ok(full as usize + rest)
}

#[cfg(test)]
mod tests {
    use super::super::tokens::INT;
    use super::*;
    use crate::aggregator::tsdb::record::put_uvarint;

    #[test]
    fn varints_are_unpacked_and_counted() {
        let values: Vec<u64> = (0..40).map(|i| (i * 7919) << (i % 5 * 5)).collect();
        let mut bytes = Vec::new();
        for &v in &values {
            put_uvarint(&mut bytes, v);
        }
        let mut out = vec![9];
        assert_eq!(unpack(&bytes, false, &mut out), Ok(40));
        assert_eq!(out[1..], values);
        for cut in 0..bytes.len() {
            let whole = bytes[..cut].last().is_none_or(|&b| b < 0x80);
            match count(&bytes[..cut]) {
                Ok(k) => assert!(whole && unpack(&bytes[..cut], false, &mut out) == Ok(k)),
                Err(_) => assert!(!whole && unpack(&bytes[..cut], false, &mut out).is_err()),
            }
        }
        assert_eq!(unpack(&[0x80; 20], false, &mut out), Err(RAN_OUT));
    }

    #[test]
    fn deltas_are_summed() {
        let mut bytes = Vec::new();
        for d in [5i64, -2, 10, 0, -13] {
            put_uvarint(&mut bytes, ((d << 1) ^ (d >> 63)) as u64);
        }
        let mut out = Vec::new();
        unpack(&bytes, true, &mut out).unwrap();
        assert_eq!(out, [5, 3, 13, 13, 0]);
    }

    #[test]
    fn a_column_must_hold_what_its_lines_take() {
        let mut raw = Vec::new();
        for v in [1u64, 300, 2] {
            put_uvarint(&mut raw, v);
        }
        raw.extend_from_slice(&[0xab, 0xcd, 0xef]);
        let col = |bytes, kind, lines: &[(u8, usize)], needed| {
            let mut stock = Stock::default();
            for &(param, n) in lines {
                stock.add(kind, param, n, needed);
            }
            Column {
                bytes,
                kind,
                delta: false,
                stock,
            }
        };
        let ready = |cols: &[Column]| Values::default().ready(&raw, cols, None).map(|_| ());
        let ints = |n, needed| col(0..4, INT, &[(0, n)], needed);
        let fixed = |n| col(4..7, HEX, &[(5, n)], true); // 3 bytes a value
        let mixed = |a, b| col(4..7, HEX, &[(4, a), (2, b)], true); // 2 and 1 bytes
        let mut v = Values::default();
        v.ready(&raw, &[ints(3, true), ints(3, false), fixed(1)], None)
            .unwrap();
        assert_eq!(v.table, [1, 300, 2, 4]);
        let at: Vec<usize> = v.curs.iter().map(|c| c.at).collect();
        assert_eq!(at, [0, 0, 3]);
        assert!(ready(&[mixed(1, 1)]).is_ok());
        for bad in [ints(4, true), ints(4, false), fixed(2), mixed(1, 2)] {
            assert_eq!(ready(&[bad]), Err(RAN_OUT));
        }
        for bad in [ints(2, true), ints(2, false), fixed(0), mixed(1, 0)] {
            assert_eq!(ready(&[bad]), Err(LEFT_OVER));
        }
    }
}
