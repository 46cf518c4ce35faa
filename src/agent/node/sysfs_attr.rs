//! Reads sysfs attribute files the way node_exporter's procfs library does
//! (`internal/util.SysReadFile`): one `read(2)` of at most 128 bytes, whitespace
//! trimmed. One read, not read-to-end: some drivers answer EAGAIN for ever on a second.
//! Directories read on every scrape keep their attributes open ([`AttrCache`]).

mod cache;

pub use cache::AttrCache;

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::borrow::Cow;
use std::io;
use std::path::Path;

/// procfs' `sysFileBufferSize`: longer attribute values are cut here, as upstream does.
pub const ATTR_MAX: usize = 128;

/// Reads one attribute file by path (for the odd single read outside a directory walk).
pub fn read_path<'b>(path: &Path, buf: &'b mut [u8; ATTR_MAX]) -> io::Result<&'b [u8]> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    read_once(&fd, buf)
}

/// One read from offset 0 (a fresh file's position, and where sysfs re-renders an open
/// one), retried only on EINTR.
fn read_once<'b>(fd: &OwnedFd, buf: &'b mut [u8; ATTR_MAX]) -> io::Result<&'b [u8]> {
    let n = loop {
        match rustix::io::pread(fd, &mut buf[..], 0) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_trimmed_value_of_at_most_128_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mtu"), "1500\n").unwrap();
        std::fs::write(dir.path().join("ifalias"), "x".repeat(300)).unwrap();
        let mut buf = [0; ATTR_MAX];
        assert_eq!(
            read_path(&dir.path().join("mtu"), &mut buf).unwrap(),
            b"1500"
        );
        let long = read_path(&dir.path().join("ifalias"), &mut buf).unwrap();
        assert_eq!(long.len(), ATTR_MAX);
        let missing = read_path(&dir.path().join("speed"), &mut buf).unwrap_err();
        assert!(is_unavailable(&missing));
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
