//! Reading a cgroup directory's files: the directory is opened once and each file is
//! read relative to it (`openat`, one `pread` into a reused buffer until EOF, close, or
//! one `pread` of a file held open, see [`super::open_files`], which also remembers the
//! files a held directory lacks), so a scrape of hundreds
//! of cgroups does no path walks. Shared parsers of the two file
//! shapes cgroups use: a single number, and `key value` lines. Failures are counted in
//! [`Errors`], never fatal.

use super::open_files::Held;
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Files that could not be read or parsed, since start.
#[derive(Debug, Default)]
pub struct Errors {
    pub read: AtomicU64,
    pub parse: AtomicU64,
    /// Pods or containers left out because a walk limit was reached.
    pub over_limit: AtomicU64,
}

/// An open cgroup directory; with [`Held`] files, its files stay open once read.
pub struct CgroupDir {
    fd: OwnedFd,
    held: Option<Held>,
}

impl CgroupDir {
    /// Opens `path`; NotFound when the cgroup is gone (the container exited).
    pub fn open(path: &Path) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(CgroupDir { fd, held: None })
    }

    /// Opens the subdirectory `name` of this directory (no path walk from the root).
    pub fn open_child(&self, name: &str) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())?;
        Ok(CgroupDir { fd, held: None })
    }

    /// From now on, keeps the files read open in `held` (within its budget).
    pub fn hold_files(&mut self, held: Held) {
        self.held = Some(held);
    }

    /// Reads file `name` into `buf` (cleared first) and returns its text: from offset 0
    /// of the held file, or opened, read and (if held) kept open.
    pub fn read<'b>(&self, name: &str, buf: &'b mut Vec<u8>) -> io::Result<&'b str> {
        let held = self.held.as_ref();
        if held
            .and_then(|h| h.read(name, |fd| read_at_0(fd, buf)))
            .is_none()
        {
            if held.is_some_and(|h| h.is_absent(name)) {
                return Err(io::ErrorKind::NotFound.into());
            }
            let flags = OFlags::RDONLY | OFlags::CLOEXEC;
            let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    held.inspect(|h| h.mark_absent(name));
                    return Err(io::ErrorKind::NotFound.into());
                }
                Err(e) => return Err(e.into()),
            };
            read_at_0(&fd, buf)?;
            if let Some(held) = held {
                held.keep(name, fd);
            }
        }
        std::str::from_utf8(buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
    }

    /// Reads and parses file `name`: `None` when it does not exist (the controller is
    /// not enabled, or an older kernel), or when reading or parsing failed (counted).
    pub fn parse<T>(
        &self,
        name: &str,
        buf: &mut Vec<u8>,
        errors: &Errors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.read(name, buf) {
            Ok(text) => match parse(text) {
                Ok(v) => Some(v),
                Err(msg) => {
                    errors.parse.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(file = name, error = %msg, "Cannot parse a cgroup file.");
                    None
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                errors.read.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(file = name, error = %e, "Cannot read a cgroup file.");
                None
            }
        }
    }
}

/// Reads the whole of `fd` from offset 0 into `buf` (cleared first) with `pread`: one
/// system call for a small file. A short read is the end: cgroupfs and procfs
/// (seq_file) fill the whole buffer while records remain, as regular files do.
fn read_at_0(fd: &OwnedFd, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().max(4096));
        }
        let (room, offset) = (buf.capacity() - buf.len(), buf.len() as u64);
        match rustix::io::pread(fd, rustix::buffer::spare_capacity(buf), offset) {
            Ok(n) if n < room => return Ok(()),
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// A file holding one number; `max` (no limit) reads as `u64::MAX`.
pub fn single(text: &str) -> Result<u64, String> {
    match text.trim_ascii() {
        "max" => Ok(u64::MAX),
        t => decimal(t).ok_or_else(|| format!("not a number: {t:?}")),
    }
}

/// A file holding one signed number (v1 `cpu.cfs_quota_us`: -1 for none).
pub fn signed(text: &str) -> Result<i64, String> {
    let t = text.trim();
    t.parse().map_err(|_| format!("not a number: {t:?}"))
}

/// `key value` lines (cpu.stat, memory.stat, memory.events, cpuacct.stat, ...): calls
/// `each(key, value)` for every line; a line that is not `word number` is an error.
/// One pass over the bytes, no line splitting: memory.stat has ~40 lines and is read for
/// every cgroup on every scrape.
pub fn keyed(text: &str, mut each: impl FnMut(&str, u64)) -> Result<(), String> {
    let b = text.as_bytes();
    let (space, blank) = (
        |c: u8| c.is_ascii_whitespace(),
        |c: u8| c.is_ascii_whitespace() && c != b'\n',
    );
    let mut i = 0;
    loop {
        i = skip(b, i, space); // blank lines and indentation
        if i == b.len() {
            return Ok(());
        }
        let start = i;
        let key_end = skip(b, start, |c| !space(c));
        let value_start = skip(b, key_end, blank);
        let value_end = skip(b, value_start, |c| !space(c));
        let value = decimal(&text[value_start..value_end]);
        i = skip(b, value_end, blank);
        let Some(value) = value.filter(|_| i == b.len() || b[i] == b'\n') else {
            let line = line_at(text, start);
            // A third field, or no value: not `key value`; else a bad number.
            let fields = line.split_ascii_whitespace().count();
            return Err(if fields != 2 {
                format!("not a `key value` line: {line:?}")
            } else {
                format!("not a number in {line:?}")
            });
        };
        each(&text[start..key_end], value);
    }
}

/// The first index from `i` on whose byte is not `pred`'s (or `b.len()`).
fn skip(b: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && pred(b[i]) {
        i += 1;
    }
    i
}

/// The line of `text` that starts at byte `start`, trimmed (for error messages).
fn line_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    rest[..rest.find('\n').unwrap_or(rest.len())].trim_ascii()
}

/// An unsigned decimal number (digits only, no overflow).
pub fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        let digit = b.wrapping_sub(b'0');
        (digit < 10).then_some(())?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `cgroup.procs`: one pid per line.
pub fn pids(text: &str) -> Result<Vec<u32>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let pid = decimal(l.trim_ascii()).and_then(|p| u32::try_from(p).ok());
            pid.ok_or_else(|| format!("not a pid: {l:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(single("536870912\n"), Ok(536_870_912));
        assert_eq!(single("max\n"), Ok(u64::MAX));
        assert!(single("12x").is_err());
        assert_eq!(signed("-1\n"), Ok(-1));
        let mut seen = Vec::new();
        keyed("usage_usec 5\nuser_usec 3\n", |k, v| {
            seen.push((k.to_owned(), v))
        })
        .unwrap();
        assert_eq!(
            seen,
            [("usage_usec".to_owned(), 5), ("user_usec".to_owned(), 3)]
        );
        assert!(keyed("usage_usec\n", |_, _| {}).is_err());
        assert!(keyed("a 1 2\n", |_, _| {}).is_err());
        assert!(keyed("a -1\n", |_, _| {}).is_err());
        assert_eq!(pids("12\n345\n"), Ok(vec![12, 345]));
        assert!(pids("12\nx\n").is_err());
        assert!(pids("4294967296\n").is_err(), "beyond u32");
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal("18446744073709551616"), None, "overflow");
        for bad in ["", "-1", "1.5", "1 ", "x"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        let mut last = None;
        keyed("  anon   7 \r\n\n\tfile\t8\n", |k, v| {
            last = Some((k.to_owned(), v))
        })
        .unwrap();
        assert_eq!(last, Some(("file".to_owned(), 8)));
        assert!(keyed("anon 7x\n", |_, _| {})
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn reads_relative_to_the_directory_and_counts_failures() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("memory.current"), "4096\n").unwrap();
        std::fs::write(dir.path().join("memory.peak"), "lots\n").unwrap();
        std::fs::write(dir.path().join("big"), "x".repeat(100_000)).unwrap();
        let d = CgroupDir::open(dir.path()).unwrap();
        let (mut buf, errors) = (Vec::new(), Errors::default());
        assert_eq!(
            d.parse("memory.current", &mut buf, &errors, single),
            Some(4096)
        );
        assert_eq!(d.parse("memory.peak", &mut buf, &errors, single), None);
        assert_eq!(
            d.parse("memory.swap.current", &mut buf, &errors, single),
            None
        );
        assert_eq!(d.read("big", &mut buf).unwrap().len(), 100_000);
        assert_eq!(errors.parse.load(Ordering::Relaxed), 1);
        assert_eq!(
            errors.read.load(Ordering::Relaxed),
            0,
            "a missing file is no error"
        );
        assert!(CgroupDir::open(&dir.path().join("gone")).is_err());
    }
}
