//! The os-release parser node_exporter 1.5 uses: hashicorp/go-envparse (JSON-escape
//! version). Per line: `KEY=value` with an optional `export ` prefix; blank lines and
//! `#` lines skipped; values unquoted (ending at `#`), 'single quoted' (literal) or
//! "double quoted" (JSON escapes `\" \\ \/ \b \f \r \n \t \uXXXX`, surrogate pairs),
//! mixed freely. Anything else (a control character, a bad escape, an unmatched quote,
//! a bad key) fails the whole file, as it does upstream.

/// Go's `bufio.MaxScanTokenSize`: a longer line fails upstream's scanner.
const MAX_LINE: usize = 64 * 1024;

/// Parses the file into (key, value) pairs in file order; later pairs win on lookup.
pub fn parse(contents: &str) -> Result<Vec<(&str, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in contents.lines().enumerate() {
        if line.len() > MAX_LINE {
            return Err(format!("line {}: longer than {MAX_LINE} bytes", i + 1));
        }
        if let Some(pair) = parse_line(line).map_err(|e| format!("line {}: {e}", i + 1))? {
            out.push(pair);
        }
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<Option<(&str, String)>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (key, value) = line.split_once('=').ok_or("missing =")?;
    let key = check_key(key.trim())?;
    Ok(Some((key, unquote(value.trim())?)))
}

fn check_key(key: &str) -> Result<&str, String> {
    const EXPORT: &str = "export ";
    // Upstream strips the prefix only when a name follows it.
    let key = match key.strip_prefix(EXPORT) {
        Some(rest) if !rest.is_empty() => rest,
        _ => key,
    };
    let first = *key.as_bytes().first().ok_or("empty key")?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return Err(format!("key must start with [A-Za-z_]: {key:?}"));
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("key characters must be [A-Za-z0-9_]: {key:?}"));
    }
    Ok(key)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Double,
    Single,
    Escape,
}

/// Decodes a trimmed value.
fn unquote(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    // End of the last significant byte: unquoted space before a `#` comment is dropped.
    let mut last_sig = 0;
    let mut mode = Mode::Normal;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b < 0x20 {
            return Err(format!("0x{b:02x} is an invalid value character"));
        }
        if b > 0x7f && mode == Mode::Escape {
            return Err("multibyte characters disallowed in escape sequences".into());
        }
        let written = out.len();
        match (mode, b) {
            // Upstream marks the byte *before* a multibyte character as the last
            // significant one, cutting `é #x` in half; the whole character is kept here.
            (_, 0x80..) => out.push(b),
            (Mode::Normal, b'"') => mode = Mode::Double,
            (Mode::Normal, b'\'') => mode = Mode::Single,
            (Mode::Normal, b'#') => {
                out.truncate(last_sig);
                return Ok(lossy(out));
            }
            (Mode::Normal, b' ') => {
                out.push(b);
                continue;
            }
            (Mode::Double, b'"') | (Mode::Single, b'\'') => mode = Mode::Normal,
            (Mode::Double, b'\\') => mode = Mode::Escape,
            (Mode::Escape, _) => {
                i = unescape(bytes, i, b, &mut out)?;
                mode = Mode::Double;
            }
            _ => out.push(b),
        }
        // Quote characters write nothing and so move nothing.
        if out.len() > written {
            last_sig = out.len();
        }
    }
    match mode {
        Mode::Normal => Ok(lossy(out)),
        Mode::Double => Err("unmatched \"".into()),
        Mode::Single => Err("unmatched '".into()),
        Mode::Escape => Err("incomplete escape sequence".into()),
    }
}

/// Handles the byte after a backslash (at `i - 1`); returns the index to go on from.
fn unescape(bytes: &[u8], i: usize, b: u8, out: &mut Vec<u8>) -> Result<usize, String> {
    let simple = match b {
        b'"' | b'\\' | b'/' => Some(b),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'r' => Some(b'\r'),
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'u' => None,
        _ => return Err(format!("invalid escape sequence: {:?}", b as char)),
    };
    if let Some(c) = simple {
        out.push(c);
        return Ok(i);
    }
    let (c, next) = unicode_escape(bytes, i)?;
    let mut utf8 = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
    Ok(next)
}

/// Decodes the `XXXX` of `\uXXXX` at `i`, and a following `\uXXXX` low surrogate when
/// the first is a surrogate; an unpaired surrogate becomes U+FFFD as in Go.
fn unicode_escape(bytes: &[u8], i: usize) -> Result<(char, usize), String> {
    let first = hex4(&bytes[i..])?;
    if !(0xD800..=0xDFFF).contains(&first) {
        let c = char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER);
        return Ok((c, i + 4));
    }
    // Upstream requires 6 more bytes after the 4 digits, starting with `\u`.
    let rest = &bytes[i + 4..];
    if rest.len() < 6 || rest[0] != b'\\' || rest[1] != b'u' {
        return Err("incomplete Unicode surrogate pair".into());
    }
    let second = hex4(&rest[2..])?;
    let is_pair = (0xD800..0xDC00).contains(&first) && (0xDC00..=0xDFFF).contains(&second);
    let c = if is_pair {
        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
    } else {
        None
    };
    Ok((c.unwrap_or(char::REPLACEMENT_CHARACTER), i + 10))
}

fn hex4(bytes: &[u8]) -> Result<u32, String> {
    let digits = bytes.get(..4).ok_or("incomplete hex sequence")?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = (d as char)
            .to_digit(16)
            .ok_or_else(|| format!("invalid hex character: {:?}", d as char))?;
        Ok(acc * 16 + v)
    })
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<String, String> {
        let pairs = parse(line)?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    }

    #[test]
    fn parses_real_os_release_files() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                      VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n\
                      HOME_URL=\"https://www.debian.org/\"\n";
        let pairs = parse(debian).unwrap();
        assert_eq!(
            pairs[0],
            ("PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)".to_owned())
        );
        assert_eq!(pairs[4], ("VERSION_CODENAME", "bookworm".to_owned()));
        let fedora = "NAME=\"Fedora Linux\"\nVERSION=\"39 (Container Image)\"\nID=fedora\n\
                      VERSION_ID=39\nPLATFORM_ID=\"platform:f39\"\nANSI_COLOR=\"0;38;2;60;110;180\"\n\
                      LOGO=fedora-logo-icon\nCPE_NAME=\"cpe:/o:fedoraproject:fedora:39\"\n\
                      DEFAULT_HOSTNAME=\"fedora\"\nVARIANT=\"Container Image\"\nVARIANT_ID=container\n";
        let pairs = parse(fedora).unwrap();
        assert_eq!(pairs.len(), 11);
        assert_eq!(pairs[9], ("VARIANT", "Container Image".to_owned()));
    }

    #[test]
    fn decodes_values_like_go_envparse() {
        let cases: &[(&str, &str)] = &[
            ("A=plain", "plain"),
            ("A=", ""),
            ("A =  spaced out  ", "spaced out"),
            ("export A=x", "x"),
            ("A=x # comment", "x"),
            ("A=x#y", "x"),
            ("A=\"in # quotes\" # out", "in # quotes"),
            ("A='single \\n \"raw\"'", "single \\n \"raw\""),
            ("A=\"esc \\\" \\\\ \\/ \\t \\n\"", "esc \" \\ / \t \n"),
            ("A=\"\\u00e9t\\u00E9\"", "\u{e9}t\u{e9}"),
            ("A=\"\\ud83d\\udd25\"", "\u{1f525}"),
            ("A=\"\\ud83d\\u0041x\"", "\u{fffd}x"),
            ("A=mixed 'single' \"double\" end", "mixed single double end"),
            ("A=unquoted \\backslash", "unquoted \\backslash"),
            ("A=foo  \"\"  #x", "foo"),
            ("A=caf\u{e9} #x", "caf\u{e9}"),
            ("A=\"trailing space \"", "trailing space "),
            ("A=a=b", "a=b"),
            ("\u{a0}A=nbsp trimmed\u{a0}", "nbsp trimmed"),
        ];
        for (line, want) in cases {
            assert_eq!(one(line).as_deref(), Ok(*want), "line {line:?}");
        }
    }

    #[test]
    fn skips_blank_and_comment_lines_and_keys_like_export() {
        let pairs = parse("# c\n\n   \n  # indented\nexport=1\r\n_X1=2\n").unwrap();
        assert_eq!(pairs, [("export", "1".to_owned()), ("_X1", "2".to_owned())]);
    }

    #[test]
    fn rejects_what_go_envparse_rejects() {
        for bad in [
            "NOSEPARATOR",
            "=x",
            "1A=x",
            "A-B=x",
            "A.B=x",
            "\u{e9}=x",
            "A=\"unmatched",
            "A='unmatched",
            "A=\"bad \\q escape\"",
            "A=\"ends in escape\\",
            "A=tab\tinside",
            "A=\"\\u12\"",
            "A=\"\\u12zz\"",
            "A=\"\\ud83d\"",
            "A=\"\\ud83dx\\u0041\"",
            "A=\"\\\u{e9}\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("A={}", "x".repeat(MAX_LINE));
        assert!(parse(&long).is_err());
    }
}
