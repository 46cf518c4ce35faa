//! Compiling a block's templates into rebuild steps, with a cache that outlives the
//! block: the next block of a stream repeats most of its templates, so a template seen
//! before costs one hash of its bytes instead of a search for its placeholders and a
//! hash of each one's column key. Keys get ids that last as long as the cache; a
//! block numbers its columns from them by first use ([`Numbering`]), as the encoder
//! did, with plain array look-ups.

use super::tokens::{DICT, HEX, INT};
use super::{ColumnKeys, Key};
use std::collections::HashMap;
use std::ops::Range;

/// One placeholder of a template: the static text before it (`lit` bytes from the
/// previous placeholder's end), its kind and parameter byte, its column key's id.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub lit: u32,
    pub kind: u8,
    pub param: u8,
    pub key: u32,
}

/// A template compiled: its steps `steps[range]`, then `tail` bytes of static text.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub steps: Range<usize>,
    pub tail: u32,
}

/// Past this many template bytes the cache starts over (bounded memory).
const MAX_CACHED_BYTES: usize = 8 << 20;

/// Templates compiled so far, by their bytes.
#[derive(Default)]
pub struct Cache {
    by_text: HashMap<Box<[u8]>, Compiled, foldhash::fast::FixedState>,
    pub steps: Vec<Step>,
    keys: ColumnKeys,
    bytes: usize,
}

impl Cache {
    /// How many key ids there are (every id is below it).
    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// Whether compiling more would pass the bound: the caller then clears the cache
    /// (between blocks, so no id it handed out is in use).
    pub fn full(&self) -> bool {
        self.bytes > MAX_CACHED_BYTES
    }

    pub fn clear(&mut self) {
        self.by_text.clear();
        self.steps.clear();
        self.keys.clear();
        self.bytes = 0;
    }

    /// The template `tpl` compiled (an error when its placeholders are cut short).
    pub fn get(&mut self, tpl: &[u8]) -> Result<Compiled, String> {
        if let Some(c) = self.by_text.get(tpl) {
            return Ok(c.clone());
        }
        let c = self.compile(tpl)?;
        self.bytes += tpl.len() + 64;
        self.by_text.insert(tpl.into(), c.clone());
        Ok(c)
    }

    fn compile(&mut self, tpl: &[u8]) -> Result<Compiled, String> {
        let first = self.steps.len();
        let mut at = 0;
        while let Some(p) = memchr::memchr3(INT, HEX, DICT, &tpl[at..]).map(|p| at + p) {
            let (param, next) = match tpl[p] {
                DICT => (0, p + 1),
                _ if p + 1 < tpl.len() => (tpl[p + 1], p + 2),
                _ => {
                    self.steps.truncate(first);
                    return Err("a template ends inside a placeholder".into());
                }
            };
            let key = self.keys.id(key_of(tpl, p));
            self.steps.push(Step {
                lit: (p - at) as u32,
                kind: tpl[p],
                param,
                key,
            });
            at = next;
        }
        Ok(Compiled {
            steps: first..self.steps.len(),
            tail: (tpl.len() - at) as u32,
        })
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

/// A block's column numbers by key id, in order of first use.
#[derive(Default)]
pub struct Numbering {
    /// By key id: the block (its generation) that numbered it, and its number there.
    seen: Vec<(u32, u32)>,
    generation: u32,
    /// Each column's placeholder kind, by number.
    pub kinds: Vec<u8>,
}

impl Numbering {
    /// Starts a block whose steps use key ids below `keys`.
    pub fn start(&mut self, keys: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|s| s.0 = u32::MAX);
            self.generation = 1;
        }
        if self.seen.len() < keys {
            self.seen.resize(keys, (u32::MAX, 0));
        }
        self.kinds.clear();
    }

    /// Forgets every key id (the cache started over).
    pub fn reset(&mut self) {
        self.seen.clear();
    }

    /// The column of a step's key in this block (a new one when first used).
    pub fn column(&mut self, step: &Step) -> usize {
        let s = &mut self.seen[step.key as usize];
        if s.0 != self.generation {
            *s = (self.generation, self.kinds.len() as u32);
            self.kinds.push(step.kind);
        }
        s.1 as usize
    }

    /// Columns numbered so far.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }
}
