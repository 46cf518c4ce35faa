//! Reading a format-3 block (see [`super`]): its lines are rebuilt back to back into a
//! reusable buffer, each template's static text copied and each placeholder filled from
//! the next value of its column (numbered from the templates as the encoder numbered
//! them: [`super::compile`]), with [`Slot`]s pointing into that buffer as format 2's point
//! into its block. A scan rebuilds only the lines [`Want`] lets through; the others
//! only count their values ([`rebuild`]). No allocation per line; bad input is an
//! error, never a panic.

use super::compile::Compiler;
use super::rebuild::{self, Col, Value};
use super::search::Want;
use super::tokens::{DICT, HEX, INT};
use crate::aggregator::logstore::block::Slot;
use crate::aggregator::tsdb::record::{unzigzag, Cursor, RecordError};
use std::ops::Range;

/// One step of rebuilding a line: copy `raw[lit]`, then fill a placeholder of `kind`
/// (with its width or length byte) from column `col`.
#[derive(Debug, Clone)]
struct Op {
    lit: Range<usize>,
    kind: u8,
    param: u8,
    col: usize,
}

/// A template, compiled for this block: its steps `ops[steps]`, then the static text
/// `raw[tail]`; `raw[text]` is the whole template; `wanted` whether its lines may be
/// rebuilt, `joined` whether it has integer pieces back to back.
#[derive(Debug, Clone)]
struct Program {
    steps: Range<usize>,
    tail: Range<usize>,
    text: Range<usize>,
    wanted: bool,
    joined: bool,
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
    ids: Vec<u32>,
    cols: Vec<Col>,
    /// The values of the line being read.
    values: Vec<Value>,
    /// A hex value printed, to search.
    text: Vec<u8>,
}

/// A damaged block could repeat a long template for every entry: past this, it is
/// refused instead of filling memory (a block is cut at `block_bytes` of lines, 1 MiB).
const MAX_LINES_BYTES: usize = 1 << 30;

/// Decodes a format-3 block with a fresh [`Decoder`].
pub fn decode(raw: &[u8], lines: &mut Vec<u8>, slots: &mut Vec<Slot>) -> Result<(), String> {
    Decoder::default().decode(raw, lines, slots)
}

fn rec(e: RecordError) -> String {
    e.to_string()
}

impl Decoder {
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
        let mut c = Cursor::new(raw);
        let n = c.count().map_err(rec)?;
        times(&mut c, n, slots)?;
        metadata(&mut c, slots)?;
        self.tables(&mut c, n)?;
        self.columns(&mut c)?;
        if c.left() != 0 {
            return Err(format!("{} bytes after the block's columns", c.left()));
        }
        if self.mark(raw, want) {
            lines.reserve(raw.len() * 4);
            for (i, s) in slots.iter_mut().enumerate() {
                s.start = lines.len();
                self.line(raw, self.ids[i] as usize, want, lines)?;
                s.len = lines.len() - s.start;
                if lines.len() > MAX_LINES_BYTES {
                    return Err(format!("block rebuilds past {MAX_LINES_BYTES} bytes"));
                }
            }
        } else {
            // no line can hold the needles: none is rebuilt (all empty), but every
            // value must still be there
            for &id in &self.ids {
                let p = &self.programs[id as usize];
                for op in &self.ops[p.steps.clone()] {
                    rebuild::pass(&mut self.cols[op.col], op.kind, op.param);
                }
            }
        }
        for col in &mut self.cols {
            col.settle(raw)?;
            if !col.bytes.is_empty() {
                return Err("a column holds more values than the lines use".into());
            }
        }
        Ok(())
    }

    /// Marks the programs whose template text holds every static part `want` has and
    /// learns which dictionary values hold its needles of digits; false when no line
    /// can be wanted.
    fn mark(&mut self, raw: &[u8], want: &Want<'_>) -> bool {
        let mut any = false;
        for p in &mut self.programs {
            let tpl = &raw[p.text.clone()];
            p.wanted = want
                .parts
                .iter()
                .all(|n| memchr::memmem::find(tpl, n).is_some());
            any |= p.wanted;
        }
        self.dict_holds.clear();
        if want.all_digits() != 0 {
            let holds = self.dict.iter().map(|r| want.text_holds(&raw[r.clone()]));
            self.dict_holds.extend(holds);
        }
        any
    }

    /// Reads the values of a line of template `id` and appends the line to `out` when
    /// it is wanted (else only counts its values, unread, against their columns).
    fn line(
        &mut self,
        raw: &[u8],
        id: usize,
        want: &Want<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let p = &self.programs[id];
        let ops = &self.ops[p.steps.clone()];
        if !p.wanted {
            for op in ops {
                rebuild::pass(&mut self.cols[op.col], op.kind, op.param);
            }
            return Ok(());
        }
        self.values.clear();
        for op in ops {
            let v = rebuild::read(&mut self.cols[op.col], raw, op.kind, op.param)?;
            self.values.push(v);
        }
        let all = want.all_digits();
        if all != 0 && !p.joined {
            let values = (&self.values[..], &self.dict_holds[..]);
            if holds(raw, ops, values, want, &mut self.text) != all {
                return Ok(());
            }
        }
        for (op, &v) in ops.iter().zip(&self.values) {
            super::put_text(out, raw, op.lit.clone());
            rebuild::put_value(v, op.kind, op.param, raw, &self.dict, out)?;
        }
        super::put_text(out, raw, p.tail.clone());
        Ok(())
    }

    /// The templates (compiled), template ids and dictionary.
    fn tables(&mut self, c: &mut Cursor<'_>, n: usize) -> Result<(), String> {
        self.programs.clear();
        self.ops.clear();
        self.compiler.start();
        for _ in 0..c.count().map_err(rec)? {
            let r = range(c)?;
            let tail = self.compiler.compile(&c.b[r.clone()])?;
            self.program(r, tail);
        }
        self.ids.clear();
        for _ in 0..n {
            let id = c.uvarint().map_err(rec)?;
            if id >= self.programs.len() as u64 {
                return Err(format!("template {id} of {}", self.programs.len()));
            }
            self.ids.push(id as u32);
        }
        self.dict.clear();
        for _ in 0..c.count().map_err(rec)? {
            self.dict.push(range(c)?);
        }
        Ok(())
    }

    /// The template at `raw[text]`, just compiled (its static text after the last
    /// placeholder `tail` bytes long).
    fn program(&mut self, text: Range<usize>, tail: usize) {
        let first = self.ops.len();
        let (mut at, mut joined, mut prev) = (text.start, false, 0);
        for step in &self.compiler.steps {
            let lit = at..at + step.lit as usize;
            joined |= step.kind == INT && prev == INT && lit.is_empty();
            self.ops.push(Op {
                lit: lit.clone(),
                kind: step.kind,
                param: step.param,
                col: step.col as usize,
            });
            at = lit.end + if step.kind == DICT { 1 } else { 2 };
            prev = step.kind;
        }
        self.programs.push(Program {
            steps: first..self.ops.len(),
            tail: at..at + tail,
            text,
            wanted: true,
            joined,
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
            self.cols.push(Col {
                bytes,
                delta,
                hex: kind == HEX,
                prev: 0,
                pending: 0,
            });
        }
        Ok(())
    }
}

/// Which needles of digits the values of a line (of `ops`, just read) hold, bit by
/// bit; `dict_holds` says it of each dictionary value.
fn holds(
    raw: &[u8],
    ops: &[Op],
    (values, dict_holds): (&[Value], &[u64]),
    want: &Want<'_>,
    text: &mut Vec<u8>,
) -> u64 {
    let mut mask = 0;
    for (op, &v) in ops.iter().zip(values) {
        mask |= match op.kind {
            INT => want.int_holds(v, op.param),
            DICT => usize::try_from(v)
                .ok()
                .and_then(|i| dict_holds.get(i))
                .map_or(u64::MAX, |&m| m), // missing: rebuilding the line fails on it
            _ => want.hex_holds(raw, v as usize, op.param as usize, text),
        };
    }
    mask
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
    let mut prev = 0i64;
    for i in 0..n {
        let delta = (0..width).fold(0u64, |d, k| d | u64::from(planes[k * n + i]) << (8 * k));
        prev = prev.wrapping_add(unzigzag(delta));
        slots.push(Slot {
            ts: prev,
            start: 0,
            len: 0,
            metadata: Vec::new(),
        });
    }
    Ok(())
}

/// Every entry's metadata pair count, then the pairs.
fn metadata(c: &mut Cursor<'_>, slots: &mut [Slot]) -> Result<(), String> {
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
