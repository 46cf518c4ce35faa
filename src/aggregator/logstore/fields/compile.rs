//! Compiling a block's templates into rebuild steps: each placeholder's kind,
//! parameter and column, its column numbered by its key in order of first use over the
//! block's templates, as the encoder numbered them. Templates come in byte order, so a
//! template mostly begins as the one before it: the steps lying wholly in the bytes
//! they share are taken over as they are (same text, same keys, already numbered),
//! and only the rest is searched for placeholders and keyed.

use super::tokens::{DICT, HEX, INT};
use super::{ColumnKeys, Key};

/// One placeholder of a template: the static text before it (`lit` bytes from the
/// previous placeholder's end), its kind and parameter byte, its column's number; how
/// many bytes it takes in the template (`len`) and, for hex, packed in its column
/// (`bytes`); whether it is an integer right after another (`joined`).
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub lit: u32,
    pub kind: u8,
    pub param: u8,
    pub len: u8,
    pub bytes: u8,
    pub joined: bool,
    pub col: u32,
}

/// Compiles one block's templates, one after the other.
#[derive(Default)]
pub struct Compiler {
    keys: ColumnKeys,
    /// Each column's placeholder kind, by number.
    pub kinds: Vec<u8>,
    /// The steps of the template compiled last.
    pub steps: Vec<Step>,
    /// Where each of those steps ends in it (its placeholder's last byte, plus one).
    ends: Vec<usize>,
    /// The template compiled last.
    prev: Vec<u8>,
}

impl Compiler {
    /// Starts a block: no column is numbered yet.
    pub fn start(&mut self) {
        self.keys.clear();
        self.kinds.clear();
        self.forget();
    }

    fn forget(&mut self) {
        self.steps.clear();
        self.ends.clear();
        self.prev.clear();
    }

    /// Compiles `tpl` into [`Compiler::steps`] (numbering its new columns); returns the
    /// length of its static text after the last placeholder.
    pub fn compile(&mut self, tpl: &[u8]) -> Result<usize, String> {
        let same = common_prefix(&self.prev, tpl);
        let keep = self.ends.iter().take_while(|&&end| end <= same).count();
        self.steps.truncate(keep);
        self.ends.truncate(keep);
        let mut at = self.ends.last().copied().unwrap_or(0);
        while let Some(p) = super::next_placeholder(tpl, at) {
            let (param, next) = match tpl[p] {
                DICT => (0, p + 1),
                _ if p + 1 < tpl.len() => (tpl[p + 1], p + 2),
                _ => {
                    self.forget();
                    return Err("a template ends inside a placeholder".into());
                }
            };
            let col = self.keys.id(key_of(tpl, p));
            if col as usize == self.kinds.len() {
                self.kinds.push(tpl[p]);
            }
            let kind = tpl[p];
            let after_int = self.steps.last().is_some_and(|s| s.kind == INT);
            self.steps.push(Step {
                lit: (p - at) as u32,
                kind,
                param,
                len: (next - p) as u8,
                bytes: if kind == HEX { param.div_ceil(2) } else { 0 },
                joined: kind == INT && after_int && p == at,
                col,
            });
            self.ends.push(next);
            at = next;
        }
        self.prev.clear();
        self.prev.extend_from_slice(tpl);
        Ok(tpl.len() - at)
    }
}

/// How many bytes `a` and `b` begin with in common (eight at a time).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + (x ^ y).trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The column key of the placeholder at `tpl[p]`: its byte, how many context bytes
/// there are and up to [`super::CONTEXT`] bytes before it.
#[inline]
pub(super) fn key_of(tpl: &[u8], p: usize) -> Key {
    if let Some(ctx) = p.checked_sub(8).and_then(|s| tpl.get(s..p)) {
        // the common case, at once: the byte, 8, then the 8 bytes before it
        const _: () = assert!(super::CONTEXT == 8);
        let ctx = u64::from_le_bytes(ctx.try_into().expect("8 bytes"));
        return Key::from(tpl[p]) | 8 << 8 | Key::from(ctx) << 16;
    }
    let ctx = &tpl[p.saturating_sub(super::CONTEXT)..p];
    let mut bytes = [0u8; 16];
    bytes[..2].copy_from_slice(&[tpl[p], ctx.len() as u8]);
    bytes[2..2 + ctx.len()].copy_from_slice(ctx);
    Key::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_the_byte_the_context_length_and_the_context() {
        let tpl = [b"abcdefghij".as_slice(), &[INT, 3], b"xy", &[DICT]].concat();
        let slow = |p: usize| {
            let ctx = &tpl[p.saturating_sub(super::super::CONTEXT)..p];
            let mut bytes = [0u8; 16];
            bytes[..2].copy_from_slice(&[tpl[p], ctx.len() as u8]);
            bytes[2..2 + ctx.len()].copy_from_slice(ctx);
            Key::from_le_bytes(bytes)
        };
        for p in 0..tpl.len() {
            assert_eq!(key_of(&tpl, p), slow(p), "{p}");
        }
        assert_ne!(key_of(&tpl, 10), key_of(&tpl, 14));
    }

    #[test]
    fn common_prefixes() {
        for (a, b, n) in [
            ("", "abc", 0),
            ("abcdefghij", "abcdefghij", 10),
            ("abcdefghijk", "abcdefghiXk", 9),
            ("abcdefgh", "abcdefghij", 8),
            ("abcXefghij", "abcdefghij", 3),
        ] {
            assert_eq!(common_prefix(a.as_bytes(), b.as_bytes()), n, "{a} {b}");
        }
    }
}
