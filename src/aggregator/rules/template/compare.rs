//! Go's comparison functions for templates (`eq`, `lt` and the others built on them):
//! only values of one basic kind compare; `eq` takes several right-hand sides.

use super::value::Val;
use std::cmp::Ordering;

/// The comparable kind of a value, as Go's `basicKind`.
fn kind(v: &Val<'_>) -> Result<u8, String> {
    match v {
        Val::Bool(_) => Ok(0),
        Val::Int(_) => Ok(1),
        Val::Float(_) => Ok(2),
        Val::Str(_) => Ok(3),
        _ => Err("invalid type for comparison".into()),
    }
}

/// Go's `eq arg1 arg2 ...`: whether `arg1` equals any of the others.
pub(super) fn eq(args: &[Val<'_>]) -> Result<bool, String> {
    let Some((first, rest)) = args.split_first().filter(|(_, r)| !r.is_empty()) else {
        return Err("missing argument for comparison".into());
    };
    let k = kind(first)?;
    for other in rest {
        if kind(other)? != k {
            return Err("incompatible types for comparison".into());
        }
        if compare(first, other) == Some(Ordering::Equal) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt` and `eq` of two ordered values.
pub(super) fn order(args: &[Val<'_>]) -> Result<(bool, bool), String> {
    let (a, b) = (&args[0], &args[1]);
    let (ka, kb) = (kind(a)?, kind(b)?);
    if ka == 0 || kb == 0 {
        return Err("invalid type for comparison".into());
    }
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    let o = compare(a, b);
    Ok((o == Some(Ordering::Less), o == Some(Ordering::Equal)))
}

fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        _ => None,
    }
}
