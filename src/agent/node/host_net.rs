//! Files of `/proc/net`, read in the host's network namespace.
//!
//! `<procfs>/net` is a symlink to `self/net`: the namespace of the process that reads it.
//! An agent pod without `hostNetwork` would report its own interfaces and sockets
//! (node_exporter #1906, PITFALLS 13). `<procfs>/1/net` is the namespace of the host's
//! init when procfs is the host's `/proc`, so it is read first; the plain path is the
//! fallback (hidepid, or a procfs with no pid 1 such as a test root).

use super::{read_file, CollectError, HostPaths};
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
        match read_file(&self.host) {
            Ok(contents) => Ok((contents, &self.host)),
            Err(host_err) => {
                tracing::trace!(error = %host_err, "Falling back to the agent's own network namespace.");
                read_file(&self.own).map(|contents| (contents, self.own.as_path()))
            }
        }
    }
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
}
