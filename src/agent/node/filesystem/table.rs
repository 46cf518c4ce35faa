//! Reads the mount table, and only when it changed: the kernel formats every line of
//! `mountinfo` on each read (hundreds of lines on a busy Kubernetes node), so the file is
//! kept open and polled, and re-read only when the kernel signals a mount or unmount in
//! its namespace (`POLLPRI` on `/proc/<pid>/mountinfo`, as systemd and libmount watch it).

use super::mounts::{parse_mountinfo, parse_mounts, MountTable};
use crate::agent::node::{CollectError, HostPaths};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// A mount table parser: mountinfo or the old `/proc/mounts` format.
pub type ParseFn = fn(&str) -> MountTable<'_>;

/// The mount tables in order of preference: the host's namespace (pid 1, as node_exporter
/// reads it), ours, then the old format.
pub struct TableReader {
    candidates: [(PathBuf, ParseFn); 3],
    open: Option<OpenTable>,
}

struct OpenTable {
    file: File,
    path: PathBuf,
    parse: ParseFn,
    /// A procfs file signals changes; anything else (a test's temp file) is re-read on
    /// every scrape.
    pollable: bool,
}

impl TableReader {
    pub fn new(paths: &HostPaths) -> Self {
        TableReader {
            candidates: [
                (paths.proc("1/mountinfo"), parse_mountinfo),
                (paths.proc("self/mountinfo"), parse_mountinfo),
                (paths.proc("mounts"), parse_mounts),
            ],
            open: None,
        }
    }

    /// The table's text and parser when it changed since the last call (or `force`);
    /// None when the kernel says it did not.
    pub fn read_if_changed(
        &mut self,
        force: bool,
    ) -> Result<Option<(String, ParseFn)>, CollectError> {
        let changed = match &self.open {
            Some(t) => force || t.changed(),
            None => {
                self.open = Some(self.open_first()?);
                true
            }
        };
        if !changed {
            return Ok(None);
        }
        let Some(t) = self.open.as_mut() else {
            return Ok(None);
        };
        match t.read() {
            Ok(text) => Ok(Some((text, t.parse))),
            Err(source) => {
                let path = t.path.clone();
                self.open = None; // Reopen at the next scrape.
                Err(CollectError::Io { path, source })
            }
        }
    }

    fn open_first(&self) -> Result<OpenTable, CollectError> {
        let mut last_err = None;
        for (path, parse) in &self.candidates {
            match File::open(path) {
                Ok(file) => {
                    let pollable = rustix::fs::fstatfs(&file)
                        .is_ok_and(|s| s.f_type == rustix::fs::PROC_SUPER_MAGIC);
                    return Ok(OpenTable {
                        file,
                        path: path.clone(),
                        parse: *parse,
                        pollable,
                    });
                }
                Err(source) => {
                    last_err = Some(CollectError::Io {
                        path: path.clone(),
                        source,
                    })
                }
            }
        }
        Err(last_err.expect("there is more than one mount table"))
    }
}

impl OpenTable {
    /// True when the table may have changed since it was opened or last polled.
    fn changed(&self) -> bool {
        if !self.pollable {
            return true;
        }
        let mut fds = [PollFd::new(&self.file, PollFlags::PRI)];
        match poll(&mut fds, Some(&Timespec::default())) {
            Ok(_) => fds[0].revents().intersects(PollFlags::PRI | PollFlags::ERR),
            Err(_) => true,
        }
    }

    fn read(&mut self) -> std::io::Result<String> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut bytes = Vec::with_capacity(16 * 1024);
        self.file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_procfs_table_is_read_again_only_when_it_changes() {
        // This process's own table: nothing mounts or unmounts in between.
        let paths = HostPaths::default();
        let mut r = TableReader::new(&paths);
        let (text, _) = r.read_if_changed(false).unwrap().unwrap();
        assert!(!text.is_empty());
        assert!(r.open.as_ref().unwrap().pollable);
        assert!(r.read_if_changed(false).unwrap().is_none());
        assert!(r.read_if_changed(true).unwrap().is_some());
    }

    #[test]
    fn a_plain_file_is_read_every_time_and_rewrites_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mounts");
        std::fs::write(&file, "a / ext4 rw 0 0\n").unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut r = TableReader::new(&paths);
        assert_eq!(
            r.read_if_changed(false).unwrap().unwrap().0,
            "a / ext4 rw 0 0\n"
        );
        std::fs::write(&file, "b / xfs ro 0 0\n").unwrap();
        assert_eq!(
            r.read_if_changed(false).unwrap().unwrap().0,
            "b / xfs ro 0 0\n"
        );
    }
}
