//! Reads whole pseudo-files (procfs, sysfs) with as few system calls as it takes; every
//! collector reads through this (via `super::read_file`).

use rustix::fs::{Mode, OFlags};
use std::io;
use std::path::Path;

/// Reads a whole procfs file with as few system calls as it takes: procfs reports size
/// 0, so `std::fs::read_to_string` would stat, seek and probe with a 32-byte read first;
/// here it is open, read into a 16 KiB buffer until a read returns 0, close. Invalid
/// UTF-8 (interface names are bytes) is replaced rather than failing the file.
pub fn read_pseudo_file(path: &Path) -> io::Result<String> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity());
        }
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(&mut buf)) {
            Ok(0) => break,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_larger_than_the_first_buffer_and_bad_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let big = "0123456789abcdef".repeat(5000);
        std::fs::write(dir.path().join("big"), &big).unwrap();
        assert_eq!(read_pseudo_file(&dir.path().join("big")).unwrap(), big);
        std::fs::write(dir.path().join("bad"), b"eth\xff0: 1\n").unwrap();
        let bad = read_pseudo_file(&dir.path().join("bad")).unwrap();
        assert_eq!(bad, "eth\u{fffd}0: 1\n");
        let real = read_pseudo_file(Path::new("/proc/self/stat")).unwrap();
        assert!(real.ends_with('\n'));
    }
}
