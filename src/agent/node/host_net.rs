//! Files of `/proc/net`, read in the host's network namespace.
//!
//! `<procfs>/net` is a symlink to `self/net`: the namespace of the process that reads it.
//! An agent pod without `hostNetwork` would report its own interfaces and sockets
//! (node_exporter #1906, PITFALLS 13). `<procfs>/1/net` is the namespace of the host's
//! init when procfs is the host's `/proc`, so it is read first; the plain path is the
//! fallback (hidepid, or a procfs with no pid 1 such as a test root).

use super::{CollectError, HostPaths};
use rustix::fs::{Mode, OFlags};
use std::io;
use std::path::{Path, PathBuf};

/// One `/proc/net/<name>` file, with its host-namespace and own-namespace paths.
pub struct HostNetFile {
    host: PathBuf,
    own: PathBuf,
}

impl HostNetFile {
    pub fn new(paths: &HostPaths, name: &str) -> Self {
        HostNetFile {
            host: paths.proc(&format!("1/net/{name}")),
            own: paths.proc(&format!("net/{name}")),
        }
    }

    /// Reads the file, preferring the host's namespace. Returns the contents and the
    /// path they came from (for error messages). The fallback's error is the one
    /// reported, so a kernel without the file still reads as NotFound.
    pub fn read(&self) -> Result<(String, &Path), CollectError> {
        match read_pseudo_file(&self.host) {
            Ok(contents) => Ok((contents, &self.host)),
            Err(_) => match read_pseudo_file(&self.own) {
                Ok(contents) => Ok((contents, &self.own)),
                Err(source) => Err(CollectError::Io {
                    path: self.own.clone(),
                    source,
                }),
            },
        }
    }
}

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
    fn prefers_pid_1_and_falls_back_to_own_namespace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("1/net")).unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("1/net/dev"), "host").unwrap();
        std::fs::write(dir.path().join("net/dev"), "own").unwrap();
        std::fs::write(dir.path().join("net/arp"), "own arp").unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let dev_file = HostNetFile::new(&paths, "dev");
        let (dev, from) = dev_file.read().unwrap();
        assert_eq!(
            (dev.as_str(), from),
            ("host", dir.path().join("1/net/dev").as_path())
        );
        let (arp, _) = HostNetFile::new(&paths, "arp").read().unwrap();
        assert_eq!(arp, "own arp");
        let err = HostNetFile::new(&paths, "udp6").read().unwrap_err();
        assert!(err.is_not_found());
    }

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
