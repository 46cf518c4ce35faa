//! Which values of a block's integer and dictionary columns hold a scan's needles of
//! digits ([`super::Want`]), found column by column before any line is read: a tight
//! loop over each column's varints instead of a check per placeholder of every line
//! (the scan of `"500"` reads every line of every block). The lines are then walked
//! counting each column's values ([`Hits::take`]); only lines that meet a holding
//! value are read and rebuilt, the others only counted against their columns.
//!
//! A value is checked without the width of the placeholder it fills (a column's values
//! may fill placeholders of several widths), so this serves only needles without a
//! leading zero ([`super::Want::by_value`]); the others are checked line by line.

use super::rebuild::Col;
use super::search::Want;
use super::tokens::{DICT, HEX};
use crate::aggregator::tsdb::record::unzigzag;

/// The holding values of every column of a block: for each column, the indexes of its
/// values (in column order) holding some needle and which (bit by bit), then a
/// sentinel; and how far the walk over the lines has come in each column.
#[derive(Default)]
pub struct Hits {
    /// `(value index, needles held)`, column after column, each ending in a sentinel.
    hits: Vec<(usize, u64)>,
    /// Per column: its values counted so far and its next entry in `hits`.
    at: Vec<(usize, usize)>,
}

impl Hits {
    /// Finds the holding values of `cols` (of kinds `kinds`; hex columns have none
    /// here, their values are checked as lines read them) in the block `raw`;
    /// `dict_holds` says which needles each dictionary value holds.
    pub fn find(
        &mut self,
        raw: &[u8],
        cols: &[Col],
        kinds: &[u8],
        want: &Want<'_>,
        dict_holds: &[u64],
    ) {
        self.hits.clear();
        self.at.clear();
        for (col, &kind) in cols.iter().zip(kinds) {
            self.at.push((0, self.hits.len()));
            match kind {
                HEX => {}
                DICT => column(raw, col, &mut self.hits, |v| {
                    // missing: rebuilding the line fails on it
                    usize::try_from(v)
                        .ok()
                        .and_then(|i| dict_holds.get(i))
                        .map_or(u64::MAX, |&m| m)
                }),
                _ => column(raw, col, &mut self.hits, |v| want.int_holds(v, 0)),
            }
            self.hits.push((usize::MAX, 0));
        }
    }

    /// Counts the next value of column `col`; returns which needles it holds.
    #[inline]
    pub fn take(&mut self, col: usize) -> u64 {
        let (seen, next) = &mut self.at[col];
        let (index, mask) = self.hits[*next];
        let held = if index == *seen {
            *next += 1;
            mask
        } else {
            0
        };
        *seen += 1;
        held
    }
}

/// Appends `(index, held)` for each value of `col` that `held` says holds a needle. It
/// stops at a varint cut short (reading the line that needs it fails on it).
fn column(raw: &[u8], col: &Col, hits: &mut Vec<(usize, u64)>, held: impl Fn(u64) -> u64) {
    let bytes = &raw[col.bytes.clone()];
    let (mut at, mut index, mut prev) = (0, 0, 0u64);
    while at < bytes.len() {
        let Some((v, len)) = varint(&bytes[at..]) else {
            return;
        };
        at += len;
        let v = if col.delta {
            prev = prev.wrapping_add(unzigzag(v) as u64);
            prev
        } else {
            v
        };
        let mask = held(v);
        if mask != 0 {
            hits.push((index, mask));
        }
        index += 1;
    }
}

/// The varint at the start of `bytes` and its length (None: cut short or too long).
#[inline]
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::logstore::fields::tokens::INT;
    use crate::aggregator::tsdb::record::{put_uvarint, zigzag};

    /// A column of `values` in `raw` (as deltas when `delta`).
    fn col(raw: &mut Vec<u8>, values: &[u64], delta: bool) -> Col {
        let start = raw.len();
        let mut prev = 0u64;
        for &v in values {
            let stored = if delta {
                zigzag(v.wrapping_sub(prev) as i64)
            } else {
                v
            };
            put_uvarint(raw, stored);
            prev = v;
        }
        Col {
            bytes: start..raw.len(),
            delta,
            ..Col::default()
        }
    }

    #[test]
    fn each_columns_holding_values_are_counted_in_order() {
        let mut raw = vec![0xff]; // a column need not start the block
        let a = [7, 500, 1500, 49, 5000, 12, 15003];
        let b = [1_800_000_500, 1_800_000_600, 1_800_001_500, 1_800_000_000];
        let cols = [col(&mut raw, &a, false), col(&mut raw, &b, true)];
        let want = Want::new(&[b"500"]);
        let mut hits = Hits::default();
        hits.find(&raw, &cols, &[INT, INT], &want, &[]);
        let taken: Vec<u64> = (0..a.len() + 2).map(|_| hits.take(0)).collect();
        assert_eq!(taken, [0, 1, 1, 0, 1, 0, 1, 0, 0]);
        let taken: Vec<u64> = (0..b.len()).map(|_| hits.take(1)).collect();
        assert_eq!(taken, [1, 0, 1, 0]);
    }

    #[test]
    fn dictionary_ids_hold_what_their_values_hold() {
        let mut raw = Vec::new();
        let cols = [col(&mut raw, &[2, 0, 1, 9], false)];
        let mut hits = Hits::default();
        let want = Want::new(&[b"500"]);
        hits.find(&raw, &cols, &[DICT], &want, &[0, 0, 1]);
        let taken: Vec<u64> = (0..4).map(|_| hits.take(0)).collect();
        // id 9 is missing: held, so that rebuilding its line reports it
        assert_eq!(taken, [1, 0, 0, u64::MAX]);
    }

    #[test]
    fn a_varint_cut_short_ends_the_column() {
        let mut raw = Vec::new();
        let mut c = col(&mut raw, &[500, 600], false);
        raw.push(0x80);
        c.bytes.end += 1;
        let mut hits = Hits::default();
        hits.find(&raw, &[c], &[INT], &Want::new(&[b"500"]), &[]);
        let taken: Vec<u64> = (0..3).map(|_| hits.take(0)).collect();
        assert_eq!(taken, [1, 0, 0]);
    }
}
