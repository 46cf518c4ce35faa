//! `checkpoints.json` on disk: written so that a crash at any instant leaves either the
//! old or the new content, and read back so that no leftover of a crash stops the agent.
//!
//! Writing: temp file in the same directory, write, fsync it, rename it over the stable
//! file, fsync the directory (so the rename itself survives a power cut).
//!
//! Quick writes, after each acknowledged batch, go to the quick file (two slots written
//! in turn in place, no fsync: quick.rs): the page cache survives a process crash (SIGKILL), so they bound
//! what a crash sends again without waiting on the disk, which under I/O load took
//! seconds and held every line behind it (p99 latency, BENCHMARKS.md). The stable file
//! is written durably by the timer and at shutdown, and then the quick file is removed.
//! A quick write holds only the entries changed (and the ids removed) since the last
//! durable write that succeeded (format.rs), so its cost follows the files acknowledged
//! since, not the store's size; it holds the whole state only while the stable file
//! lacks the state the process started from (it came from a quick or temp file).
//! A quick file is never newer than it should be: at worst (a power cut, or a crash
//! between the stable write and the removal) it is an older state, whose lines are sent
//! again, never lost; one that does not parse (a power cut mid-write) is removed.
//!
//! Reading mirrors Vector's checkpointer (lib/file-source-common/src/checkpointer.rs): the
//! temp file is read first, because if it parses completely the previous process died
//! between fsync and rename and it is the newer state; it is then renamed into place. A
//! temp file that does not parse is an interrupted write and is removed. The quick file,
//! when present, is the state read (whole, or its changes applied over the temp or
//! stable file): it is what the sender last waited for, and a durable write runs beside
//! the quick ones, so its temp or stable file may be older (and when it is newer, by at
//! most the one batch the bound allows). Changes apply over any stable state at least as
//! new as the durable write they were counted from: their entries are set as they were
//! at the quick write, every other entry is the same or newer. A stable file that does
//! not parse leaves the changes alone: entries unchanged since are lost, as they are
//! without a quick file. Where Vector
//! only warns and carries on when the stable file does not parse, we also keep the bad
//! file aside as `checkpoints.json.corrupt-<unix time>` for a post-mortem (Promtail's
//! positions.yaml full of NUL bytes, PITFALLS 2), and the caller counts it.

use super::format::{self, Quick, Record};
use super::quick;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "checkpoints.json";
pub const TEMP_NAME: &str = "checkpoints.json.tmp";

/// What [`recover`] found in the directory.
#[derive(Debug, Default)]
pub struct Recovered {
    pub records: Vec<Record>,
    /// The state came from a complete temp file left by an interrupted persist.
    pub from_temp: bool,
    /// An incomplete temp file was removed.
    pub discarded_temp: bool,
    /// The state came from the quick file (written after the last durable write).
    pub from_quick: bool,
    /// Where an unreadable stable file was moved (or `FILE_NAME` if it could not be).
    pub corrupt: Option<PathBuf>,
}

/// Replaces `<dir>/checkpoints.json` with `bytes`, atomically and durably.
pub fn write_atomically(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(TEMP_NAME);
    let mut file = File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, dir.join(FILE_NAME))?;
    sync_dir(dir)
}

/// Makes a rename (or a new file) in `dir` durable. Shared with the log buffer's spool.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads the last persisted state from `dir`; never fails, at worst returns nothing.
pub fn recover(dir: &Path, now_unix: u64) -> Recovered {
    let mut out = Recovered::default();
    let temp = dir.join(TEMP_NAME);
    let from_temp = match read(&temp) {
        Ok(None) => None,
        Ok(Some(records)) => {
            tracing::warn!(path = %temp.display(), "Recovered checkpoints from an interrupted write.");
            let moved = fs::rename(&temp, dir.join(FILE_NAME)).and_then(|()| sync_dir(dir));
            if let Err(error) = moved {
                tracing::warn!(%error, "Could not move the recovered checkpoints into place.");
            }
            Some(records)
        }
        Err(error) => {
            tracing::warn!(path = %temp.display(), %error, "Discarded an incomplete checkpoint write.");
            if let Err(error) = fs::remove_file(&temp) {
                tracing::warn!(%error, "Could not remove the incomplete checkpoint write.");
            }
            out.discarded_temp = true;
            None
        }
    };
    // The quick file is the state of the last round the sender waited for; a durable
    // write runs beside the rounds, so its temp file may be older.
    let changes = match read_quick(dir) {
        Some(Quick::Whole(records)) => {
            out.records = records;
            out.from_quick = true;
            return out;
        }
        Some(Quick::Changes { files, removed }) => Some((files, removed)),
        None => None,
    };
    let base = match from_temp {
        Some(records) => {
            out.from_temp = true;
            records
        }
        None => {
            let stable = dir.join(FILE_NAME);
            match read(&stable) {
                Ok(records) => records.unwrap_or_default(),
                Err(error) => {
                    out.corrupt = Some(set_aside(&stable, now_unix, &error));
                    Vec::new()
                }
            }
        }
    };
    out.records = match changes {
        Some((files, removed)) => {
            out.from_quick = true;
            format::apply(base, files, removed)
        }
        None => base,
    };
    out
}

/// The quick file, if it is there and whole (quick.rs); one that is not (a power cut
/// mid-write) is removed, and the stable file is read alone.
fn read_quick(dir: &Path) -> Option<Quick> {
    let bytes = quick::read(dir)?;
    match format::decode_quick(&bytes) {
        Ok(q) => Some(q),
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "Discarded a quick checkpoint that does not parse; reading the durable one.");
            if let Err(error) = quick::remove_slots(dir) {
                tracing::warn!(%error, "Could not remove the quick checkpoint.");
            }
            None
        }
    }
}

/// `Ok(None)` when the file does not exist; any other failure makes it unusable.
fn read(path: &Path) -> Result<Option<Vec<Record>>, String> {
    match fs::read(path) {
        Ok(bytes) => format::decode(&bytes).map(Some).map_err(|e| e.to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Where an unreadable state file is kept for a post-mortem: `<path>.corrupt-<unix time>`.
/// Shared with the log buffer's spool, so every set-aside file is named alike.
pub(crate) fn aside_path(path: &Path, now_unix: u64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".corrupt-{now_unix}"));
    PathBuf::from(name)
}

fn set_aside(stable: &Path, now_unix: u64, error: &str) -> PathBuf {
    let aside = aside_path(stable, now_unix);
    match fs::rename(stable, &aside) {
        Ok(()) => {
            tracing::error!(path = %stable.display(), kept = %aside.display(), %error,
                "Checkpoint file is unreadable; kept a copy and starting from no checkpoints.");
            aside
        }
        Err(rename_error) => {
            tracing::error!(path = %stable.display(), %error, %rename_error,
                "Checkpoint file is unreadable and could not be moved aside; starting from no checkpoints.");
            stable.to_owned()
        }
    }
}
