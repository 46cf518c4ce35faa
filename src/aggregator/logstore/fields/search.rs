//! Which part of a needle a line's template must hold. Tokenizing ([`super::tokens`])
//! only ever turns digits, lowercase hex words and dots between numbers into
//! variables, so some bytes of a needle are static text wherever the needle occurs: a
//! line holding the needle holds their longest run in its template, placeholder-free.
//! A scan then rebuilds only the lines of templates holding it
//! ([`super::Decoder::decode_where`]).

/// The longest run of `needle`'s bytes that are surely static text in any line
/// holding it (empty when none is, e.g. a number: every template may then match).
pub fn static_part(needle: &[u8]) -> &[u8] {
    let (mut best, mut at) = (0..0, 0);
    // a false after the last byte closes the last run
    for (i, sure) in sure_static(needle).into_iter().chain([false]).enumerate() {
        if !sure {
            if i - at > best.len() {
                best = at..i;
            }
            at = i + 1;
        }
    }
    &needle[best]
}

/// Whether each byte of `needle` is static text in every line holding it.
fn sure_static(needle: &[u8]) -> Vec<bool> {
    let mut sure = vec![false; needle.len()];
    let mut i = 0;
    while i < needle.len() {
        let b = needle[i];
        if !b.is_ascii_alphanumeric() {
            // a dot is part of a dotted number only between two digits
            let digit = |j: Option<usize>| j.and_then(|j| needle.get(j)).map(u8::is_ascii_digit);
            sure[i] = b != b'.'
                || digit(i.checked_sub(1)) == Some(false)
                || digit(Some(i + 1)) == Some(false);
            i += 1;
            continue;
        }
        let end = i + needle[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let word = &needle[i..end];
        // letters stay static unless the word may be hex: a word with a letter outside
        // a-f never is; one wholly inside the needle without a digit is not either
        let inside = i > 0 && end < needle.len();
        let not_hex = word
            .iter()
            .any(|b| b.is_ascii_alphabetic() && !(b'a'..=b'f').contains(b))
            || (inside && !word.iter().any(u8::is_ascii_digit));
        for (k, b) in word.iter().enumerate() {
            sure[i + k] = not_hex && b.is_ascii_alphabetic();
        }
        i = end;
    }
    sure
}

#[cfg(test)]
mod tests {
    use super::static_part;

    #[test]
    fn static_parts_of_needles() {
        let table: &[(&str, &str)] = &[
            ("kube-probe/1.29", "kube-probe/"),
            ("500", ""),
            ("payment declined", "payment declined"),
            (" declined ", " declined "),
            ("orderId=999999 ", "orderId="),
            ("abc1 x", " x"),
            ("a.1.2", "."),
            ("1.2.x", ".x"),
            ("", ""),
        ];
        for (needle, part) in table {
            assert_eq!(
                static_part(needle.as_bytes()),
                part.as_bytes(),
                "{needle:?}"
            );
        }
    }
}
