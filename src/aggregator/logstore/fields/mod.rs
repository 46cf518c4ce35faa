//! Block format 3: lines stored as templates and typed variable columns (as CLP does),
//! so the compressor sees each field's values side by side instead of interleaved with
//! text. A block's raw (uncompressed) bytes are, in order:
//!
//! 1. the entry count (varint);
//! 2. times: zig-zag deltas from the previous entry, as a width byte `w` then `w` byte
//!    planes of one byte per entry (low bytes first);
//! 3. metadata: every entry's pair count, then the pairs (as format 2);
//! 4. templates: a count, then each as a length and bytes (see [`tokens`] for the
//!    placeholders);
//! 5. every entry's template id (varint);
//! 6. the dictionary: a count, then each value as a length and bytes;
//! 7. columns: a count, then each as its index (`slot * 3 + kind`: the slot is the
//!    variable's place in its line, the kind integer / hex / dictionary), a delta flag,
//!    a byte length and its values — integers and dictionary ids as varints (zig-zag
//!    deltas from the previous value when flagged), hex as packed nibbles.
//!
//! Columns are keyed by slot and kind, not by template, so lines of different
//! templates share them (keyed by template they fragment into many tiny columns).
//! Line lengths are not stored: a line is as long as its template and variables make
//! it. The trigram filter is still built from the lines themselves.

mod decode;
mod encode;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use decode::{decode, Decoder};
pub use encode::encode;

/// Column families: integers, hex, dictionary.
const KINDS: usize = 3;

/// Where each section of an encoded block ends (bytes from its start), to measure
/// where the bytes go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    pub times: usize,
    pub metadata: usize,
    pub templates: usize,
    pub ids: usize,
    pub dict: usize,
    pub columns: usize,
}

impl Sections {
    /// The sections' names and byte ranges, in order.
    pub fn ranges(&self) -> [(&'static str, std::ops::Range<usize>); 6] {
        [
            ("times", 0..self.times),
            ("metadata", self.times..self.metadata),
            ("templates", self.metadata..self.templates),
            ("template ids", self.templates..self.ids),
            ("dictionary", self.ids..self.dict),
            ("columns", self.dict..self.columns),
        ]
    }
}
