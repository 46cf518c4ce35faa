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

/// What decoding reuses from block to block (tables of byte ranges into the block).
#[derive(Default)]
pub struct Decoder {
    templates: Vec<Range<usize>>,
    /// Each template's placeholders' columns: `slots[spans[id]]`.
    spans: Vec<Range<usize>>,
    slots: Vec<u32>,
    keys: ColumnKeys,
    dict: Vec<Range<usize>>,
    ids: Vec<u32>,
    cols: Vec<Col>,
}

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
        lines.reserve(raw.len() * 4);
        for (i, s) in slots.iter_mut().enumerate() {
            let id = self.ids[i] as usize;
            let tpl = self.templates[id].clone();
            s.start = lines.len();
            self.line(raw, &raw[tpl], self.spans[id].clone(), lines)?;
            s.len = lines.len() - s.start;
        }
        match self.cols.iter().any(|c| !c.bytes.is_empty()) {
            true => Err("a column holds more values than the lines use".into()),
            false => Ok(()),
        }
    }

    /// The templates, template ids and dictionary.
    fn tables(&mut self, c: &mut Cursor<'_>, n: usize) -> Result<(), String> {
        self.templates.clear();
        self.spans.clear();
        self.slots.clear();
        self.keys.clear();
        for _ in 0..c.count().map_err(rec)? {
            let r = range(c)?;
            let start = self.slots.len();
            self.keys.of_template(&c.b[r.clone()], &mut self.slots);
            self.spans.push(start..self.slots.len());
            self.templates.push(r);
        }
        self.ids.clear();
        for _ in 0..n {
            let id = c.uvarint().map_err(rec)?;
            if id >= self.templates.len() as u64 {
                return Err(format!("template {id} of {}", self.templates.len()));
            }
            self.ids.push(id as u32);
        }
        self.dict.clear();
        for _ in 0..c.count().map_err(rec)? {
            self.dict.push(range(c)?);
        }
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

    /// Appends the line of template `tpl` (its placeholders' columns: `slots[cols]`)
    /// to `out`.
    fn line(
        &mut self,
        raw: &[u8],
        mut tpl: &[u8],
        cols: Range<usize>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        for at in cols {
            let at = self.slots[at] as usize;
            let p = memchr::memchr3(INT, HEX, DICT, tpl).ok_or("template and columns disagree")?;
            out.extend_from_slice(&tpl[..p]);
            let param = tpl.get(p + 1).copied();
            tpl = match (tpl[p], param) {
                (INT, Some(width)) => {
                    let v = self.next_int(raw, at)?;
                    put_int(v, width, out)?;
                    &tpl[p + 2..]
                }
                (HEX, Some(len)) => {
                    self.next_hex(raw, at, len as usize, out)?;
                    &tpl[p + 2..]
                }
                (DICT, _) => {
                    let id = self.next_int(raw, at)?;
                    let r = usize::try_from(id).ok().and_then(|i| self.dict.get(i));
                    let r = r.ok_or_else(|| format!("dictionary entry {id} missing"))?;
                    out.extend_from_slice(&raw[r.clone()]);
                    &tpl[p + 1..]
                }
                _ => return Err("a template ends inside a placeholder".into()),
            };
        }
        out.extend_from_slice(tpl);
        Ok(())
    }

    fn col(&mut self, at: usize) -> Result<&mut Col, String> {
        self.cols
            .get_mut(at)
            .filter(|c| !c.bytes.is_empty())
            .ok_or_else(|| format!("column {at} runs out of values"))
    }

    fn next_int(&mut self, raw: &[u8], at: usize) -> Result<u64, String> {
        let col = self.col(at)?;
        let mut c = Cursor::new(&raw[..col.bytes.end]);
        c.at = col.bytes.start;
        let v = c.uvarint().map_err(rec)?;
        col.bytes.start = c.at;
        if col.delta {
            col.prev = col.prev.wrapping_add(unzigzag(v) as u64);
            return Ok(col.prev);
        }
        Ok(v)
    }

    fn next_hex(
        &mut self,
        raw: &[u8],
        at: usize,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let col = self.col(at)?;
        let bytes = len.div_ceil(2);
        if col.bytes.len() < bytes {
            return Err(format!("column {at} runs out of values"));
        }
        let packed = &raw[col.bytes.start..col.bytes.start + bytes];
        col.bytes.start += bytes;
        for &b in packed {
            out.extend_from_slice(&[DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]);
        }
        out.truncate(out.len() - (bytes * 2 - len));
        Ok(())
    }
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
