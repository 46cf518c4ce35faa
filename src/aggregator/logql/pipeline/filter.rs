//! Line filters (`|= "a" or "b"`, `!=`, `|~`, `!~`): substrings through memchr's
//! `memmem` finders, regexes through the `regex` crate (unanchored, as Loki's).

use crate::aggregator::logql::ast::{LineFilter, LineOp};
use memchr::memmem::Finder;

/// One compiled line filter.
#[derive(Clone, Debug)]
pub struct CompiledLineFilter {
    negate: bool,
    alts: Vec<Alt>,
}

#[derive(Clone, Debug)]
enum Alt {
    Sub(Box<Finder<'static>>),
    Re(regex::Regex),
}

/// A line filter's regex does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid line filter regex: {0}")]
pub struct FilterError(#[from] regex::Error);

impl CompiledLineFilter {
    pub fn new(f: &LineFilter) -> Result<Self, FilterError> {
        let regex = matches!(f.op, LineOp::Match | LineOp::NotMatch);
        let alts = f
            .patterns
            .iter()
            .map(|p| {
                Ok(if regex {
                    Alt::Re(regex::Regex::new(p)?)
                } else {
                    Alt::Sub(Box::new(Finder::new(p.as_bytes()).into_owned()))
                })
            })
            .collect::<Result<_, FilterError>>()?;
        Ok(CompiledLineFilter {
            negate: matches!(f.op, LineOp::NotContains | LineOp::NotMatch),
            alts,
        })
    }

    /// Whether `line` passes.
    pub fn keep(&self, line: &str) -> bool {
        let any = self.alts.iter().any(|alt| match alt {
            Alt::Sub(f) => f.find(line.as_bytes()).is_some(),
            Alt::Re(r) => r.is_match(line),
        });
        any != self.negate
    }
}
