//! One template for a field whether or not a line's value had a leading zero. The
//! tokenizer gives an integer a zero-padded width only when it has a leading zero
//! (`07`), not when its digits fill the field (`17`), so `hh:mm:ss` times alone split a
//! template up to eight ways, and a block's per-template work grows with them. Per block,
//! templates that differ only in such widths are merged: a placeholder without a width
//! takes the width of its digits when every value its lines hold there has that many
//! and the block's other lines pad the field to it (printed padded or not, such a value
//! reads the same). Nothing else changes: a decoder reads a merged template as any
//! other.

use super::intern::Interned;
use super::tokens::INT;

/// What a block's first pass learnt: its templates as tokenized, and for each, where its
/// variables start in `ranges`: the least and greatest integer its lines hold at each.
pub struct Raw<'a> {
    pub templates: &'a Interned,
    pub starts: &'a [u32],
    pub ranges: &'a [(u64, u64)],
}

/// Merges templates, keeping its tables from block to block.
#[derive(Default)]
pub struct Widths {
    /// Templates with every integer's width byte zeroed.
    skeletons: Interned,
    /// Each raw template's skeleton, and where its integers end in `ints` (they start
    /// where the template before's end).
    raws: Vec<(u32, u32)>,
    /// Each raw template's integer placeholders: their variable's index, their place.
    ints: Vec<(u32, u32)>,
    /// Per skeleton (from `padded_at[skeleton]`), per variable: the widths its lines
    /// pad it to (bit `w` for width `w`).
    padded: Vec<u32>,
    padded_at: Vec<u32>,
    /// The merged templates that differ from their raw ones, back to back: raw
    /// template `i`'s ends at `ends[i]` (or is the raw one when as long as the last).
    merged: Vec<u8>,
    ends: Vec<usize>,
    scratch: Vec<u8>,
}

impl Widths {
    /// Works out the merged form of every raw template ([`Widths::get`]).
    pub fn merge(&mut self, raw: &Raw<'_>) {
        self.skeletons.clear();
        self.raws.clear();
        self.ints.clear();
        self.padded.clear();
        self.padded_at.clear();
        for id in 0..raw.templates.len() as u32 {
            self.learn(raw.templates.get(id));
        }
        self.merged.clear();
        self.ends.clear();
        for id in 0..raw.templates.len() {
            let ranges = &raw.ranges[raw.starts[id] as usize..];
            self.write(raw.templates.get(id as u32), id, ranges);
        }
    }

    /// The merged form of raw template `id` (of `raw`, the templates [`Widths::merge`]
    /// was given).
    pub fn get<'r>(&'r self, raw: &'r Interned, id: u32) -> &'r [u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        match self.ends[id] > start {
            true => &self.merged[start..self.ends[id]],
            false => raw.get(id as u32),
        }
    }

    /// Files raw template `tpl` under its skeleton, with the widths it pads to.
    fn learn(&mut self, tpl: &[u8]) {
        let first = self.ints.len();
        let mut vars = 0;
        for (k, p) in placeholders(tpl) {
            vars = k + 1;
            if tpl[p] == INT {
                self.ints.push((k as u32, p as u32));
            }
        }
        let ints = &self.ints[first..];
        let (skeleton, new) = match ints.iter().any(|&(_, p)| tpl[p as usize + 1] != 0) {
            false => self.skeletons.intern(tpl),
            true => {
                self.scratch.clear();
                self.scratch.extend_from_slice(tpl);
                ints.iter()
                    .for_each(|&(_, p)| self.scratch[p as usize + 1] = 0);
                self.skeletons.intern(&self.scratch)
            }
        };
        self.raws.push((skeleton, self.ints.len() as u32));
        if new {
            self.padded_at.push(self.padded.len() as u32);
            self.padded.resize(self.padded.len() + vars, 0);
        }
        let at = self.padded_at[skeleton as usize] as usize;
        for &(k, p) in &self.ints[first..] {
            // widths are 0 (none) or 2 to 18 (the tokenizer's longest piece)
            let w = tpl[p as usize + 1];
            if w != 0 {
                self.padded[at + k as usize] |= 1 << w.min(31);
            }
        }
    }

    /// Appends raw template `id` (`tpl`) merged: each integer without a width takes the
    /// width of its values' digits (`ranges`: least and greatest, all as many) when
    /// other lines of its skeleton pad to it.
    fn write(&mut self, tpl: &[u8], id: usize, ranges: &[(u64, u64)]) {
        let (skeleton, end) = self.raws[id];
        let first = if id == 0 {
            0
        } else {
            self.raws[id - 1].1 as usize
        };
        let at = self.padded_at[skeleton as usize] as usize;
        let start = self.merged.len();
        for &(k, p) in &self.ints[first..end as usize] {
            let (padded, p) = (self.padded[at + k as usize], p as usize);
            if tpl[p + 1] != 0 || padded == 0 {
                continue; // padded already, or no line pads the field
            }
            let (low, high) = ranges[k as usize];
            let w = super::digits(low) as u8;
            let takes = padded & 1 << w != 0 && digits_all(w, low, high);
            if takes {
                if self.merged.len() == start {
                    self.merged.extend_from_slice(tpl);
                }
                self.merged[start + p + 1] = w;
            }
        }
        self.ends.push(self.merged.len());
    }
}

/// Whether every integer from `low` to `high` has `w` digits (`w` a width the tokenizer
/// gives: 2 to 18; any other is no width to take).
fn digits_all(w: u8, low: u64, high: u64) -> bool {
    if !(2..=18).contains(&w) {
        return false;
    }
    let least = 10u64.pow(u32::from(w) - 1);
    low >= least && high < least * 10
}

/// Each placeholder of a template the tokenizer made: its variable's index, its place.
fn placeholders(tpl: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    super::placeholders(tpl).enumerate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_counts() {
        assert!(digits_all(2, 10, 99));
        assert!(!digits_all(2, 9, 99));
        assert!(!digits_all(2, 10, 100));
        assert!(digits_all(3, 100, 999));
        assert!(!digits_all(0, 10, 99));
        assert!(!digits_all(u8::MAX, 10, 99));
        let d = super::super::digits;
        assert_eq!((d(0), d(9), d(10), d(u64::MAX)), (1, 1, 2, 20));
        assert!(digits_all(18, 10u64.pow(17), 10u64.pow(18) - 1));
        assert!(!digits_all(19, 10u64.pow(18), u64::MAX));
    }
}
