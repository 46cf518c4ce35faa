//! Reads sysfs attribute files the way node_exporter's procfs library does
//! (`internal/util.SysReadFile`): one `read(2)` of at most 128 bytes, whitespace trimmed,
//! and integers parsed like Go's `strconv.ParseInt(s, 0, 64)` (so `flags`' "0x1003" is
//! hex). One read, not read-to-end: some drivers answer EAGAIN for ever on a second read.
//!
//! Attributes are opened relative to their directory's fd, so an interface with twenty
//! attributes costs one path walk, not twenty.

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::borrow::Cow;
use std::io;
use std::path::Path;

/// procfs' `sysFileBufferSize`: longer attribute values are cut here, as upstream does.
pub const ATTR_MAX: usize = 128;

/// An open sysfs directory whose attributes are read by name.
pub struct AttrDir {
    fd: OwnedFd,
}

impl AttrDir {
    pub fn open(path: &Path) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(AttrDir { fd })
    }

    /// Reads attribute `name` (relative, e.g. `mtu` or `statistics/rx_nohandler`) into
    /// `buf` and returns its trimmed bytes.
    pub fn read<'b>(&self, name: &str, buf: &'b mut [u8; ATTR_MAX]) -> io::Result<&'b [u8]> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        read_once(&fd, buf)
    }
}

/// Reads one attribute file by path (for the odd single read outside a directory walk).
pub fn read_path<'b>(path: &Path, buf: &'b mut [u8; ATTR_MAX]) -> io::Result<&'b [u8]> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    read_once(&fd, buf)
}

fn read_once<'b>(fd: &OwnedFd, buf: &'b mut [u8; ATTR_MAX]) -> io::Result<&'b [u8]> {
    let n = loop {
        match rustix::io::read(fd, &mut buf[..]) {
            Err(Errno::INTR) => continue,
            other => break other?,
        }
    };
    Ok(buf[..n].trim_ascii())
}

/// An attribute's text as a label value: invalid UTF-8 replaced, Unicode space trimmed
/// (Go's `bytes.TrimSpace` trims Unicode space too).
pub fn text(bytes: &[u8]) -> String {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => s.trim().to_owned(),
        Cow::Owned(s) => s.trim().to_owned(),
    }
}

/// Read errors procfs' netclass parser skips the attribute for: missing, forbidden,
/// EOPNOTSUPP, and EINVAL (e.g. `speed` or `carrier` of an interface that is down).
pub fn is_unavailable(e: &io::Error) -> bool {
    // PermissionDenied covers EACCES and EPERM, as Go's os.IsPermission does.
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
    ) || matches!(e.raw_os_error(), Some(code) if code == Errno::INVAL.raw_os_error()
        || code == Errno::OPNOTSUPP.raw_os_error())
}

/// Parses an integer as Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then a `0x`,
/// `0o`, `0b` or bare `0` (octal) prefix picks the base. `None` where Go errs, which
/// procfs turns into "attribute absent".
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = split_radix(unsigned);
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        // i64::MIN's magnitude is one more than i64::MAX.
        (magnitude <= i64::MAX as u64 + 1).then(|| (magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
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
    fn reads_trimmed_attributes_relative_to_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mtu"), "1500\n").unwrap();
        std::fs::create_dir(dir.path().join("statistics")).unwrap();
        std::fs::write(dir.path().join("statistics/rx_nohandler"), "7\n").unwrap();
        std::fs::write(dir.path().join("ifalias"), "x".repeat(300)).unwrap();
        let attrs = AttrDir::open(dir.path()).unwrap();
        let mut buf = [0; ATTR_MAX];
        assert_eq!(attrs.read("mtu", &mut buf).unwrap(), b"1500");
        assert_eq!(
            attrs.read("statistics/rx_nohandler", &mut buf).unwrap(),
            b"7"
        );
        assert_eq!(attrs.read("ifalias", &mut buf).unwrap().len(), ATTR_MAX);
        let missing = attrs.read("speed", &mut buf).unwrap_err();
        assert!(is_unavailable(&missing));
        let path = dir.path().join("mtu");
        assert_eq!(read_path(&path, &mut buf).unwrap(), b"1500");
    }

    #[test]
    fn classifies_errors_as_procfs_does() {
        let einval = io::Error::from_raw_os_error(Errno::INVAL.raw_os_error());
        let eopnotsupp = io::Error::from_raw_os_error(Errno::OPNOTSUPP.raw_os_error());
        let enodev = io::Error::from_raw_os_error(Errno::NODEV.raw_os_error());
        let eio = io::Error::from_raw_os_error(Errno::IO.raw_os_error());
        assert!(is_unavailable(&einval));
        assert!(is_unavailable(&eopnotsupp));
        assert!(!is_unavailable(&enodev));
        assert!(!is_unavailable(&eio));
    }

    #[test]
    fn text_replaces_invalid_utf8_and_trims_unicode_space() {
        assert_eq!(text(b"uplink \xff"), "uplink \u{fffd}");
        assert_eq!(text("caf\u{e9}\u{a0}".as_bytes()), "caf\u{e9}");
        assert_eq!(text(b""), "");
    }
}
