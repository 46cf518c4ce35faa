//! Compiling a block's templates into rebuild steps: each placeholder's kind,
//! parameter and column, its column numbered by its key in order of first use over the
//! block's templates, as the encoder numbered them.

use super::tokens::{DICT, HEX, INT};
use super::{ColumnKeys, Key};

/// One placeholder of a template: the static text before it (`lit` bytes from the
/// previous placeholder's end), its kind and parameter byte, its column's number.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub lit: u32,
    pub kind: u8,
    pub param: u8,
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
}

impl Compiler {
    /// Starts a block: no column is numbered yet.
    pub fn start(&mut self) {
        self.keys.clear();
        self.kinds.clear();
    }

    /// Compiles `tpl` into [`Compiler::steps`] (numbering its new columns); returns the
    /// length of its static text after the last placeholder.
    pub fn compile(&mut self, tpl: &[u8]) -> Result<usize, String> {
        self.steps.clear();
        let mut at = 0;
        while let Some(p) = memchr::memchr3(INT, HEX, DICT, &tpl[at..]).map(|p| at + p) {
            let (param, next) = match tpl[p] {
                DICT => (0, p + 1),
                _ if p + 1 < tpl.len() => (tpl[p + 1], p + 2),
                _ => return Err("a template ends inside a placeholder".into()),
            };
            let col = self.keys.id(key_of(tpl, p));
            if col as usize == self.kinds.len() {
                self.kinds.push(tpl[p]);
            }
            self.steps.push(Step {
                lit: (p - at) as u32,
                kind: tpl[p],
                param,
                col,
            });
            at = next;
        }
        Ok(tpl.len() - at)
    }
}

/// The column key of the placeholder at `tpl[p]`: its byte, how many context bytes
/// there are and up to [`super::CONTEXT`] bytes before it.
pub(super) fn key_of(tpl: &[u8], p: usize) -> Key {
    let ctx = &tpl[p.saturating_sub(super::CONTEXT)..p];
    let mut bytes = [0u8; 16];
    bytes[..2].copy_from_slice(&[tpl[p], ctx.len() as u8]);
    bytes[2..2 + ctx.len()].copy_from_slice(ctx);
    Key::from_le_bytes(bytes)
}
