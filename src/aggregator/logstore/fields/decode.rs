//! Reading a format-3 block (see [`super`]): its lines are rebuilt back to back into a
//! reusable buffer, each template's static text copied and each placeholder filled from
//! the next value of its column (numbered from the templates as the encoder numbered
//! them), with [`Slot`]s pointing into that buffer as format 2's
//! point into its block. No allocation per line; bad input is an error, never a panic.

use super::tokens::{DICT, HEX, INT};
use super::ColumnKeys;
use crate::aggregator::logstore::block::Slot;
use crate::aggregator::tsdb::record::{unzigzag, Cursor, RecordError};
use std::ops::Range;

/// One column being read: its bytes left, and the last value when it holds deltas.
#[derive(Debug, Clone, Default)]
struct Col {
    bytes: Range<usize>,
    delta: bool,
    prev: u64,
}

/// One step of rebuilding a line: copy `raw[lit]`, then fill a placeholder of `kind`
/// (with its width or length byte) from column `col`.
#[derive(Debug, Clone)]
struct Op {
    lit: Range<usize>,
    kind: u8,
    param: u8,
    col: usize,
}

/// A template, compiled: its steps `ops[steps]`, then the static text `raw[tail]`;
/// `raw[text]` is the whole template, and `wanted` whether its lines are rebuilt.
#[derive(Debug, Clone)]
struct Program {
    steps: Range<usize>,
    tail: Range<usize>,
    text: Range<usize>,
    wanted: bool,
}

/// What decoding reuses from block to block (tables of byte ranges into the block).
#[derive(Default)]
pub struct Decoder {
    programs: Vec<Program>,
    ops: Vec<Op>,
    slots: Vec<u32>,
    keys: ColumnKeys,
    dict: Vec<Range<usize>>,
    ids: Vec<u32>,
    cols: Vec<Col>,
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
        self.decode_where(raw, &[], lines, slots)
    }

    /// As [`Decoder::decode`], but rebuilds only the lines whose template holds every
    /// one of `parts` in its text; the others are left empty (`len` 0). A line holding
    /// a needle holds its [`super::search::static_part`] in its template, so callers
    /// searching for needles pass those.
    pub fn decode_where(
        &mut self,
        raw: &[u8],
        parts: &[&[u8]],
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
        if !self.mark(raw, parts) {
            return Ok(()); // no line can hold the parts: none is rebuilt (all empty)
        }
        lines.reserve(raw.len() * 4);
        for (i, s) in slots.iter_mut().enumerate() {
            s.start = lines.len();
            let p = self.programs[self.ids[i] as usize].clone();
            match p.wanted {
                true => self.line(raw, &p, lines)?,
                false => self.skip(raw, &p)?,
            }
            s.len = lines.len() - s.start;
            if lines.len() > MAX_LINES_BYTES {
                return Err(format!("block rebuilds past {MAX_LINES_BYTES} bytes"));
            }
        }
        match self.cols.iter().any(|c| !c.bytes.is_empty()) {
            true => Err("a column holds more values than the lines use".into()),
            false => Ok(()),
        }
    }

    /// Marks the programs whose template text holds every one of `parts`; false when
    /// none does.
    fn mark(&mut self, raw: &[u8], parts: &[&[u8]]) -> bool {
        let mut any = false;
        for p in &mut self.programs {
            let tpl = &raw[p.text.clone()];
            p.wanted = parts.iter().all(|n| memchr::memmem::find(tpl, n).is_some());
            any |= p.wanted;
        }
        any
    }

    /// Moves past the values of a line of program `p` without rebuilding it.
    fn skip(&mut self, raw: &[u8], p: &Program) -> Result<(), String> {
        for op in &self.ops[p.steps.clone()] {
            let col = self.cols.get_mut(op.col).ok_or("column missing")?;
            match op.kind {
                HEX => {
                    let bytes = (op.param as usize).div_ceil(2);
                    if col.bytes.len() < bytes {
                        return Err(RAN_OUT.into());
                    }
                    col.bytes.start += bytes;
                }
                _ => {
                    next_int(col, raw)?;
                }
            }
        }
        Ok(())
    }

    /// The templates (compiled), template ids and dictionary.
    fn tables(&mut self, c: &mut Cursor<'_>, n: usize) -> Result<(), String> {
        self.programs.clear();
        self.ops.clear();
        self.keys.clear();
        for _ in 0..c.count().map_err(rec)? {
            let r = range(c)?;
            self.compile(c.b, r)?;
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

    /// Compiles the template `raw[tpl]` into steps (numbering any new column).
    fn compile(&mut self, raw: &[u8], tpl: Range<usize>) -> Result<(), String> {
        self.slots.clear();
        self.keys.of_template(&raw[tpl.clone()], &mut self.slots);
        let first = self.ops.len();
        let mut at = tpl.start;
        for &col in &self.slots {
            let p = memchr::memchr3(INT, HEX, DICT, &raw[at..tpl.end]).map(|p| at + p);
            let p = p.ok_or("template and its placeholders disagree")?;
            let (param, next) = match raw[p] {
                DICT => (0, p + 1),
                _ if p + 1 < tpl.end => (raw[p + 1], p + 2),
                _ => return Err("a template ends inside a placeholder".into()),
            };
            self.ops.push(Op {
                lit: at..p,
                kind: raw[p],
                param,
                col: col as usize,
            });
            at = next;
        }
        self.programs.push(Program {
            steps: first..self.ops.len(),
            tail: at..tpl.end,
            text: tpl,
            wanted: true,
        });
        Ok(())
    }

    fn columns(&mut self, c: &mut Cursor<'_>) -> Result<(), String> {
        self.cols.clear();
        let n = c.count().map_err(rec)?;
        if n != self.keys.len() {
            return Err(format!(
                "{n} columns, the templates use {}",
                self.keys.len()
            ));
        }
        for _ in 0..n {
            let delta = match c.take(1).map_err(rec)?[0] {
                0 => false,
                1 => true,
                f => return Err(format!("column flag {f}")),
            };
            let bytes = range(c)?;
            self.cols.push(Col {
                bytes,
                delta,
                prev: 0,
            });
        }
        Ok(())
    }

    /// Appends the line of program `p` to `out`.
    fn line(&mut self, raw: &[u8], p: &Program, out: &mut Vec<u8>) -> Result<(), String> {
        for op in &self.ops[p.steps.clone()] {
            out.extend_from_slice(&raw[op.lit.clone()]);
            let col = self.cols.get_mut(op.col).ok_or("column missing")?;
            match op.kind {
                INT => put_int(next_int(col, raw)?, op.param, out)?,
                HEX => next_hex(col, raw, op.param as usize, out)?,
                _ => {
                    let id = next_int(col, raw)?;
                    let r = usize::try_from(id).ok().and_then(|i| self.dict.get(i));
                    let r = r.ok_or_else(|| format!("dictionary entry {id} missing"))?;
                    out.extend_from_slice(&raw[r.clone()]);
                }
            }
        }
        out.extend_from_slice(&raw[p.tail.clone()]);
        Ok(())
    }
}

const RAN_OUT: &str = "a column runs out of values";

/// The next value of an integer or dictionary column.
#[inline]
fn next_int(col: &mut Col, raw: &[u8]) -> Result<u64, &'static str> {
    let bytes = &raw[col.bytes.clone()];
    let mut v = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            col.bytes.start += i + 1;
            if col.delta {
                col.prev = col.prev.wrapping_add(unzigzag(v) as u64);
                return Ok(col.prev);
            }
            return Ok(v);
        }
    }
    Err(RAN_OUT)
}

/// The next `len` characters of a hex column.
fn next_hex(col: &mut Col, raw: &[u8], len: usize, out: &mut Vec<u8>) -> Result<(), &'static str> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let bytes = len.div_ceil(2);
    if col.bytes.len() < bytes {
        return Err(RAN_OUT);
    }
    let packed = &raw[col.bytes.start..col.bytes.start + bytes];
    col.bytes.start += bytes;
    for &b in packed {
        out.extend_from_slice(&[DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]);
    }
    out.truncate(out.len() - (bytes * 2 - len));
    Ok(())
}

/// A byte range of the block: a length, then that many bytes.
fn range(c: &mut Cursor<'_>) -> Result<Range<usize>, String> {
    let n = c.count().map_err(rec)?;
    let start = c.at;
    c.take(n).map_err(rec)?;
    Ok(start..c.at)
}

/// `v` in decimal, zero-padded to `width` digits (0: as is).
fn put_int(v: u64, width: u8, out: &mut Vec<u8>) -> Result<(), String> {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(v).as_bytes();
    let pad = (width as usize).checked_sub(digits.len());
    match pad {
        Some(pad) => out.resize(out.len() + pad, b'0'),
        None if width == 0 => {}
        None => return Err(format!("{v} wider than {width} digits")),
    }
    out.extend_from_slice(digits);
    Ok(())
}

/// Every entry's time (its slot's other fields are set later).
fn times(c: &mut Cursor<'_>, n: usize, slots: &mut Vec<Slot>) -> Result<(), String> {
    let width = c.take(1).map_err(rec)?[0] as usize;
    if width > 8 {
        return Err(format!("times {width} bytes wide"));
    }
    let planes = c.take(width * n).map_err(rec)?;
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
