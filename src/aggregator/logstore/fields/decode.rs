//! Reading a format-3 or 4 block (see [`super`]): its lines are rebuilt back to back into a
//! reusable buffer, each template's static text copied and each placeholder filled from
//! the next value of its column (numbered from the templates as the encoder numbered
//! them: [`super::compile`]), with [`Slot`]s pointing into that buffer as format 2's point
//! into its block. The columns are read first ([`super::values`]): checked against what the
//! lines take, and the ones wanted lines read decoded whole. A scan rebuilds only the
//! lines [`Want`] lets through; the others only move their columns' cursors. No
//! allocation per line; bad input is an error, never a panic.

use super::compile::{Compiler, Step};
use super::rebuild::{self, Value};
use super::search::Want;
use super::tokens::{DICT, INT};
use super::values::{dict_mask, Check, Column, Cur, Stock, Values, MAX_FLAGGED};
use crate::aggregator::logstore::block::Slot;
use crate::aggregator::tsdb::record::{unzigzag, Cursor, RecordError};
use std::ops::Range;

/// A step of rebuilding a line: the compiler's [`Step`] as it is (copied whole).
type Op = Step;

impl Step {
    fn col(&self) -> usize {
        self.col as usize
    }
}

/// A template, compiled for this block: its text starts at `raw[start]`, its steps are
/// `ops[steps]`, then the static text `raw[tail]`; `wanted` whether its lines may be
/// rebuilt, `joined` whether it has integer pieces back to back.
#[derive(Debug, Clone)]
struct Program {
    start: usize,
    steps: Range<usize>,
    tail: Range<usize>,
    wanted: bool,
    joined: bool,
    /// Whether every value its lines read is flagged (set once the columns are read).
    flagged: bool,
    /// Which needles of digits its text holds (constants written in: [`super::consts`]),
    /// so every one of its lines.
    holds: u64,
}

/// What decoding reuses from block to block (tables of byte ranges into the block).
#[derive(Default)]
pub struct Decoder {
    compiler: Compiler,
    programs: Vec<Program>,
    ops: Vec<Op>,
    dict: Vec<Range<usize>>,
    /// Which needles of digits each dictionary value holds (bit by bit).
    dict_holds: Vec<u64>,
    /// Each template's bytes in the block.
    templates: Vec<Range<usize>>,
    ids: Vec<u32>,
    /// How many lines each template has.
    lines_of: Vec<usize>,
    /// What the lines take from each column, by number.
    stock: Vec<Stock>,
    cols: Vec<Column>,
    values: Values,
    /// A hex value printed, to search.
    text: Vec<u8>,
}

/// A damaged block could repeat a long template for every entry: past this, it is
/// refused instead of filling memory (a block is cut at `block_bytes` of lines, 1 MiB).
const MAX_LINES_BYTES: usize = 1 << 30;

/// Decodes a format-3 or 4 block with a fresh [`Decoder`].
pub fn decode(raw: &[u8], lines: &mut Vec<u8>, slots: &mut Vec<Slot>) -> Result<(), String> {
    Decoder::default().decode(raw, lines, slots)
}

fn rec(e: RecordError) -> String {
    e.to_string()
}

impl Decoder {
    /// About how many bytes the decoder's tables hold.
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.programs.capacity() * size_of::<Program>()
            + self.ops.capacity() * size_of::<Op>()
            + (self.dict.capacity() + self.templates.capacity()) * size_of::<Range<usize>>()
            + self.cols.capacity() * size_of::<Column>()
            + (self.dict_holds.capacity() + self.values.table.capacity()) * 8
            + self.lines_of.capacity() * 8
            + self.stock.capacity() * size_of::<Stock>()
            + self.values.curs.capacity() * size_of::<Cur>()
            + self.values.flags.capacity()
            + self.ids.capacity() * 4
            + self.text.capacity()
    }

    /// Rebuilds the block's lines into `lines` (cleared first) and its entries into
    /// `slots` (cleared first; each line is `lines[start..start + len]`).
    pub fn decode(
        &mut self,
        raw: &[u8],
        lines: &mut Vec<u8>,
        slots: &mut Vec<Slot>,
    ) -> Result<(), String> {
        self.decode_where(raw, &Want::default(), lines, slots)
    }

    /// As [`Decoder::decode`], but rebuilds only the lines that may hold every needle
    /// `want` was made from: lines whose template holds every needle's static part and
    /// (for needles of digits only) some of whose values hold each; the other lines are
    /// left empty (`len` 0).
    pub fn decode_where(
        &mut self,
        raw: &[u8],
        want: &Want<'_>,
        lines: &mut Vec<u8>,
        slots: &mut Vec<Slot>,
    ) -> Result<(), String> {
        lines.clear();
        slots.clear();
        if u32::try_from(raw.len()).is_err() {
            return Err(format!("a block of {} bytes", raw.len()));
        }
        let mut c = Cursor::new(raw);
        let n = c.count().map_err(rec)?;
        times(&mut c, n, slots)?;
        metadata(&mut c, slots)?;
        let any = self.tables(&mut c, n, want)?;
        self.columns(&mut c)?;
        if c.left() != 0 {
            return Err(format!("{} bytes after the block's columns", c.left()));
        }
        let check = Check {
            want,
            dict_holds: &self.dict_holds,
            ints: want.ints_exact(),
        };
        let flagged = want.all_digits() != 0 && want.all_digits() < 1 << MAX_FLAGGED;
        let check = (any && flagged).then_some(&check);
        self.values.ready(raw, &self.cols, check)?;
        if !any {
            return Ok(()); // no line can hold the needles: none is rebuilt (all empty)
        }
        if check.is_some() {
            self.learn_flagged();
        }
        lines.reserve(raw.len() * 4);
        for (i, s) in slots.iter_mut().enumerate() {
            s.start = lines.len();
            self.line(raw, self.ids[i] as usize, want, lines)?;
            s.len = lines.len() - s.start;
            if lines.len() > MAX_LINES_BYTES {
                return Err(format!("block rebuilds past {MAX_LINES_BYTES} bytes"));
            }
        }
        Ok(())
    }

    /// Moves the cursors of a line of template `id` past its values, and appends the
    /// line to `out` when it is wanted: its template is, and its values hold every
    /// needle of digits (when it has no integer pieces back to back).
    fn line(
        &mut self,
        raw: &[u8],
        id: usize,
        want: &Want<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let p = &self.programs[id];
        if !p.wanted {
            self.skip(id, |c, bytes| _ = c.take(bytes));
            return Ok(());
        }
        let (all, holds) = (want.all_digits(), p.holds);
        if all != 0 && !p.joined {
            if self.mask(raw, id, want) | holds != all {
                return Ok(()); // its cursors moved on by the check
            }
            self.skip(id, Cur::back);
        }
        self.rebuild(raw, id, out)
    }

    /// Moves the cursors of a line of template `id` (past its values: [`Cur::take`];
    /// back before them: [`Cur::back`]).
    #[inline]
    fn skip(&mut self, id: usize, mv: impl Fn(&mut Cur, u8)) {
        let curs = &mut self.values.curs;
        for op in &self.ops[self.programs[id].steps.clone()] {
            mv(&mut curs[op.col()], op.bytes);
        }
    }

    /// Appends a line of template `id` to `out`, its values read at its columns' cursors.
    fn rebuild(&mut self, raw: &[u8], id: usize, out: &mut Vec<u8>) -> Result<(), String> {
        let p = &self.programs[id];
        let Values { table, curs, .. } = &mut self.values;
        let mut at = p.start;
        for op in &self.ops[p.steps.clone()] {
            let cur = &mut curs[op.col()];
            let i = cur.take(op.bytes);
            let v = value(table, cur, i);
            let lit = at..at + op.lit as usize;
            at = lit.end + usize::from(op.len);
            super::put_text(out, raw, lit);
            rebuild::put_value(v, op.kind, op.param, raw, &self.dict, out)?;
        }
        super::put_text(out, raw, p.tail.clone());
        Ok(())
    }

    /// Which needles of digits the values of a line of template `id` hold (bit by bit),
    /// moving its cursors past them.
    fn mask(&mut self, raw: &[u8], id: usize, want: &Want<'_>) -> u64 {
        let ops = &self.ops[self.programs[id].steps.clone()];
        let Values {
            table, flags, curs, ..
        } = &mut self.values;
        if self.programs[id].flagged {
            return flagged_mask(ops, curs, flags);
        }
        let mut mask = 0;
        for op in ops {
            let cur = &mut curs[op.col()];
            let i = cur.take(op.bytes);
            mask |= match cur.flagged {
                true => u64::from(flags[i]),
                false => {
                    let v = value(table, cur, i);
                    holds(raw, op, v, (&self.dict_holds, want), &mut self.text)
                }
            };
        }
        mask
    }

    /// Marks the wanted templates whose every value is flagged (all of them when every
    /// column is, as is usual: no template is then looked at).
    fn learn_flagged(&mut self) {
        let curs = &self.values.curs;
        let every = curs.iter().all(|c| c.flagged);
        for p in self.programs.iter_mut().filter(|p| p.wanted) {
            p.flagged = every
                || self.ops[p.steps.clone()]
                    .iter()
                    .all(|op| curs[op.col()].flagged);
        }
    }

    /// The templates (compiled, with what their lines take from each column), template
    /// ids and dictionary (with which needles of digits each value holds); false when
    /// no template is wanted.
    fn tables(&mut self, c: &mut Cursor<'_>, n: usize, want: &Want<'_>) -> Result<bool, String> {
        self.templates.clear();
        for _ in 0..c.count().map_err(rec)? {
            self.templates.push(range(c)?);
        }
        self.ids.clear();
        self.lines_of.clear();
        self.lines_of.resize(self.templates.len(), 0);
        for _ in 0..n {
            let id = c.uvarint().map_err(rec)?;
            let lines = usize::try_from(id)
                .ok()
                .and_then(|i| self.lines_of.get_mut(i));
            *lines.ok_or_else(|| format!("template {id} of {}", self.templates.len()))? += 1;
            self.ids.push(id as u32);
        }
        self.dict.clear();
        for _ in 0..c.count().map_err(rec)? {
            self.dict.push(range(c)?);
        }
        self.dict_holds.clear();
        if want.all_digits() != 0 {
            let holds = self.dict.iter().map(|r| want.text_holds(&c.b[r.clone()]));
            self.dict_holds.extend(holds);
        }
        self.programs.clear();
        self.ops.clear();
        self.stock.clear();
        self.compiler.start();
        let mut any = false;
        for t in 0..self.templates.len() {
            let text = self.templates[t].clone();
            let tail = self.compiler.compile(&c.b[text.clone()])?;
            let tpl = &c.b[text.clone()];
            let wanted = want
                .parts
                .iter()
                .all(|n| memchr::memmem::find(tpl, n).is_some());
            let holds = match wanted && want.all_digits() != 0 {
                true => want.text_holds(tpl),
                false => 0,
            };
            self.program(text.start, tail, self.lines_of[t], (wanted, holds));
            any |= wanted;
        }
        Ok(any)
    }

    /// The template starting at `raw[start]`, just compiled (its static text after the
    /// last placeholder `tail` bytes long), of `lines` lines; whether they are wanted,
    /// which needles of digits its text holds.
    fn program(&mut self, start: usize, tail: usize, lines: usize, (wanted, holds): (bool, u64)) {
        let first = self.ops.len();
        let steps = &self.compiler.steps;
        if self.stock.len() < self.compiler.kinds.len() {
            self.stock
                .resize(self.compiler.kinds.len(), Stock::default());
        }
        let mut end = start;
        for step in steps {
            self.stock[step.col as usize].add(step.kind, step.param, lines, wanted);
            end += step.lit as usize + usize::from(step.len);
        }
        self.ops.extend_from_slice(steps);
        self.programs.push(Program {
            start,
            steps: first..self.ops.len(),
            tail: end..end + tail,
            wanted,
            joined: steps.iter().any(|s| s.joined),
            flagged: false,
            holds,
        });
    }

    fn columns(&mut self, c: &mut Cursor<'_>) -> Result<(), String> {
        self.cols.clear();
        let n = c.count().map_err(rec)?;
        if n != self.compiler.kinds.len() {
            return Err(format!(
                "{n} columns, the templates use {}",
                self.compiler.kinds.len()
            ));
        }
        for &kind in &self.compiler.kinds {
            let delta = match c.take(1).map_err(rec)?[0] {
                0 => false,
                1 => true,
                f => return Err(format!("column flag {f}")),
            };
            let bytes = range(c)?;
            let stock = self.stock.get(self.cols.len()).copied().unwrap_or_default();
            self.cols.push(Column {
                bytes,
                kind,
                delta,
                stock,
            });
        }
        Ok(())
    }
}

/// Which needles of digits the values of a line of `ops` hold, every one flagged (so
/// indexed: each cursor moves one value); a loop of its own, kept tight.
#[inline(never)]
fn flagged_mask(ops: &[Op], curs: &mut [Cur], flags: &[u8]) -> u64 {
    let mut mask = 0;
    for op in ops {
        let cur = &mut curs[op.col()];
        mask |= flags[cur.at];
        cur.at += 1;
    }
    u64::from(mask)
}

/// The value at `i` of a column whose cursor is `cur` (hex: where its packed bytes
/// start; [`Values::ready`] checked the column holds it).
#[inline]
fn value(table: &[u64], cur: &Cur, i: usize) -> Value {
    match cur.indexed {
        true => table[i],
        false => i as Value,
    }
}

/// Which needles of digits (bit by bit) value `v` of `op` holds; `dict_holds` says it
/// of each dictionary value.
#[inline]
fn holds(
    raw: &[u8],
    op: &Op,
    v: Value,
    (dict_holds, want): (&[u64], &Want<'_>),
    text: &mut Vec<u8>,
) -> u64 {
    match op.kind {
        INT => want.int_holds(v, op.param),
        DICT => dict_mask(dict_holds, v),
        _ => want.hex_holds(raw, v as usize, op.param as usize, text),
    }
}

/// A byte range of the block: a length, then that many bytes.
fn range(c: &mut Cursor<'_>) -> Result<Range<usize>, String> {
    let n = c.count().map_err(rec)?;
    let start = c.at;
    c.take(n).map_err(rec)?;
    Ok(start..c.at)
}

/// Every entry's time (its slot's other fields are set later).
fn times(c: &mut Cursor<'_>, n: usize, slots: &mut Vec<Slot>) -> Result<(), String> {
    let width = c.take(1).map_err(rec)?[0] as usize;
    if width > 8 {
        return Err(format!("times {width} bytes wide"));
    }
    let planes = c.take(width * n).map_err(rec)?;
    slots.reserve(n);
    match width {
        0 => times_of::<0>(planes, n, slots),
        1 => times_of::<1>(planes, n, slots),
        2 => times_of::<2>(planes, n, slots),
        3 => times_of::<3>(planes, n, slots),
        4 => times_of::<4>(planes, n, slots),
        5 => times_of::<5>(planes, n, slots),
        6 => times_of::<6>(planes, n, slots),
        7 => times_of::<7>(planes, n, slots),
        _ => times_of::<8>(planes, n, slots),
    }
    Ok(())
}

/// [`times`] of `W` byte planes of `n` entries each (a constant, so the bytes of an
/// entry are gathered without a loop).
fn times_of<const W: usize>(planes: &[u8], n: usize, slots: &mut Vec<Slot>) {
    let planes: [&[u8]; W] = std::array::from_fn(|k| &planes[k * n..(k + 1) * n]);
    let mut prev = 0i64;
    for i in 0..n {
        let mut delta = 0;
        for (k, plane) in planes.iter().enumerate() {
            delta |= u64::from(plane[i]) << (8 * k);
        }
        prev = prev.wrapping_add(unzigzag(delta));
        slots.push(Slot {
            ts: prev,
            start: 0,
            len: 0,
            metadata: Vec::new(),
        });
    }
}

/// Every entry's metadata pair count, then the pairs (most entries have none: a run of
/// zero counts is passed over at once).
fn metadata(c: &mut Cursor<'_>, slots: &mut [Slot]) -> Result<(), String> {
    let none = c.b.get(c.at..c.at + slots.len());
    if none.is_some_and(|counts| counts.iter().all(|&b| b == 0)) {
        c.at += slots.len();
        return Ok(());
    }
    let mut counts = Vec::with_capacity(slots.len());
    for _ in 0..slots.len() {
        counts.push(c.count().map_err(rec)?);
    }
    for (s, k) in slots.iter_mut().zip(counts) {
        if k > 0 {
            s.metadata = (0..k)
                .map(|_| Ok((c.string()?, c.string()?)))
                .collect::<Result<_, RecordError>>()
                .map_err(rec)?;
        }
    }
    Ok(())
}
