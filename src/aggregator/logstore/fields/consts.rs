//! Constants written into templates. Within a block, many variables hold one value in
//! every line of their template: a user agent's version numbers, `HTTP/1.1`, a year, a
//! port. Such a variable is written into the template as text (as printed), so its value
//! is neither stored once per line nor read, checked and passed over by every scan.
//!
//! Only in templates of two lines or more ([`MIN_LINES`]), and only where no digit run
//! could then mix written and stored digits: the bytes on each side of the placeholder
//! must be static text that is no digit. A line's maximal digit runs are then each in
//! one variable, in integer pieces back to back, or wholly in its template, and a scan
//! for a needle of digits looks for it in the template as well ([`super::search`]). Hex
//! variables are kept as they are.

use super::intern::Interned;
use super::tokens::{DICT, INT};
use super::{is_placeholder, placeholders, rebuild};

/// A template of fewer lines keeps its variables: with every value of a one-line
/// template written in, templates become the lines' own text, and the store grew by 5 %
/// (0.1161 of raw at 1 GiB, against 0.1108 from two lines on; BENCHMARKS.md).
const MIN_LINES: u32 = 2;

/// A variable's value over the lines of one template, as far as they have been seen:
/// one integer or dictionary id (the placeholder says which), or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Same(u64),
    Varies,
}

impl Value {
    /// The value of lines whose least and greatest values were `range` (hex variables
    /// have none: least above greatest).
    fn of((low, high): (u64, u64)) -> Value {
        match low == high {
            true => Value::Same(low),
            false => Value::Varies,
        }
    }

    /// The value also seen where the least and greatest values were `range`.
    fn and(self, range: (u64, u64)) -> Value {
        match self == Value::of(range) {
            true => self,
            false => Value::Varies,
        }
    }
}

/// A block's templates (merged across widths) and their variables' values, and each
/// template with its constants written in; tables kept from block to block.
#[derive(Default)]
pub struct Consts {
    templates: Interned,
    /// Each template's first variable in `values`.
    starts: Vec<u32>,
    values: Vec<Value>,
    /// Each template's lines.
    lines: Vec<u32>,
    /// The template last written ([`Consts::write`]) and the variables it keeps.
    pub written: Vec<u8>,
    pub kept: Vec<u32>,
}

impl Consts {
    pub fn clear(&mut self) {
        self.templates.clear();
        self.starts.clear();
        self.values.clear();
        self.lines.clear();
    }

    /// How many templates there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Adds `lines` lines of a template (`tpl`) whose variables' least and greatest
    /// values (integers, dictionary ids; one range a placeholder) were `ranges`;
    /// returns the template's id.
    pub fn add(&mut self, tpl: &[u8], ranges: &[(u64, u64)], lines: u32) -> u32 {
        let (id, new) = self.templates.intern(tpl);
        if new {
            self.lines.push(lines);
            self.starts.push(self.values.len() as u32);
            self.values.extend(ranges.iter().map(|&r| Value::of(r)));
            return id;
        }
        self.lines[id as usize] += lines;
        let start = self.starts[id as usize] as usize;
        let values = &mut self.values[start..start + ranges.len()];
        for (v, &range) in values.iter_mut().zip(ranges) {
            *v = v.and(range);
        }
        id
    }

    /// Writes template `id` into [`Consts::written`] with its constants written in
    /// (`dict` the block's dictionary), and the indices of the variables it keeps into
    /// [`Consts::kept`]; false when it writes none in (both are then left empty).
    pub fn write(&mut self, id: u32, dict: &Interned) -> bool {
        self.written.clear();
        self.kept.clear();
        let start = self.starts[id as usize] as usize;
        let end = self
            .starts
            .get(id as usize + 1)
            .map_or(self.values.len(), |&e| e as usize);
        let values = &self.values[start..end];
        if self.lines[id as usize] < MIN_LINES || values.iter().all(|&v| v == Value::Varies) {
            return false;
        }
        let tpl = self.templates.get(id);
        let (mut at, mut any) = (0, false);
        for (k, p) in placeholders(tpl).enumerate() {
            let end = (p + if tpl[p] == DICT { 1 } else { 2 }).min(tpl.len());
            self.written.extend_from_slice(&tpl[at..p]);
            let done =
                apart(tpl, at..end, p) && put_value(values.get(k), tpl, p, dict, &mut self.written);
            if !done {
                self.written.extend_from_slice(&tpl[p..end]);
                self.kept.push(k as u32);
            }
            any |= done;
            at = end;
        }
        self.written.extend_from_slice(&tpl[at..]);
        if !any {
            self.written.clear();
            self.kept.clear();
        }
        any
    }

    /// Template `id` as merged (no constant written in).
    pub fn template(&self, id: u32) -> &[u8] {
        self.templates.get(id)
    }
}

/// Whether the placeholder at `tpl[p]` (ending at `around.end`; the previous one ended
/// at `around.start`) has static text that is no digit on each side.
fn apart(tpl: &[u8], around: std::ops::Range<usize>, p: usize) -> bool {
    let before = p == 0 || (around.start < p && !tpl[p - 1].is_ascii_digit());
    let after = tpl
        .get(around.end)
        .is_none_or(|&b| !b.is_ascii_digit() && !is_placeholder(b));
    before && after
}

/// Appends the value of the placeholder at `tpl[p]` when it holds one (`value`; `dict`
/// the block's dictionary); whether it did.
fn put_value(
    value: Option<&Value>,
    tpl: &[u8],
    p: usize,
    dict: &Interned,
    out: &mut Vec<u8>,
) -> bool {
    match (value, tpl.get(p + 1)) {
        (Some(&Value::Same(v)), Some(&width)) if tpl[p] == INT => {
            rebuild::put_int(v, width, out).is_ok()
        }
        (Some(&Value::Same(d)), _) if tpl[p] == DICT => match u32::try_from(d) {
            Ok(d) if (d as usize) < dict.len() => {
                out.extend_from_slice(dict.get(d));
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{tokenize, HEX};
    use super::*;

    fn tpl_of(line: &str) -> Vec<u8> {
        let (mut tpl, mut vars) = (Vec::new(), Vec::new());
        tokenize(line.as_bytes(), &mut tpl, &mut vars);
        tpl
    }

    #[test]
    fn constants_apart_from_digits_and_placeholders_are_written_in() {
        let mut dict = Interned::default();
        let ip = dict.intern(b"10.0.0.1").0;
        // "GET /v1 HTTP/1.1 200 from 10.0.0.1 id 3f9a1c 12"
        let tpl = tpl_of("GET /v1 HTTP/1.1 200 from 10.0.0.1 id 3f9a1c 12");
        assert_eq!(tpl.iter().filter(|&&b| is_placeholder(b)).count(), 7);
        let ranges = |status: (u64, u64)| {
            let ip = u64::from(ip);
            [
                (1, 1),
                (1, 1),
                (1, 1),
                status,
                (ip, ip),
                (0, u64::MAX),
                (12, 12),
            ]
        };
        let mut c = Consts::default();
        let id = c.add(&tpl, &ranges((200, 200)), 4);
        assert_eq!(c.add(&tpl, &ranges((500, 500)), 1), id);
        assert!(c.write(id, &dict));
        let mut want = b"GET /v1 HTTP/1.1 ".to_vec();
        want.extend_from_slice(&[INT, 0]);
        want.extend_from_slice(b" from 10.0.0.1 id ");
        want.extend_from_slice(&[HEX, 6]);
        want.extend_from_slice(b" 12");
        assert_eq!(c.written, want);
        assert_eq!(c.kept, [3, 5]); // the status varies, hex is kept
    }

    #[test]
    fn pieces_back_to_back_and_varying_values_stay_placeholders() {
        let dict = Interned::default();
        // 20 digits: two pieces back to back; the first is the same in every line
        let tpl = tpl_of("n=12345678901234567890 at 7");
        let mut c = Consts::default();
        let id = c.add(
            &tpl,
            &[(123456789012345678, 123456789012345678), (90, 90), (7, 7)],
            9,
        );
        assert!(c.write(id, &dict));
        assert_eq!(c.kept, [0, 1]);
        assert!(c.written.ends_with(b" at 7"));
        let one = c.add(&tpl_of("y 5"), &[(5, 5)], 1);
        assert!(
            !c.write(one, &dict),
            "a template of one line keeps its values"
        );
        let varies = c.add(&tpl_of("x 1"), &[(1, 2)], 9);
        assert!(!c.write(varies, &dict));
        assert!(c.written.is_empty() && c.kept.is_empty());
    }
}
