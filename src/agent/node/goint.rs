//! Go's `strconv` integer syntax with base 0, which node_exporter's parsers use for
//! many kernel values: a readable `0x1003` in sysfs `flags`, or a socket's `uid` and
//! `inode` in `/proc/net/udp`. `None` wherever Go returns an error.

/// `strconv.ParseInt(s, 0, 64)`: optional sign, then the magnitude as [`parse_uint`].
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(unsigned)?;
    if neg {
        // i64::MIN's magnitude is one more than i64::MAX.
        (magnitude <= i64::MAX as u64 + 1).then(|| (magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)`: a `0x`, `0o`, `0b` or bare `0` (octal) prefix picks
/// the base; no sign. (Go's digit-separating underscores are not accepted: no kernel
/// file prints them.)
pub fn parse_uint(s: &str) -> Option<u64> {
    let (radix, digits) = split_radix(s);
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn split_radix(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => return (16, &s[2..]),
            b'o' | b'O' => return (8, &s[2..]),
            b'b' | b'B' => return (2, &s[2..]),
            _ => return (8, &s[1..]),
        }
    }
    (10, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integers_like_go_parse_int_base_0() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("1400", Some(1400)),
            ("-1", Some(-1)),
            ("+7", Some(7)),
            ("0x1003", Some(4099)),
            ("0x0", Some(0)),
            ("0X82", Some(130)),
            ("010", Some(8)),
            ("0o17", Some(15)),
            ("0b101", Some(5)),
            ("-0x10", Some(-16)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("", None),
            ("-", None),
            ("0x", None),
            ("--1", None),
            ("+-1", None),
            ("0x-1", None),
            ("12ab", None),
            ("09", None),
            ("up", None),
            (" 1", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_int(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn parses_unsigned_like_go_parse_uint_base_0() {
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint("0x10"), Some(16));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("+1"), None);
        assert_eq!(parse_uint(""), None);
    }
}
