//! Writing a block in format 3 (see [`super`] for the layout): each line is tokenized
//! ([`tokens`]) into a template (looked up in the block's template table, which knows
//! each placeholder's column) and variables, which go to those columns. Buffers are
//! reused line to line, so a line costs no allocation unless its template or
//! dictionary value is new.

use super::tokens::{tokenize, Var};
use super::{ColumnKeys, Sections};
use crate::aggregator::logstore::block::{put_metadata, HeadEntry};
use crate::aggregator::tsdb::record::{put_uvarint, zigzag};
use std::collections::HashMap;

/// One column's values while a block is encoded.
#[derive(Default)]
struct Column {
    /// Integers, or dictionary ids.
    ints: Vec<u64>,
    /// Packed hex nibbles.
    nibbles: Vec<u8>,
}

type Map<K> = HashMap<K, u32, foldhash::fast::FixedState>;

/// The block's tables and columns.
#[derive(Default)]
struct Tables<'a> {
    templates: Map<Vec<u8>>,
    /// Each template's placeholders' columns: `slots[spans[id]]`.
    spans: Vec<std::ops::Range<usize>>,
    slots: Vec<u32>,
    keys: ColumnKeys,
    ids: Vec<u64>,
    dict: Map<&'a [u8]>,
    columns: Vec<Column>,
}

/// Encodes entries (already in time order) as a format-3 block's raw bytes; returns
/// where each section ends (for measuring).
pub fn encode(entries: &[HeadEntry], out: &mut Vec<u8>) -> Sections {
    let start = out.len();
    put_uvarint(out, entries.len() as u64);
    times(entries, out);
    let times = out.len() - start;
    put_metadata(entries, out);
    let metadata = out.len() - start;
    let t = tables(entries);
    let sorted = t.sorted();
    put_uvarint(out, sorted.templates.len() as u64);
    for tpl in &sorted.templates {
        put_uvarint(out, tpl.len() as u64);
        out.extend_from_slice(tpl);
    }
    let templates = out.len() - start;
    t.ids
        .iter()
        .for_each(|&id| put_uvarint(out, u64::from(sorted.rank[id as usize])));
    let ids = out.len() - start;
    let mut dict: Vec<(&[u8], u32)> = t.dict.iter().map(|(k, &v)| (*k, v)).collect();
    dict.sort_unstable_by_key(|d| d.1);
    put_uvarint(out, dict.len() as u64);
    for (value, _) in dict {
        put_uvarint(out, value.len() as u64);
        out.extend_from_slice(value);
    }
    let dict = out.len() - start;
    columns(sorted.columns.iter().map(|&c| &t.columns[c as usize]), out);
    Sections {
        times,
        metadata,
        templates,
        ids,
        dict,
        columns: out.len() - start,
    }
}

/// Times as zig-zag deltas, split into byte planes (all low bytes, then the next...):
/// a plane of near-constant high bytes compresses to almost nothing.
fn times(entries: &[HeadEntry], out: &mut Vec<u8>) {
    let mut prev = 0i64;
    let deltas: Vec<u64> = entries
        .iter()
        .map(|e| zigzag(e.ts.wrapping_sub(std::mem::replace(&mut prev, e.ts))))
        .collect();
    let max = deltas.iter().copied().max().unwrap_or(0);
    let width = (64 - max.leading_zeros()).div_ceil(8) as usize;
    out.push(width as u8);
    for plane in 0..width {
        out.extend(deltas.iter().map(|d| (d >> (8 * plane)) as u8));
    }
}

fn tables(entries: &[HeadEntry]) -> Tables<'_> {
    let mut t = Tables::default();
    let (mut tpl, mut vars) = (Vec::with_capacity(256), Vec::with_capacity(32));
    for e in entries {
        tpl.clear();
        vars.clear();
        tokenize(e.line.as_bytes(), &mut tpl, &mut vars);
        let id = match t.templates.get(tpl.as_slice()) {
            Some(&id) => id,
            None => t.add_template(&tpl),
        };
        t.ids.push(u64::from(id));
        let span = t.spans[id as usize].clone();
        for (&at, v) in t.slots[span].iter().zip(&vars) {
            let next = t.dict.len() as u32;
            let col = &mut t.columns[at as usize];
            match *v {
                Var::Int(x) => col.ints.push(x),
                Var::Dict(s) => col.ints.push(u64::from(*t.dict.entry(s).or_insert(next))),
                Var::Hex(h) => pack_nibbles(h, &mut col.nibbles),
            }
        }
    }
    t
}

/// The order a block's tables are written in.
struct Sorted<'t> {
    /// Templates in byte order (neighbours share prefixes, which the compressor finds).
    templates: Vec<&'t [u8]>,
    /// A template's place in that order, by its id.
    rank: Vec<u32>,
    /// Columns in the order the decoder numbers them from the sorted templates.
    columns: Vec<u32>,
}

impl Tables<'_> {
    fn sorted(&self) -> Sorted<'_> {
        let mut by_id: Vec<(&[u8], u32)> = self
            .templates
            .iter()
            .map(|(k, &v)| (k.as_slice(), v))
            .collect();
        by_id.sort_unstable();
        let mut rank = vec![0; by_id.len()];
        // the decoder numbers columns by first use over the sorted templates; a key
        // is one column here too, so first uses of these columns give the same order
        let mut columns = Vec::with_capacity(self.columns.len());
        let mut seen = vec![false; self.columns.len()];
        for (new, &(_, old)) in by_id.iter().enumerate() {
            rank[old as usize] = new as u32;
            for &from in &self.slots[self.spans[old as usize].clone()] {
                if !std::mem::replace(&mut seen[from as usize], true) {
                    columns.push(from);
                }
            }
        }
        Sorted {
            templates: by_id.into_iter().map(|t| t.0).collect(),
            rank,
            columns,
        }
    }

    /// Adds a template (and any new column of its placeholders); returns its id.
    fn add_template(&mut self, tpl: &[u8]) -> u32 {
        let id = self.templates.len() as u32;
        self.templates.insert(tpl.to_vec(), id);
        let start = self.slots.len();
        self.keys.of_template(tpl, &mut self.slots);
        self.spans.push(start..self.slots.len());
        self.columns.resize_with(self.keys.len(), Column::default);
        id
    }
}

/// Two hex characters a byte, the first in the high nibble; an odd last one alone.
fn pack_nibbles(hex: &[u8], out: &mut Vec<u8>) {
    let nib = |c: u8| if c <= b'9' { c - b'0' } else { c - b'a' + 10 };
    for pair in hex.chunks(2) {
        let lo = pair.get(1).map_or(0, |&c| nib(c));
        out.push(nib(pair[0]) << 4 | lo);
    }
}

/// The columns, each: whether it holds deltas, its byte length, its bytes. An integer
/// column is written as deltas when that takes fewer bytes.
fn columns<'c>(columns: impl ExactSizeIterator<Item = &'c Column>, out: &mut Vec<u8>) {
    put_uvarint(out, columns.len() as u64);
    let mut body = Vec::new();
    for c in columns {
        body.clear();
        let delta = !c.ints.is_empty() && delta_is_smaller(&c.ints);
        if delta {
            let mut prev = 0u64;
            for &x in &c.ints {
                put_uvarint(&mut body, zigzag(x.wrapping_sub(prev) as i64));
                prev = x;
            }
        } else {
            c.ints.iter().for_each(|&x| put_uvarint(&mut body, x));
            body.extend_from_slice(&c.nibbles);
        }
        out.push(u8::from(delta));
        put_uvarint(out, body.len() as u64);
        out.extend_from_slice(&body);
    }
}

fn varint_len(x: u64) -> usize {
    (64 - (x | 1).leading_zeros() as usize).div_ceil(7)
}

fn delta_is_smaller(xs: &[u64]) -> bool {
    let plain: usize = xs.iter().map(|&x| varint_len(x)).sum();
    let mut prev = 0u64;
    let delta: usize = xs
        .iter()
        .map(|&x| {
            varint_len(zigzag(
                x.wrapping_sub(std::mem::replace(&mut prev, x)) as i64
            ))
        })
        .sum();
    delta < plain
}
