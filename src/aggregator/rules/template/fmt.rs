//! Go's `fmt` as templates use it: `%g`/`%e`/`%f` of a float64 with Go's exact digits
//! and exponent form, and `Sprintf`/`Sprint` over template values with Go's flags,
//! width, precision and its in-band mistakes (`%!d(float64=1.5)`, `%!d(MISSING)`,
//! `%!(EXTRA int=2)`).

use super::value::{fmt_v, Val};
use super::TemplateData;

/// A width or precision above this is refused (the output would be that long).
const MAX_WIDTH: usize = 4096;

/// Go's non-finite spellings.
fn non_finite(f: f64) -> Option<&'static str> {
    match f {
        _ if f.is_nan() => Some("NaN"),
        f64::INFINITY => Some("+Inf"),
        f64::NEG_INFINITY => Some("-Inf"),
        _ => None,
    }
}

/// The decimal digits of `|f|` (no trailing zeros; empty for zero) and the decimal
/// point's position, rounded to `sig` significant digits (`None`: the shortest that
/// reads back the same).
fn digits(f: f64, sig: Option<usize>) -> (String, i32) {
    if f == 0.0 {
        return (String::new(), 0);
    }
    let e = match sig {
        Some(p) => format!("{:.*e}", p.saturating_sub(1), f.abs()),
        None => format!("{:e}", f.abs()),
    };
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let mut ds: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while ds.ends_with('0') {
        ds.pop();
    }
    (ds, exp.parse::<i32>().unwrap_or(0) + 1)
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() {
        "-"
    } else {
        ""
    }
}

/// `%e` from digits: `d.ddde+XX` with `frac` fractional digits.
fn exp_form(f: f64, ds: &str, dp: i32, frac: usize, upper: bool) -> String {
    let ds = format!("{ds:0<width$}", width = frac + 1);
    let exp = if ds.starts_with('0') { 0 } else { dp - 1 };
    let dot = if frac > 0 { "." } else { "" };
    let e = if upper { 'E' } else { 'e' };
    let exp_sign = if exp < 0 { '-' } else { '+' };
    format!(
        "{}{}{dot}{}{e}{exp_sign}{:02}",
        sign(f),
        &ds[..1],
        &ds[1..=frac],
        exp.abs()
    )
}

/// `%f` from digits with `frac` fractional digits.
fn fixed_form(f: f64, ds: &str, dp: i32, frac: usize) -> String {
    let int = if dp > 0 {
        let dp = dp as usize;
        format!("{:0<dp$}", &ds[..ds.len().min(dp)])
    } else {
        "0".to_string()
    };
    let skip = (-dp).max(0) as usize;
    let after: String = std::iter::repeat_n('0', skip)
        .chain(ds.chars().skip(dp.max(0) as usize))
        .take(frac)
        .collect();
    let dot = if frac > 0 { "." } else { "" };
    format!("{}{int}{dot}{after:0<frac$}", sign(f))
}

/// Go's `%g` (`%.Ng` with `prec`, `%v` and `%g` without): shortest or `prec` significant
/// digits, `%e` form when the exponent is below -4 or at least the precision (6 for
/// the shortest form), no trailing zeros.
pub(super) fn fmt_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return s.into();
    }
    let prec = prec.map(|p| p.max(1));
    let (ds, dp) = digits(f, prec);
    let nd = ds.len() as i32;
    let mut eprec = prec.map_or(6, |p| p as i32);
    if prec.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    let exp = dp - 1;
    if f != 0.0 && (exp < -4 || exp >= eprec) {
        return exp_form(f, &ds, dp, (nd - 1).max(0) as usize, upper);
    }
    fixed_form(f, &ds, dp, (nd - dp).max(0) as usize)
}

/// Go's `%e` with `prec` fractional digits (default 6).
pub(super) fn fmt_e(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return s.into();
    }
    let frac = prec.unwrap_or(6);
    let (ds, dp) = digits(f, Some(frac + 1));
    exp_form(f, &ds, dp, frac, upper)
}

/// Go's `%f` with `prec` fractional digits (default 6).
pub(super) fn fmt_f(f: f64, prec: Option<usize>) -> String {
    if let Some(s) = non_finite(f) {
        return s.into();
    }
    format!("{:.*}", prec.unwrap_or(6), f)
}

/// One `%` directive's flags, width and precision.
#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf`.
pub(super) fn sprintf(
    format: &str,
    args: &[Val<'_>],
    data: &TemplateData<'_>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = spec(&mut chars)?;
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        out.push_str(&directive(&spec, verb, arg, data)?);
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), fmt_v(a, data)))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    Ok(out)
}

fn spec(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Spec, String> {
    let mut s = Spec::default();
    while let Some(&c) = chars.peek() {
        match c {
            '-' => s.minus = true,
            '+' => s.plus = true,
            ' ' => s.space = true,
            '0' => s.zero = true,
            _ => break,
        }
        chars.next();
    }
    s.width = number(chars)?;
    if chars.peek() == Some(&'.') {
        chars.next();
        s.prec = Some(number(chars)?.unwrap_or(0));
    }
    Ok(s)
}

fn number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Option<usize>, String> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        if n > Some(MAX_WIDTH) {
            return Err(format!("printf: width or precision over {MAX_WIDTH}"));
        }
        chars.next();
    }
    Ok(n)
}

/// One directive applied to one argument, padded to the width.
fn directive(
    s: &Spec,
    verb: char,
    arg: &Val<'_>,
    data: &TemplateData<'_>,
) -> Result<String, String> {
    let num = |f: f64, text: String| signed(s, f.is_sign_negative() || text.starts_with('-'), text);
    let body = match (verb, arg) {
        ('v', Val::Float(f)) => num(*f, fmt_g(*f, s.prec, false)),
        ('v', Val::Int(n)) | ('d', Val::Int(n)) => num(*n as f64, n.to_string()),
        ('v' | 's', Val::Str(x)) => match s.prec {
            Some(p) => x.chars().take(p).collect(),
            None => x.clone(),
        },
        ('v' | 't', Val::Bool(b)) => b.to_string(),
        ('v', _) => fmt_v(arg, data),
        ('g' | 'G', Val::Float(f)) => num(*f, fmt_g(*f, s.prec, verb == 'G')),
        ('e' | 'E', Val::Float(f)) => num(*f, fmt_e(*f, s.prec, verb == 'E')),
        ('f' | 'F', Val::Float(f)) => num(*f, fmt_f(*f, s.prec)),
        ('q', Val::Str(x)) => crate::aggregator::logql::ast::quote(x),
        ('x' | 'X', Val::Int(n)) => hex(*n, verb == 'X'),
        ('o', Val::Int(n)) => radix(*n, format!("{:o}", n.unsigned_abs())),
        ('b', Val::Int(n)) => radix(*n, format!("{:b}", n.unsigned_abs())),
        ('c', Val::Int(n)) => u32::try_from(*n)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}')
            .to_string(),
        ('x', Val::Str(x)) => x.bytes().map(|b| format!("{b:02x}")).collect(),
        ('X', Val::Str(x)) => x.bytes().map(|b| format!("{b:02X}")).collect(),
        _ => return Ok(bad(verb, arg, data)),
    };
    Ok(pad(s, body, matches!(arg, Val::Float(_) | Val::Int(_))))
}

fn hex(n: i64, upper: bool) -> String {
    let s = format!("{:x}", n.unsigned_abs());
    radix(n, if upper { s.to_uppercase() } else { s })
}

/// Digits of `|n|` with `n`'s sign.
fn radix(n: i64, digits: String) -> String {
    if n < 0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// `%!z(int=1)`.
fn bad(verb: char, arg: &Val<'_>, data: &TemplateData<'_>) -> String {
    match arg {
        Val::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", arg.type_name(), fmt_v(arg, data)),
    }
}

/// The `+` and space flags on a number.
fn signed(s: &Spec, negative: bool, text: String) -> String {
    match () {
        _ if negative || text.starts_with('+') => text,
        _ if s.plus => format!("+{text}"),
        _ if s.space => format!(" {text}"),
        _ => text,
    }
}

/// Pads to the width: spaces (right with `-`), or zeros after the sign for numbers.
fn pad(s: &Spec, body: String, numeric: bool) -> String {
    let width = s.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if s.minus {
        return format!("{body}{}", " ".repeat(fill));
    }
    if s.zero && numeric && !body.ends_with("Inf") && body != "NaN" {
        let split = usize::from(body.starts_with(['+', '-', ' ']));
        return format!("{}{}{}", &body[..split], "0".repeat(fill), &body[split..]);
    }
    format!("{}{body}", " ".repeat(fill))
}

/// Go's `fmt.Sprint`: operands joined with a space where neither side is a string.
pub(super) fn sprint(args: &[Val<'_>], data: &TemplateData<'_>) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = |v: &Val<'_>| matches!(v, Val::Str(_));
        if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&fmt_v(a, data));
    }
    out
}
