//! Files of the host's network namespace, shared by the netstat, sockstat and conntrack
//! collectors.
//!
//! `<procfs>/net/...` shows the namespace of the process that reads it: in a pod without
//! `hostNetwork`, the agent's own, not the node's (node_exporter reads it that way, so
//! it needs hostNetwork; node_exporter #1906, PITFALLS 13). `<procfs>/1/net/...` shows
//! PID 1's namespace: the host's whenever the agent sees the host's PIDs (bare metal,
//! hostPID), and the same as `<procfs>/net` otherwise. So we read `1/net` first and fall
//! back to `net` when PID 1's files cannot be read (e.g. no permission to PID 1).

use super::{read_file, CollectError, HostPaths};
use std::path::{Path, PathBuf};

/// One file below `net/`, e.g. `NetFile::new(paths, "netstat")`.
#[derive(Debug, Clone)]
pub struct NetFile {
    host: PathBuf,
    own: PathBuf,
}

impl NetFile {
    pub fn new(paths: &HostPaths, rel: &str) -> Self {
        NetFile {
            host: paths.proc(&format!("1/net/{rel}")),
            own: paths.proc(&format!("net/{rel}")),
        }
    }

    /// Reads the host's copy, else the agent's own; returns the contents and the path
    /// that was read (for error messages).
    pub fn read(&self) -> Result<(String, &Path), CollectError> {
        match read_file(&self.host) {
            Ok(text) => Ok((text, &self.host)),
            Err(host_err) => {
                tracing::trace!(error = %host_err, "Falling back to the agent's own network namespace.");
                read_file(&self.own).map(|text| (text, self.own.as_path()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_pid_1_and_falls_back_to_own() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        std::fs::create_dir_all(dir.path().join("1/net")).unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("net/sockstat"), "own").unwrap();
        let f = NetFile::new(&paths, "sockstat");
        assert_eq!(f.read().unwrap().0, "own");
        std::fs::write(dir.path().join("1/net/sockstat"), "host").unwrap();
        let (text, path) = f.read().unwrap();
        assert_eq!(text, "host");
        assert_eq!(path, dir.path().join("1/net/sockstat"));
        assert!(NetFile::new(&paths, "snmp6")
            .read()
            .unwrap_err()
            .is_not_found());
    }
}
