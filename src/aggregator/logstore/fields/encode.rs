//! Writing a block in format 4 (see [`super`] for the layout), in two passes: each line
//! is tokenized ([`tokens`]) into a raw template and variables (kept, with the least and
//! greatest integer or dictionary id each raw template holds at each variable); raw
//! templates differing only in zero-padding widths are merged ([`super::widths`]), and
//! the variables that hold one value in all of a merged template's lines are written
//! into it ([`super::consts`]); then each line's other variables go to the columns of
//! its template (looked up in the block's template table, which knows each
//! placeholder's column). The tables
//! ([`Interned`], columns) are kept per thread and cleared, not reallocated, from block
//! to block, so a line costs no allocation unless it outgrows what an earlier block
//! needed.

use super::consts::Consts;
use super::intern::Interned;
use super::tokens::{tokenize, Var};
use super::widths::{self, Widths};
use super::{ColumnKeys, Sections};
use crate::aggregator::logstore::block::{put_metadata, HeadEntry};
use crate::aggregator::tsdb::record::{put_uvarint, uvarint_len, zigzag};
use std::cell::RefCell;
use std::ops::Range;

/// One column's values while a block is encoded.
#[derive(Default)]
struct Column {
    /// Integers, or dictionary ids.
    ints: Vec<u64>,
    /// Packed hex nibbles.
    nibbles: Vec<u8>,
}

impl Column {
    /// Appends a value (hex: packed in `nibbles`).
    #[inline]
    fn push(&mut self, tok: Tok, nibbles: &[u8]) {
        match tok {
            Tok::Int(x) => self.ints.push(x),
            Tok::Dict(d) => self.ints.push(u64::from(d)),
            Tok::Hex(s, n) => self
                .nibbles
                .extend_from_slice(&nibbles[s as usize..(s + n) as usize]),
        }
    }
}

/// A line's variable between the two passes: an integer, a dictionary id, or where a
/// hex variable's packed nibbles lie in [`FirstPass::nibbles`] (read while the line is
/// at hand, not again from it).
#[derive(Clone, Copy)]
enum Tok {
    Int(u64),
    Dict(u32),
    Hex(u32, u32),
}

/// The first pass: each line tokenized, its template as tokenized ([`widths`]).
#[derive(Default)]
struct FirstPass {
    templates: Interned,
    /// Each raw template's first variable in `ranges`, and its lines.
    starts: Vec<u32>,
    counts: Vec<u32>,
    /// The least and greatest integer (or dictionary id) the lines of a raw template
    /// hold at a variable.
    ranges: Vec<(u64, u64)>,
    /// Each line's raw template and where its variables end in `toks`.
    lines: Vec<(u32, u32)>,
    toks: Vec<Tok>,
    nibbles: Vec<u8>,
    /// Each raw template's merged template's id (in [`Tables::consts`]).
    merged: Vec<u32>,
}

/// The block's tables and columns (and scratch buffers), kept from block to block.
#[derive(Default)]
struct Tables {
    first: FirstPass,
    widths: Widths,
    consts: Consts,
    /// Each merged template's template (its constants written in), by merged id, and
    /// the variables it keeps (`kept[range]`; `None`: all of them).
    finals: Vec<u32>,
    keeps: Vec<Option<Range<u32>>>,
    kept: Vec<u32>,
    templates: Interned,
    /// Each template's placeholders' columns: `slots[spans[id]]`.
    spans: Vec<std::ops::Range<usize>>,
    slots: Vec<u32>,
    keys: ColumnKeys,
    ids: Vec<u64>,
    dict: Interned,
    /// The first `keys.len()` are this block's; the rest are kept for their buffers.
    columns: Vec<Column>,
    tpl: Vec<u8>,
    deltas: Vec<u64>,
    body: Vec<u8>,
}

thread_local! {
    /// Each thread's tables: a block costs no allocation once one as big came before
    /// on the thread (they keep what the biggest block needed: a block is at most
    /// `block_bytes`, and its first pass's variables about as much again, so about twice
    /// that a thread that cuts blocks).
    static TABLES: RefCell<Tables> = RefCell::default();
}

/// Encodes entries (already in time order) as a format-4 block's raw bytes; returns
/// where each section ends (for measuring).
pub fn encode(entries: &[HeadEntry], out: &mut Vec<u8>) -> Sections {
    TABLES.with(|t| match t.try_borrow_mut() {
        Ok(mut t) => encode_with(&mut t, entries, out),
        Err(_) => encode_with(&mut Tables::default(), entries, out),
    })
}

fn encode_with(t: &mut Tables, entries: &[HeadEntry], out: &mut Vec<u8>) -> Sections {
    let start = out.len();
    put_uvarint(out, entries.len() as u64);
    times(entries, &mut t.deltas, out);
    let times = out.len() - start;
    put_metadata(entries, out);
    let metadata = out.len() - start;
    t.fill(entries);
    let sorted = t.sorted();
    put_uvarint(out, sorted.order.len() as u64);
    for &id in &sorted.order {
        let tpl = t.templates.get(id);
        put_uvarint(out, tpl.len() as u64);
        out.extend_from_slice(tpl);
    }
    let templates = out.len() - start;
    t.ids
        .iter()
        .for_each(|&id| put_uvarint(out, u64::from(sorted.rank[id as usize])));
    let ids = out.len() - start;
    put_uvarint(out, t.dict.len() as u64);
    for id in 0..t.dict.len() as u32 {
        let value = t.dict.get(id);
        put_uvarint(out, value.len() as u64);
        out.extend_from_slice(value);
    }
    let dict = out.len() - start;
    let cols = sorted.columns.iter().map(|&c| &t.columns[c as usize]);
    columns(cols, &mut t.body, out);
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
fn times(entries: &[HeadEntry], deltas: &mut Vec<u64>, out: &mut Vec<u8>) {
    let mut prev = 0i64;
    deltas.clear();
    deltas.extend(
        entries
            .iter()
            .map(|e| zigzag(e.ts.wrapping_sub(std::mem::replace(&mut prev, e.ts)))),
    );
    let max = deltas.iter().copied().max().unwrap_or(0);
    let width = (64 - max.leading_zeros()).div_ceil(8) as usize;
    out.push(width as u8);
    for plane in 0..width {
        out.extend(deltas.iter().map(|d| (d >> (8 * plane)) as u8));
    }
}

/// The order a block's tables are written in.
struct Sorted {
    /// Template ids in their templates' byte order (neighbours share prefixes, which
    /// the compressor finds).
    order: Vec<u32>,
    /// A template's place in that order, by its id.
    rank: Vec<u32>,
    /// Columns in the order the decoder numbers them from the sorted templates.
    columns: Vec<u32>,
}

impl Tables {
    /// Clears the last block's tables (keeping their buffers).
    fn clear(&mut self) {
        self.templates.clear();
        self.spans.clear();
        self.slots.clear();
        self.ids.clear();
        self.dict.clear();
        for c in &mut self.columns[..self.keys.len()] {
            c.ints.clear();
            c.nibbles.clear();
        }
        self.keys.clear();
    }

    /// Tokenizes every line, merges templates that differ only in zero-padding widths
    /// ([`widths`]) and writes their constants in ([`super::consts`]), then puts each
    /// line's other variables in its template's columns.
    fn fill(&mut self, entries: &[HeadEntry]) {
        self.clear();
        let mut first = std::mem::take(&mut self.first);
        first.tokenize(entries, &mut self.tpl, &mut self.dict);
        self.widths.merge(&widths::Raw {
            templates: &first.templates,
            starts: &first.starts,
            ranges: &first.ranges,
        });
        let mut consts = std::mem::take(&mut self.consts);
        self.write_constants_in(&mut first, &mut consts);
        self.consts = consts;
        let mut from = 0;
        for &(raw, to) in &first.lines {
            let merged = first.merged[raw as usize] as usize;
            let id = self.finals[merged];
            self.ids.push(u64::from(id));
            let toks = &first.toks[from as usize..to as usize];
            self.put(id, toks, &first.nibbles, self.keeps[merged].clone());
            from = to;
        }
        self.first = first;
    }

    /// Gathers each merged template's lines' values (`consts`), then adds every merged
    /// template to the block's, its constants written in ([`super::consts`]).
    fn write_constants_in(&mut self, first: &mut FirstPass, consts: &mut Consts) {
        consts.clear();
        first.merged.clear();
        for raw in 0..first.templates.len() {
            let start = first.starts[raw] as usize;
            let end = first
                .starts
                .get(raw + 1)
                .map_or(first.ranges.len(), |&e| e as usize);
            let tpl = self.widths.get(&first.templates, raw as u32);
            let merged = consts.add(tpl, &first.ranges[start..end], first.counts[raw]);
            first.merged.push(merged);
        }
        self.finals.clear();
        self.keeps.clear();
        self.kept.clear();
        for merged in 0..consts.len() as u32 {
            let keep = consts.write(merged, &self.dict).then(|| {
                let at = self.kept.len() as u32;
                self.kept.extend_from_slice(&consts.kept);
                at..self.kept.len() as u32
            });
            let tpl = match keep {
                Some(_) => &consts.written,
                None => consts.template(merged),
            };
            let id = self.template_of(tpl);
            self.finals.push(id);
            self.keeps.push(keep);
        }
    }

    /// The id of template `tpl`, added (with any new column of its placeholders) if
    /// new.
    fn template_of(&mut self, tpl: &[u8]) -> u32 {
        let (id, new) = self.templates.intern(tpl);
        if new {
            let start = self.slots.len();
            self.keys.of_template(tpl, &mut self.slots);
            self.spans.push(start..self.slots.len());
            if self.columns.len() < self.keys.len() {
                self.columns.resize_with(self.keys.len(), Column::default);
            }
        }
        id
    }

    /// Puts a line's variables (`toks`; hex ones packed in `nibbles`) in the columns of
    /// template `id`: those `keep` names (`kept[keep]`), or all of them.
    fn put(&mut self, id: u32, toks: &[Tok], nibbles: &[u8], keep: Option<Range<u32>>) {
        let slots = &self.slots[self.spans[id as usize].clone()];
        let Some(keep) = keep else {
            for (&col, &tok) in slots.iter().zip(toks) {
                self.columns[col as usize].push(tok, nibbles);
            }
            return;
        };
        let kept = &self.kept[keep.start as usize..keep.end as usize];
        for (&col, &k) in slots.iter().zip(kept) {
            self.columns[col as usize].push(toks[k as usize], nibbles);
        }
    }

    fn sorted(&self) -> Sorted {
        let mut order: Vec<u32> = (0..self.templates.len() as u32).collect();
        order.sort_unstable_by_key(|&id| self.templates.get(id));
        let mut rank = vec![0; order.len()];
        // the decoder numbers columns by first use over the sorted templates; a key
        // is one column here too, so first uses of these columns give the same order
        let n = self.keys.len();
        let mut columns = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = new as u32;
            for &from in &self.slots[self.spans[old as usize].clone()] {
                if !std::mem::replace(&mut seen[from as usize], true) {
                    columns.push(from);
                }
            }
        }
        Sorted {
            order,
            rank,
            columns,
        }
    }
}

impl FirstPass {
    /// Tokenizes every line (`tpl` scratch space), learning each raw template's
    /// integers' least and greatest values; dictionary values go in `dict`.
    fn tokenize(&mut self, entries: &[HeadEntry], tpl: &mut Vec<u8>, dict: &mut Interned) {
        self.templates.clear();
        self.starts.clear();
        self.counts.clear();
        self.ranges.clear();
        self.lines.clear();
        self.toks.clear();
        self.nibbles.clear();
        let mut vars = Vec::with_capacity(32);
        for e in entries {
            let line = e.line.as_bytes();
            tpl.clear();
            vars.clear();
            tokenize(line, tpl, &mut vars);
            let (raw, new) = self.templates.intern(tpl);
            if new {
                self.starts.push(self.ranges.len() as u32);
                self.counts.push(0);
                let n = self.ranges.len() + vars.len();
                self.ranges.resize(n, (u64::MAX, 0));
            }
            self.counts[raw as usize] += 1;
            let start = self.starts[raw as usize] as usize;
            let ranges = &mut self.ranges[start..start + vars.len()];
            let nibbles = &mut self.nibbles;
            let toks = vars.iter().zip(ranges).map(|(v, r)| match *v {
                Var::Int(x) => {
                    *r = (r.0.min(x), r.1.max(x));
                    Tok::Int(x)
                }
                Var::Hex(h) => {
                    let at = nibbles.len();
                    pack_nibbles(h, nibbles);
                    Tok::Hex(at as u32, (nibbles.len() - at) as u32)
                }
                Var::Dict(d) => {
                    let id = dict.intern(d).0;
                    *r = (r.0.min(u64::from(id)), r.1.max(u64::from(id)));
                    Tok::Dict(id)
                }
            });
            self.toks.extend(toks);
            self.lines.push((raw, self.toks.len() as u32));
        }
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
fn columns<'c>(
    columns: impl ExactSizeIterator<Item = &'c Column>,
    body: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    put_uvarint(out, columns.len() as u64);
    for c in columns {
        body.clear();
        let delta = !c.ints.is_empty() && delta_is_smaller(&c.ints);
        if delta {
            let mut prev = 0u64;
            for &x in &c.ints {
                put_uvarint(body, zigzag(x.wrapping_sub(prev) as i64));
                prev = x;
            }
        } else {
            c.ints.iter().for_each(|&x| put_uvarint(body, x));
            body.extend_from_slice(&c.nibbles);
        }
        out.push(u8::from(delta));
        put_uvarint(out, body.len() as u64);
        out.extend_from_slice(body);
    }
}

fn delta_is_smaller(xs: &[u64]) -> bool {
    let plain: usize = xs.iter().map(|&x| uvarint_len(x)).sum();
    let mut prev = 0u64;
    let delta: usize = xs
        .iter()
        .map(|&x| {
            uvarint_len(zigzag(
                x.wrapping_sub(std::mem::replace(&mut prev, x)) as i64
            ))
        })
        .sum();
    delta < plain
}
