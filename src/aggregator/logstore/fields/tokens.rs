//! Splitting a line into a template and typed variables, by character class only.
//!
//! A *word* is a maximal run of ASCII letters and digits. Words without a digit are
//! static text. A word with a digit is, in this order:
//! - the first of three or more all-digit words joined by single dots (an address, a
//!   version): one dictionary variable for the whole run;
//! - lowercase hex of 4 to 255 characters with a letter (ids, hashes): a hex variable;
//! - otherwise each run of digits in it is an integer variable (in pieces of at most 18
//!   digits, so each fits a `u64`; a piece with a leading zero keeps its width), and
//!   its letters stay static.
//!
//! The template is the line with each variable replaced by a placeholder: a byte that
//! never occurs in UTF-8 text (so no line byte needs escaping) and, for integers and hex,
//! one byte of width.

/// An integer; the next byte is its zero-padded width (0: printed as is).
pub const INT: u8 = 0xF8;
/// Lowercase hex; the next byte is its length in characters.
pub const HEX: u8 = 0xF9;
/// A dictionary entry (no parameter byte).
pub const DICT: u8 = 0xFA;

/// Digits per integer piece: 10^18 - 1 fits a `u64`.
const MAX_DIGITS: usize = 18;
const MIN_HEX: usize = 4;
const MAX_HEX: usize = 255;

/// A variable of a line, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var<'a> {
    Int(u64),
    Hex(&'a [u8]),
    Dict(&'a [u8]),
}

/// Byte classes: [`DIGIT`], [`HEX_LETTER`] (`a`–`f`), [`LETTER`] (other ASCII
/// letters); 0 for every other byte (word boundaries).
const DIGIT: u8 = 1;
const HEX_LETTER: u8 = 2;
const LETTER: u8 = 4;
static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'0'..=b'9' => DIGIT,
            b'a'..=b'f' => HEX_LETTER,
            b'g'..=b'z' | b'A'..=b'Z' => LETTER,
            _ => 0,
        };
        b += 1;
    }
    t
}

/// Appends `line`'s template to `tpl` and its variables to `vars`.
pub fn tokenize<'a>(line: &'a [u8], tpl: &mut Vec<u8>, vars: &mut Vec<Var<'a>>) {
    // lit: where the static text not yet copied starts. Words without a digit are
    // static: jump to the next digit, then back to its word's start (`i` is never
    // inside a word)
    let (mut i, mut lit) = (0, 0);
    while let Some(d) = next_digit(line, i) {
        i = d;
        while i > lit && CLASS[line[i - 1] as usize] != 0 {
            i -= 1;
        }
        let w = word(line, i);
        super::put_text(tpl, line, lit..i);
        if let Some(end) = dotted_end(line, &w) {
            tpl.push(DICT);
            vars.push(Var::Dict(&line[i..end]));
            (i, lit) = (end, end);
        } else if w.class == DIGIT | HEX_LETTER && (MIN_HEX..=MAX_HEX).contains(&(w.end - i)) {
            tpl.extend_from_slice(&[HEX, (w.end - i) as u8]);
            vars.push(Var::Hex(&line[i..w.end]));
            (i, lit) = (w.end, w.end);
        } else if w.class == DIGIT && w.end - i <= MAX_DIGITS {
            // one integer (most words with a digit): its value was read with the word
            let width = match line[i] == b'0' && w.end - i > 1 {
                true => (w.end - i) as u8,
                false => 0,
            };
            tpl.extend_from_slice(&[INT, width]);
            vars.push(Var::Int(w.value));
            (i, lit) = (w.end, w.end);
        } else {
            digit_runs(&line[i..w.end], tpl, vars);
            (i, lit) = (w.end, w.end);
        }
    }
    super::put_text(tpl, line, lit..line.len());
}

/// The first digit of `line` from `from` on, eight bytes at a time: a byte is a digit
/// when it is below 10 once xor-ed with `'0'` ([`super::bytes_below`]).
fn next_digit(line: &[u8], from: usize) -> Option<usize> {
    use super::ONES;
    let mut i = from;
    while let Some(chunk) = line.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * u64::from(b'0'));
        let below_10 = super::bytes_below(x, 10);
        if below_10 != 0 {
            return Some(i + below_10.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    line[i..].iter().position(u8::is_ascii_digit).map(|p| i + p)
}

/// A word: where it ends, the classes of its bytes or-ed, and its value as a number
/// (meaningful only when it is all digits, at most [`MAX_DIGITS`] of them).
struct Word {
    end: usize,
    class: u8,
    value: u64,
}

fn word(line: &[u8], start: usize) -> Word {
    let mut w = Word {
        end: start,
        class: 0,
        value: 0,
    };
    for &b in &line[start..] {
        let c = CLASS[b as usize];
        if c == 0 {
            break;
        }
        w.class |= c;
        w.end += 1;
        w.value = w
            .value
            .wrapping_mul(10)
            .wrapping_add(u64::from(b.wrapping_sub(b'0')));
    }
    w
}

/// The end of a run of 3+ all-digit words joined by single dots starting at `start`.
fn dotted_end(line: &[u8], first: &Word) -> Option<usize> {
    if first.class != DIGIT {
        return None;
    }
    let (mut end, mut groups) = (first.end, 1);
    while line.get(end) == Some(&b'.') && line.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let next = word(line, end + 1);
        if next.class != DIGIT {
            break;
        }
        (end, groups) = (next.end, groups + 1);
    }
    (groups >= 3).then_some(end)
}

/// Each digit run of `word` becomes integer pieces; the rest stays static.
fn digit_runs<'a>(word: &'a [u8], tpl: &mut Vec<u8>, vars: &mut Vec<Var<'a>>) {
    let mut i = 0;
    while i < word.len() {
        if !word[i].is_ascii_digit() {
            tpl.push(word[i]);
            i += 1;
            continue;
        }
        let run = word[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        for piece in word[i..i + run].chunks(MAX_DIGITS) {
            let width = if piece.len() > 1 && piece[0] == b'0' {
                piece.len() as u8
            } else {
                0
            };
            tpl.extend_from_slice(&[INT, width]);
            vars.push(Var::Int(digits_value(piece)));
        }
        i += run;
    }
}

fn digits_value(digits: &[u8]) -> u64 {
    digits.iter().fold(0, |v, d| v * 10 + u64::from(d - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(line: &str) -> (String, Vec<Var<'_>>) {
        let (mut tpl, mut vars) = (Vec::new(), Vec::new());
        tokenize(line.as_bytes(), &mut tpl, &mut vars);
        let shown: Vec<u8> = tpl
            .iter()
            .map(|&b| match b {
                INT => b'#',
                HEX => b'x',
                DICT => b'D',
                b if b < 32 => b'0' + b % 10,
                b => b,
            })
            .collect();
        (String::from_utf8(shown).unwrap(), vars)
    }

    #[test]
    fn words_split_by_class() {
        use Var::*;
        let table: &[(&str, &str, Vec<Var>)] = &[
            ("GET /x 200 17", "GET /x #0 #0", vec![Int(200), Int(17)]),
            (
                "10.1.2.33:8080",
                "D:#0",
                vec![Dict(b"10.1.2.33"), Int(8080)],
            ),
            (
                "v1.29 0.050",
                "v#0.#0 #0.#3",
                vec![Int(1), Int(29), Int(0), Int(50)],
            ),
            ("id=3f9a1c0d", "id=x8", vec![Hex(b"3f9a1c0d")]),
            ("Win64 ABC1F", "Win#0 ABC#0F", vec![Int(64), Int(1)]),
            ("deadbeef a1b", "deadbeef a#0b", vec![Int(1)]),
            ("T06:07Z", "T#2:#2Z", vec![Int(6), Int(7)]),
            ("ünï 0", "ünï #0", vec![Int(0)]),
        ];
        for (line, tpl, vars) in table {
            assert_eq!(split(line), (tpl.to_string(), vars.clone()), "{line}");
        }
    }

    /// The rules of the module's header applied word by word, byte loops only: the
    /// reference the tokenizer (its jumps to digits and back to word starts) is tested
    /// against.
    fn reference(line: &[u8]) -> (Vec<u8>, Vec<Var<'_>>) {
        let (mut tpl, mut vars) = (Vec::new(), Vec::new());
        let word_end = |from: usize| {
            from + line[from..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count()
        };
        let all_digits = |w: &[u8]| !w.is_empty() && w.iter().all(u8::is_ascii_digit);
        let int = |d: &[u8], tpl: &mut Vec<u8>, vars: &mut Vec<Var>| {
            let width = if d.len() > 1 && d[0] == b'0' {
                d.len()
            } else {
                0
            };
            tpl.extend_from_slice(&[INT, width as u8]);
            vars.push(Var::Int(std::str::from_utf8(d).unwrap().parse().unwrap()));
        };
        let mut i = 0;
        while i < line.len() {
            let end = word_end(i);
            let w = &line[i..end];
            if w.is_empty() || !w.iter().any(u8::is_ascii_digit) {
                tpl.extend_from_slice(if w.is_empty() { &line[i..=i] } else { w });
                i = end.max(i + 1);
                continue;
            }
            let (mut dotted, mut groups) = (end, 1);
            while all_digits(w) && line.get(dotted) == Some(&b'.') {
                let next = word_end(dotted + 1);
                if !all_digits(&line[dotted + 1..next]) {
                    break;
                }
                (dotted, groups) = (next, groups + 1);
            }
            let hex = w
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
            if groups >= 3 {
                tpl.push(DICT);
                vars.push(Var::Dict(&line[i..dotted]));
                i = dotted;
                continue;
            } else if hex && !all_digits(w) && (4..=255).contains(&w.len()) {
                tpl.extend_from_slice(&[HEX, w.len() as u8]);
                vars.push(Var::Hex(w));
            } else {
                for run in w.chunk_by(|a, b| a.is_ascii_digit() == b.is_ascii_digit()) {
                    match all_digits(run) {
                        true => run.chunks(18).for_each(|d| int(d, &mut tpl, &mut vars)),
                        false => tpl.extend_from_slice(run),
                    }
                }
            }
            i = end;
        }
        (tpl, vars)
    }

    proptest! {
        #[test]
        fn lines_split_as_the_rules_say(
            parts in prop::collection::vec(prop::sample::select(vec![
                "0", "7", "42", "007", ".", ". ", "a", "f", "g", "Z", " ", ":", "-", "é", "\u{1F600}",
                "deadbeef", "10.0.0.1", "1.2.3a", "v1.29", "12345678901234567890123", "0x1f",
            ]), 0..120),
        ) {
            let line = parts.concat();
            let (mut tpl, mut vars) = (Vec::new(), Vec::new());
            tokenize(line.as_bytes(), &mut tpl, &mut vars);
            let (want_tpl, want_vars) = reference(line.as_bytes());
            prop_assert_eq!((tpl, vars), (want_tpl, want_vars), "{}", line);
        }
    }

    #[test]
    fn long_digit_runs_split_into_pieces_that_fit() {
        let (tpl, vars) = split("12345678901234567890123");
        assert_eq!(tpl, "#0#0");
        assert_eq!(
            vars,
            vec![Var::Int(123_456_789_012_345_678), Var::Int(90123)]
        );
    }
}
